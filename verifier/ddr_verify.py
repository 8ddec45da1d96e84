#!/usr/bin/env python3
"""Standalone verifier for ddr ranking releases: Python standard library + `cryptography` only.
    python ddr_verify.py RELEASES_OR_ONE_RELEASE --keyring keyring.json [--state FILE | --no-state]
One release: signatures, files, digests. A folder of releases: also the chain, the keyring's signed history, the
timestamp's expiry and, against a trusted-state file, rollback, removed releases, keyring swaps. Exit 0: verified;
1: 'FAIL <check>: <detail>'; 2: bad input. Apart from ddr on purpose: tests/registry/test_conformance.py checks both.
"""
import argparse, base64, binascii, hashlib, json, os, re, sys
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

P = "https://ddr.dev/registry/"
RELEASE_TYPES, TS_TYPE, RING_TYPE = (P + "release/v1", P + "release/v2"), P + "timestamp/v1", P + "keyring/v1"
ENV, TS, STATE = "release.dsse.json", "timestamp.dsse.json", "ddr.verifier-state/v1"
# the registry's semver (registry/util.py): core + optional pre-release, no leading zeros, no build metadata
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$")
RAW_HEX = re.compile(r"[0-9a-fA-F]{64}")
sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
fsha = lambda p: sha(Path(p).read_bytes())  # noqa: E731
cjson = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()  # noqa: E731

class Fail(Exception):  # a failed check, exit 1
    pass

class Bad(Exception):  # bad input, exit 2: a keyring or state file of another shape, a state that cannot be written
    pass

def bad(ok, msg, err=Bad):
    if not ok:
        raise err(msg)

def posint(x):
    return isinstance(x, int) and not isinstance(x, bool) and x >= 1

def check_ring(d, where, versioned=True, err=Bad):
    """A keyring version's rules, as registry/keyring.py check_content: keys id -> {public: 64 hex digits (raw
    key), scheme: ed25519}, each id the sha256 of its key; threshold a positive integer (1 if absent, unversioned)."""
    bad(isinstance(d, dict) and isinstance(d.get("keys"), dict), f"{where} has no 'keys' mapping", err)
    bad(posint(d.get("threshold", None if versioned else 1)), f"{where}: threshold must be a positive integer; got {d.get('threshold')!r}", err)
    for kid, e in d["keys"].items():
        pub = e.get("public") if isinstance(e, dict) and e.get("scheme") == "ed25519" else None
        bad(isinstance(pub, str) and RAW_HEX.fullmatch(pub), f"{where}: key {str(kid)[:16]}: not scheme ed25519 with a public key of 64 hex digits", err)
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub))
        except ValueError:
            raise err(f"{where}: key {str(kid)[:16]} is not a valid Ed25519 public key")
        bad(sha(bytes.fromhex(pub)) == kid, f"{where}: key id {str(kid)[:16]} is not the sha256 of its public key", err)

def check_state(state, where):
    """Every entry of the trusted state has the shape save() writes (as registry/trust_state.py checks)."""
    bad(isinstance(state, dict) and state.get("schema") == STATE and isinstance(state.get("keyrings"), dict), f"{where} is not a {STATE} file")
    for ring, entry in state["keyrings"].items():
        w = f"{where}: the entry of keyring {ring}"
        bad(isinstance(entry, dict), f"{w} is not a mapping")
        for part, fields in (("keyring", (("version", int), ("digest", str))), ("head", (("version", str), ("envelope", str))),
                             ("timestamp", (("counter", int), ("issued_at", str), ("expires", str)))):
            bad(isinstance(entry.get(part) or {}, dict), f"{w}: '{part}' is not a mapping")
            for name, v, kind in ((n, (entry.get(part) or {}).get(n), k) for n, k in fields):
                bad(v is None or (isinstance(v, kind) and not isinstance(v, bool)), f"{w}: '{part}.{name}' is not a {kind.__name__}")
        bad(SEMVER.match((entry.get("head") or {}).get("version") or "0.0.0"), f"{w}: 'head.version' is not a semantic version")

def check_writable(path, what):
    parent = next(q for q in path.parents if q.exists())
    bad(not path.exists() or (path.is_file() and os.access(path, os.W_OK)), f"{what} {path} is not a writable file")
    bad(parent.is_dir() and os.access(parent, os.W_OK | os.X_OK), f"{what} {path} cannot be written: {parent} is not a writable folder")

