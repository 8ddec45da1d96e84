#!/usr/bin/env python3
"""Standalone verifier for ddr ranking releases: Python standard library + `cryptography` only.

    python ddr_verify.py RELEASES_OR_RELEASE_FOLDER --keyring keyring.json [--state FILE | --no-state] [--latest V]

A folder holding release.dsse.json is checked alone (signatures, files, digests). A folder of releases
is checked as a registry: every release, the chain, the keyring's signed history, the signed timestamp
(expiry) and, against a trusted-state file, rollback, removed releases and keyring swaps. Written apart
from ddr on purpose (a second implementation of docs/registry.md); both must agree on every check.
Exit 0: verified; 1: 'FAIL <check>: <detail>'; 2: bad input.
"""
import argparse, base64, binascii, hashlib, json, os, re, sys
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

P = "https://ddr.dev/registry/"
RELEASE_TYPES, TS_TYPE, RING_TYPE = (P + "release/v1", P + "release/v2"), P + "timestamp/v1", P + "keyring/v1"
ENV, TS = "release.dsse.json", "timestamp.dsse.json"
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")


class Fail(Exception):
    pass


def semkey(v):
    m = SEMVER.match(v)
    pre = m.group(4)
    tail = (1,) if pre is None else (0,) + tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return tuple(int(x) for x in m.groups()[:3]) + (tail,)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def fsha(p):
    return sha(Path(p).read_bytes())