def need(ok, msg):
    if not ok:
        raise Fail(msg)

def semkey(v):
    m = SEMVER.match(v)
    pre = () if m.group(4) is None else tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in m.group(4).split("."))
    return tuple(int(x) for x in m.groups()[:3]) + (((0,) + pre) if pre else (1,),)

def load(path, what, decode=None):
    try:
        return json.loads(decode(path) if decode else path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, binascii.Error, TypeError):
        raise Fail(f"malformed {what}: {path.name} is not JSON")

def open_envelope(env, keys, threshold, where, types):
    """Verify a DSSE envelope's Ed25519 signatures over PAE; return its in-toto statement."""
    need(isinstance(env, dict) and isinstance(env.get("signatures"), list), f"malformed envelope: {where} is not DSSE")
    need(env.get("payloadType") == "application/vnd.in-toto+json", f"malformed envelope: {where} has another payloadType")
    try:
        body = base64.b64decode(env["payload"], validate=True)
        sigs = [(s["keyid"] + "", base64.b64decode(s["sig"], validate=True)) for s in env["signatures"]]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise Fail(f"malformed envelope: {where} holds invalid base64 or a signature without keyid")
    t = env["payloadType"].encode()
    pae, valid = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body), set()
    unknown = [k for k, _ in sigs if not isinstance(keys, dict) or k not in keys]
    for kid, sig in [(k, s) for k, s in sigs if k not in unknown]:
        try:  # a key counts only under its own id, the sha256 of the raw public key
            if sha(pub := bytes.fromhex(keys[kid]["public"])) == kid and keys[kid]["scheme"] == "ed25519":
                Ed25519PublicKey.from_public_bytes(pub).verify(sig, pae)
                valid.add(kid)
        except (InvalidSignature, ValueError, KeyError, TypeError):
            pass
    bad = [k for k, _ in sigs if k not in unknown and k not in valid]
    if len(valid) < threshold:
        need(not bad, f"bad signature: {where}: signature by key {bad[0][:16] if bad else ''} does not verify")
        need(not unknown, f"unknown key: {where} is signed by key {unknown[0][:16] if unknown else ''}, which the keyring does not trust")
        raise Fail(f"bad signature: {where}: {len(valid)} valid trusted signature(s), threshold is {threshold}")
    st = load(Path(where), "statement", lambda _: body)
    need(isinstance(st, dict) and st.get("_type") == "https://in-toto.io/Statement/v1" and st.get("predicateType") in types
         and isinstance(st.get("subject"), list) and isinstance(st.get("predicate"), dict),
         f"malformed statement: {where} is not an in-toto Statement v1 of an expected predicate type")
    return st

def keyring_lineage(ring):
    """[(version, content digest)] from version 1 to now; each update signed by a threshold of the one before."""
    digest = lambda c: sha(cjson({k: c[k] for k in ("version", "keys", "threshold")}))  # noqa: E731
    top = {"version": ring.get("version", 1), "keys": ring.get("keys"), "threshold": ring.get("threshold", 1)}
    plain = top["version"] == 1 and not ring.get("updates") and ring.get("root") is None  # never updated
    cur = top if plain else ring["root"] if isinstance(ring.get("root"), dict) else {}
    need(cur.get("version") == 1 and isinstance(cur.get("keys"), dict), "keyring swap: no version 1 root")
    check_ring(cur, "keyring swap: keyring root", err=Fail)
    seen = [(1, digest(cur))]
    for env in ring.get("updates") or []:
        where = f"keyring update to version {cur['version'] + 1}"
        try:
            pred = open_envelope(env, cur["keys"], cur["threshold"], where, (RING_TYPE,))["predicate"]
        except Fail as e:
            raise Fail(f"keyring swap: {str(e).split(': ', 1)[1]} (not signed by the previous version's keys)")
        check_ring(pred, f"keyring swap: {where}", err=Fail)
        prev = pred.get("previous") if isinstance(pred.get("previous"), dict) else {}
        need(pred.get("version") == cur["version"] + 1 and (prev.get("digest") or {}).get("sha256") == seen[-1][1],
             f"keyring swap: {where} does not name version {cur['version']} as its predecessor")
        cur = {"version": pred["version"], "keys": pred.get("keys"), "threshold": pred.get("threshold")}
        seen.append((cur["version"], digest(cur)))
    need(digest(top) == seen[-1][1], "keyring swap: the keyring's keys are not those of its last signed update")
    return seen

def subjects_of(folder):
    try:
        return {s["name"]: s["digest"]["sha256"] for s in load(folder / ENV, "x", lambda p: base64.b64decode(json.loads(p.read_bytes())["payload"]))["subject"]}
    except (Fail, OSError, KeyError, TypeError):
        return {}

def verify_release(d, ring):
    v = d.name
    need((d / ENV).is_file(), f"missing file: {v}/{ENV}")
    st = open_envelope(load(d / ENV, "envelope"), ring["keys"], ring.get("threshold", 1), f"{v}/{ENV}", RELEASE_TYPES)
    need(st["predicate"].get("version") == v, f"version mismatch: folder {v} holds the release {st['predicate'].get('version')!r}")
    subj = {}
    for s in st["subject"]:
        name, dig = (s.get("name"), (s.get("digest") or {}).get("sha256")) if isinstance(s, dict) else (None, None)
        need(isinstance(name, str) and isinstance(dig, str) and name not in subj,
             f"malformed statement: {v}: subject {s!r} is invalid or repeated")
        need(not PurePosixPath(name).is_absolute() and ".." not in PurePosixPath(name).parts and name != ENV,
             f"malformed statement: {v}: subject name {name!r} is not allowed")
        subj[name] = dig
    disk = {p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file() or p.is_symlink()} - {ENV}
    for kind, names in (("missing file", set(subj) - disk), ("extra file", disk - set(subj))):
        need(not names, f"{kind}: {v}/{min(names or [''])}")
    for name in sorted(subj):
        need(not (d / name).is_symlink() and (d / name).is_file(), f"digest mismatch: {v}/{name} is not a regular file")
        if fsha(d / name) != subj[name]:
            other = [o.name for o in sorted(d.parent.iterdir()) if o != d and subjects_of(o).get(name) == fsha(d / name)]
            raise Fail(f"mix-and-match: {v}/{name} is the file of release {other[0]}" if other else f"digest mismatch: {v}/{name}")
    return st