def cjson(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64(s, where):
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise Fail(f"malformed envelope: {where} is not valid base64")


def check_keys(keys, where):
    if not isinstance(keys, dict):
        raise Fail(f"keyring swap: {where} holds no keys")
    for kid, e in keys.items():
        try:
            ok = e["scheme"] == "ed25519" and sha(bytes.fromhex(e["public"])) == kid and len(e["public"]) == 64
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise Fail(f"keyring swap: {where}: key {str(kid)[:16]} is not a valid ed25519 key of that id")
    return keys


def open_envelope(env, keys, threshold, where, types):
    """Verify the DSSE envelope's signatures (PAE, Ed25519) and return (statement, valid key ids)."""
    if not isinstance(env, dict) or not isinstance(env.get("signatures"), list):
        raise Fail(f"malformed envelope: {where} is not a DSSE envelope")
    if env.get("payloadType") != "application/vnd.in-toto+json":
        raise Fail(f"malformed envelope: {where} payloadType is {env.get('payloadType')!r}")
    body = b64(env.get("payload"), where)
    t = env["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
    valid, unknown, bad = set(), [], []
    for s in env["signatures"]:
        kid = s.get("keyid") if isinstance(s, dict) else None
        if not isinstance(kid, str):
            raise Fail(f"malformed envelope: {where} has a signature without keyid")
        if kid not in keys:
            unknown.append(kid)
            continue
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(keys[kid]["public"])).verify(b64(s.get("sig"), where), pae)
            valid.add(kid)
        except InvalidSignature:
            bad.append(kid)
    if len(valid) < threshold:
        if bad:
            raise Fail(f"bad signature: {where}: signature by key {bad[0][:16]} does not verify")
        if unknown:
            raise Fail(f"unknown key: {where} is signed by key {unknown[0][:16]}, which the keyring does not trust")
        raise Fail(f"bad signature: {where}: {len(valid)} valid trusted signature(s), threshold is {threshold}")
    try:
        st = json.loads(body)
    except ValueError:
        raise Fail(f"malformed statement: {where} payload is not JSON")
    if not isinstance(st, dict) or st.get("_type") != "https://in-toto.io/Statement/v1" or st.get("predicateType") not in types \
            or not isinstance(st.get("subject"), list) or not isinstance(st.get("predicate"), dict):
        raise Fail(f"malformed statement: {where} is not an in-toto Statement v1 of an expected predicate type")
    return st, valid


def keyring_lineage(ring):
    """[(version, content digest)] from version 1 to the current one; each update signed by the previous."""
    digest = lambda c: sha(cjson({"version": c["version"], "keys": c["keys"], "threshold": c["threshold"]}))
    top = {"version": ring.get("version", 1), "keys": check_keys(ring.get("keys"), "keyring"), "threshold": ring.get("threshold", 1)}
    if top["version"] == 1 and not ring.get("updates") and ring.get("root") is None:
        return [(1, digest(top))]
    cur = ring.get("root") if isinstance(ring.get("root"), dict) else {}
    check_keys(cur.get("keys"), "keyring root")
    if cur.get("version") != 1:
        raise Fail("keyring swap: keyring root is not version 1")
    seen = [(1, digest(cur))]
    for env in ring.get("updates") or []:
        where = f"keyring update to version {cur['version'] + 1}"
        try:
            pred = open_envelope(env, cur["keys"], cur["threshold"], where, (RING_TYPE,))[0]["predicate"]
        except Fail as e:
            raise Fail(f"keyring swap: {str(e).split(': ', 1)[1]} (an update must be signed by a threshold of the previous version's keys)")
        prev = pred.get("previous") if isinstance(pred.get("previous"), dict) else {}
        if pred.get("version") != cur["version"] + 1 or (prev.get("digest") or {}).get("sha256") != seen[-1][1]:
            raise Fail(f"keyring swap: {where} does not name version {cur['version']} as its predecessor")
        cur = {"version": pred["version"], "keys": check_keys(pred.get("keys"), where), "threshold": pred.get("threshold")}
        seen.append((cur["version"], digest(cur)))
    if digest(top) != seen[-1][1]:
        raise Fail(f"keyring swap: the keyring's keys are not those of its last signed update (version {seen[-1][0]})")
    return seen


def files_under(root):
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def subjects_of(folder):
    try:
        st = json.loads(base64.b64decode(json.loads((folder / ENV).read_text())["payload"]))
        return {s["name"]: s["digest"]["sha256"] for s in st["subject"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def verify_release(d, ring):
    v, envp = d.name, d / ENV
    if not envp.is_file():
        raise Fail(f"missing file: {v}/{ENV}")
    try:
        env = json.loads(envp.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise Fail(f"malformed envelope: {v}/{ENV} is not JSON")
    st, signers = open_envelope(env, ring["keys"], ring.get("threshold", 1), f"{v}/{ENV}", RELEASE_TYPES)
    if st["predicate"].get("version") != v:
        raise Fail(f"version mismatch: folder {v} holds an envelope signed for release {st['predicate'].get('version')!r} (a replayed or renamed release)")
    subj = {}
    for s in st["subject"]:
        name, dig = (s.get("name"), (s.get("digest") or {}).get("sha256")) if isinstance(s, dict) else (None, None)
        if not isinstance(name, str) or not isinstance(dig, str) or name in subj:
            raise Fail(f"malformed statement: {v}: subject {s!r} is invalid or repeated")
        if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts or name == ENV:
            raise Fail(f"malformed statement: {v}: subject name {name!r} is not allowed")
        subj[name] = dig
    disk = files_under(d) - {ENV}
    for name in sorted(set(subj) - disk):
        raise Fail(f"missing file: {v}/{name}")
    for name in sorted(disk - set(subj)):
        raise Fail(f"extra file: {v}/{name}")
    for name in sorted(subj):
        if (d / name).is_symlink() or not (d / name).is_file():
            raise Fail(f"digest mismatch: {v}/{name} is not a regular file")
        got = fsha(d / name)
        if got != subj[name]:
            other = [o.name for o in sorted(d.parent.iterdir()) if o != d and subjects_of(o).get(name) == got]
            if other:
                raise Fail(f"mix-and-match: {v}/{name} is the file of release {other[0]}, not the one {v}'s statement signs")
            raise Fail(f"digest mismatch: {v}/{name}")
    return st


def verify_registry(root, ring, seen, latest=None):
    """Verify the chain and freshness; return the new trusted-state entry."""
    versions = sorted((p.name for p in root.iterdir() if p.is_dir() and SEMVER.match(p.name)), key=semkey)
    if not versions:
        raise Fail(f"missing file: no releases in {root}")
    if latest and versions[-1] != latest:
        raise Fail(f"chain broken at {latest}: the newest release in {root} is {versions[-1]}, expected {latest}")
    types = set()
    for i, v in enumerate(versions):
        st = verify_release(root / v, ring)
        types.add(st["predicateType"])
        prev = st["predicate"].get("previous")
        if i == 0 and prev is not None:
            raise Fail(f"chain broken at {v}: it names previous release {prev.get('version')!r}, which is not in {root}")
        if i > 0 and (not isinstance(prev, dict) or prev.get("version") != versions[i - 1]):
            raise Fail(f"chain broken at {v}: it names previous release {prev.get('version') if isinstance(prev, dict) else None!r}, but the release before it is {versions[i - 1]}")
        if i > 0 and (prev.get("digest") or {}).get("sha256") != fsha(root / versions[i - 1] / ENV):
            raise Fail(f"chain broken at {v}: the envelope digest of previous release {versions[i - 1]} does not match")
    newest, head_env = versions[-1], fsha(root / versions[-1] / ENV)
    sh, sts, ts = seen.get("head") or {}, seen.get("timestamp") or {}, None
    if (root / TS).exists():
        try:
            st = open_envelope(json.loads((root / TS).read_text()), ring["keys"], ring.get("threshold", 1), TS, (TS_TYPE,))[0]
        except ValueError:
            raise Fail(f"malformed envelope: {TS} is not JSON")
        ts, sub = st["predicate"], st["subject"]
        try:
            exp = datetime.strptime(ts["expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            assert isinstance(ts["counter"], int) and len(sub) == 1 and sub[0]["name"] == f"{ts['head']}/{ENV}" and SEMVER.match(ts["head"])
        except (KeyError, TypeError, ValueError, AssertionError):
            raise Fail(f"malformed statement: {TS} does not name one head release envelope")
        if sts.get("counter") is not None and ts["counter"] < sts["counter"]:
            raise Fail(f"rollback: {TS} is #{ts['counter']} (head {ts['head']}), older than #{sts['counter']} already seen")
        if sh.get("version") and semkey(ts["head"]) < semkey(sh["version"]):
            raise Fail(f"rollback: {TS} names head {ts['head']}, older than {sh['version']} already seen")
        if exp <= datetime.now(timezone.utc):
            raise Fail(f"freeze: {TS} (head {ts['head']}) expired at {ts['expires']}")
        if ts["head"] not in versions:
            raise Fail(f"removed release: {TS} names head {ts['head']}, which is not in {root} (newest there: {newest})")
        if ts["head"] != newest:
            raise Fail(f"mix-and-match: {TS} names head {ts['head']}, but {root} holds the newer release {newest}")
        if (sub[0].get("digest") or {}).get("sha256") != head_env:
            raise Fail(f"mix-and-match: {TS} for {newest} names another envelope than {newest}/{ENV}")
    if sh.get("version"):
        if sh["version"] not in versions and semkey(sh["version"]) > semkey(newest):
            raise Fail(f"removed release: {sh['version']} was the newest release seen; the newest in {root} is now {newest}")
        if sh["version"] in versions and sh.get("envelope") != fsha(root / sh["version"] / ENV):
            raise Fail(f"chain broken at {sh['version']}: its envelope differs from the one verified before")
    if ts is None and (RELEASE_TYPES[1] in types or sts):
        raise Fail(f"freeze: {TS} is missing from {root}")
    entry = {"head": {"version": newest, "envelope": head_env}}
    if ts is not None:
        entry["timestamp"] = {"counter": ts["counter"], "issued_at": ts.get("issued_at"), "expires": ts["expires"]}
    return entry, versions


def save(a, state_path, state, key, entry):
    if not a.no_state:
        state["keyrings"][key] = entry
        state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = state_path.with_name(f".{state_path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, state_path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--keyring", required=True, type=Path)
    ap.add_argument("--state", type=Path, default=None, help="trusted-state file (default $DDR_STATE or ~/.local/state/ddr/verifier-state.json)")
    ap.add_argument("--no-state", action="store_true")
    ap.add_argument("--latest", default=None)
    a = ap.parse_args(argv)
    state_path = a.state or Path(os.environ.get("DDR_STATE") or Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local/state") / "ddr/verifier-state.json")
    try:
        ring = json.loads(a.keyring.read_text(encoding="utf-8"))
        state = {"schema": "ddr.verifier-state/v1", "keyrings": {}} if a.no_state or not state_path.exists() else json.loads(state_path.read_text())
        assert isinstance(ring, dict) and isinstance(state.get("keyrings"), dict) and a.path.is_dir()
    except (OSError, ValueError, AssertionError, AttributeError) as e:
        print(f"error: cannot read {a.keyring}, {a.path} or the state file {state_path}: {e}", file=sys.stderr)
        return 2
    key = str(a.keyring.resolve())
    seen = state["keyrings"].get(key, {})
    try:
        lineage = keyring_lineage(ring)
        pin = seen.get("keyring")
        if pin and (pin.get("version"), pin.get("digest")) not in lineage:
            raise Fail(f"keyring swap: the keyring (version {lineage[-1][0]}) does not descend, by signed updates, from version {pin.get('version')} seen before")
        seen["keyring"] = {"version": lineage[-1][0], "digest": lineage[-1][1]}  # kept even if the releases fail
        save(a, state_path, state, key, seen)
        if (a.path / ENV).exists():
            verify_release(a.path, ring)
            print(f"OK: release {a.path.name} verified")
            return 0
        entry, versions = verify_registry(a.path, ring, seen, a.latest)
    except Fail as e:
        print(f"FAIL {e}")
        return 1
    save(a, state_path, state, key, dict(entry, keyring=seen["keyring"]))
    print(f"OK: {len(versions)} release(s) verified, chain intact, head {versions[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