def verify_registry(root, ring, seen):
    """Verify the chain, the timestamp and what was seen before; return (new state entry, versions)."""
    versions = sorted((p.name for p in root.iterdir() if p.is_dir() and SEMVER.match(p.name)), key=semkey)
    stray = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                   and not SEMVER.match(p.name) and (p / ENV).exists())
    need(not stray, f"extra file: {stray[0] if stray else ''}/{ENV}: a release folder whose name is not a semantic version")
    need(versions, f"missing file: no releases in {root}")
    types = set()
    for i, v in enumerate(versions):
        types.add((st := verify_release(root / v, ring))["predicateType"])
        prev = st["predicate"].get("previous")
        want = i and {"version": versions[i - 1], "sha256": fsha(root / versions[i - 1] / ENV)} or None
        got = {"version": prev.get("version"), "sha256": (prev.get("digest") or {}).get("sha256")} if isinstance(prev, dict) else prev
        need(got == want, f"chain broken at {v}: its previous release is not {want and want['version']} with that envelope")
    newest, head_env = versions[-1], fsha(root / versions[-1] / ENV)
    sh, sts, ts = seen.get("head") or {}, seen.get("timestamp") or {}, None
    if (root / TS).exists():
        st = open_envelope(load(root / TS, "envelope"), ring["keys"], ring.get("threshold", 1), TS, (TS_TYPE,))
        try:
            ts, sub = st["predicate"], st["subject"]
            exp = datetime.strptime(ts["expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            assert isinstance(ts["counter"], int) and SEMVER.match(ts["head"]) and [s["name"] for s in sub] == [f"{ts['head']}/{ENV}"]
        except (KeyError, TypeError, ValueError, AssertionError):
            raise Fail(f"malformed statement: {TS} does not name one head release envelope")
        need(ts["counter"] >= sts.get("counter", 0) and (not sh.get("version") or semkey(ts["head"]) >= semkey(sh["version"])),
             f"rollback: {TS} #{ts['counter']} (head {ts['head']}) is older than #{sts.get('counter')} (head {sh.get('version')}) seen")
        need(exp > datetime.now(timezone.utc), f"freeze: {TS} (head {ts['head']}) expired at {ts['expires']}")
        need(ts["head"] in versions, f"removed release: {TS} names head {ts['head']}, which is not in {root}")
        need(ts["head"] == newest and (sub[0].get("digest") or {}).get("sha256") == head_env,
             f"mix-and-match: {TS} names head {ts['head']} and another envelope than {newest}/{ENV}")
    need(not sh.get("version") or sh["version"] in versions or semkey(sh["version"]) < semkey(newest),
         f"removed release: {sh.get('version')} was the newest release seen; the newest now is {newest}")
    need(sh.get("version") not in versions or sh.get("envelope") == fsha(root / sh["version"] / ENV),
         f"chain broken at {sh.get('version')}: its envelope differs from the one verified before")
    need(ts is not None or (RELEASE_TYPES[1] not in types and not sts), f"freeze: {TS} is missing from {root}")
    stamp = {"timestamp": {k: ts.get(k) for k in ("counter", "issued_at", "expires")}} if ts else {}
    return dict(stamp, head={"version": newest, "envelope": head_env}), versions

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--keyring", required=True, type=Path)
    ap.add_argument("--state", type=Path, help="trusted state (default $DDR_STATE, ~/.local/state/ddr/verifier-state.json)")
    ap.add_argument("--no-state", action="store_true")
    a = ap.parse_args(argv)
    state_path = a.state or Path(os.environ.get("DDR_STATE") or Path(os.environ.get("XDG_STATE_HOME") or
                                                                   Path.home() / ".local/state") / "ddr/verifier-state.json")
    try:
        return run(a, state_path)
    except Bad as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Fail as e:
        print(f"FAIL {e}")
        return 1

def run(a, state_path):
    try:
        ring = json.loads(a.keyring.read_text(encoding="utf-8"))
        state = json.loads(state_path.read_text()) if state_path.exists() and not a.no_state else {"schema": STATE, "keyrings": {}}
    except (OSError, ValueError) as e:
        raise Bad(f"cannot read {a.keyring} or the state file {state_path} ({e})")
    bad(a.path.is_dir(), f"{a.path} is not a folder")
    check_ring(ring, f"keyring {a.keyring}", versioned=False)
    bad(posint(ring.get("version", 1)) and isinstance(ring.get("updates", []), list) and isinstance(ring.get("root"), (dict, type(None))),
        f"keyring {a.keyring}: version must be a positive integer, 'updates' a list and 'root' a mapping")
    if not a.no_state:
        check_state(state, f"verifier state {state_path}")
        check_writable(state_path, "verifier state")
    key = str(a.keyring.resolve())
    def save(entry):  # atomically, so a crash leaves the previous state
        if not a.no_state:
            state.update(schema=STATE, keyrings=dict(state["keyrings"], **{key: entry}))
            tmp = state_path.with_name(f".{state_path.name}.tmp-{os.getpid()}")
            try:
                state_path.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
                os.replace(tmp, state_path)
            except OSError as e:
                tmp.unlink(missing_ok=True)
                raise Bad(f"verifier state {state_path}: cannot write it ({e.strerror})")
    seen = state["keyrings"].get(key, {})
    lineage, pin = keyring_lineage(ring), seen.get("keyring")
    need(not pin or (pin.get("version"), pin.get("digest")) in lineage, f"keyring swap: the keyring (version "
         f"{lineage[-1][0]}) does not descend, by signed updates, from version {(pin or {}).get('version')} seen before")
    seen["keyring"] = {"version": lineage[-1][0], "digest": lineage[-1][1]}  # kept even if the releases fail
    save(seen)
    if (a.path / ENV).exists():
        verify_release(a.path, ring)
        print(f"OK: release {a.path.name} verified")
        return 0
    entry, versions = verify_registry(a.path, ring, seen)
    save(dict(entry, keyring=seen["keyring"]))
    print(f"OK: {len(versions)} release(s) verified, chain intact, head {versions[-1]}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
