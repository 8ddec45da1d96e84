"""Black-box conformance: the same tamper cases against both verifiers (`ddr registry verify` and
the standalone verifier/ddr_verify.py), judged only by exit status and the `FAIL <check>` line.

Each case gets a fresh copy of one registry (1.0.0 -> 1.1.0 -> 2.0.0, signed timestamp, keyring);
cases marked `primed` first let the verifier see the genuine registry (its trusted state), as a
real verifier that checked yesterday would have.

Both verifiers follow one rule-set: the corpus also holds keyring, threshold, key-format, trust-state and
folder-name cases, where the verdict is a refusal of the input (exit 2, one line, state untouched), a
named failure (exit 1) or acceptance (exit 0); test_both_verifiers_agree requires the same verdict from
both on every case of the corpus.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from registry import ENVELOPE_NAME, TIMESTAMP_NAME
from registry.freshness import write_timestamp
from registry.keyring import Keyring, generate_key
from registry.keyring_updates import sign_update
from registry.ranking import load_results
from registry.release import publish
from registry.signing import sign_statement
from tests.registry.helpers import DEFAULT_METHODS, invoke, write_results

STANDALONE = Path(__file__).resolve().parents[2] / "verifier" / "ddr_verify.py"


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    """One registry, built once: keys/, releases/ and a snapshot of releases/ taken at 1.1.0."""
    root = tmp_path_factory.mktemp("genuine")
    key, _ = generate_key(root / "keys" / "maint.key")
    ring = Keyring(path=root / "keys" / "keyring.json")
    ring.add(key.public_key(), "maint")
    ring.save()
    rel = root / "releases"
    m = dict(DEFAULT_METHODS)
    for v, methods in (("1.0.0", m), ("1.1.0", dict(m, kcenter=(0.895, 0.80))), ("2.0.0", dict(m, idc=(0.93, 0.8)))):
        publish(load_results([write_results(root / f"res-{v}", methods)]), rel, v, [key], keyring=ring,
                resamples=50, repo=root)
        if v == "1.1.0":
            shutil.copytree(rel, root / "snapshot-1.1.0")
    return root


class Ctx:
    def __init__(self, root: Path, verifier: str):
        self.root, self.verifier = root, verifier
        self.rel, self.ring_path, self.state = root / "releases", root / "keys" / "keyring.json", root / "state.json"
        self.key_path = root / "keys" / "maint.key"

    @property
    def key(self):
        from registry.keyring import load_private_key

        return load_private_key(self.key_path)

    def verify(self, whole: bool = False):
        """(exit status, first line of output) of the verifier under test (whole: all of its output)."""
        if self.verifier == "ddr":
            code, out = invoke("verify", "--releases", self.rel, "--keyring", self.ring_path, "--state", self.state)
        else:
            p = subprocess.run([sys.executable, str(STANDALONE), str(self.rel), "--keyring", str(self.ring_path),
                                "--state", str(self.state)], capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, PYTHONPATH=""))
            code, out = p.returncode, p.stdout + p.stderr
        if whole:
            return code, out
        return code, (out.strip().splitlines() or [""])[0] if code else out

    def envelope(self, v):
        return json.loads((self.rel / v / ENVELOPE_NAME).read_text())

    def statement(self, v):
        return json.loads(base64.b64decode(self.envelope(v)["payload"]))

    def write_envelope(self, v, env):
        (self.rel / v / ENVELOPE_NAME).write_text(json.dumps(env))


def _flip(path: Path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def byte_change(c):
    _flip(c.rel / "1.1.0" / "ranking.json")
    return "digest mismatch"


def swapped_signature(c):
    env = c.envelope("1.1.0")
    env["signatures"] = c.envelope("1.0.0")["signatures"]
    c.write_envelope("1.1.0", env)
    return "bad signature"


def untrusted_key(c):
    stranger, _ = generate_key(c.root / "stranger.key")
    c.write_envelope("1.1.0", sign_statement(c.statement("1.1.0"), [stranger]))
    return "unknown key"


def removed_release(c):
    shutil.rmtree(c.rel / "1.1.0")
    return "chain broken at 2.0.0"


def reordered_chain(c):
    (c.rel / "1.1.0").rename(c.rel / "tmp")
    (c.rel / "2.0.0").rename(c.rel / "1.1.0")
    (c.rel / "tmp").rename(c.rel / "2.0.0")
    return "version mismatch"


def replayed_envelope(c):
    shutil.copy(c.rel / "1.0.0" / ENVELOPE_NAME, c.rel / "1.1.0" / ENVELOPE_NAME)
    return "version mismatch"


def extra_file(c):
    (c.rel / "1.1.0" / "results" / "evil.json").write_text("{}")
    return "extra file"


def missing_file(c):
    (c.rel / "1.1.0" / "ranking.csv").unlink()
    return "missing file"


def _resign_with_subject(c, name):
    """A statement signed by the genuine key that names a file outside the release."""
    stmt = c.statement("2.0.0")
    stmt["subject"].append({"name": name, "digest": {"sha256": "0" * 64}})
    c.write_envelope("2.0.0", sign_statement(stmt, [c.key]))
    return "malformed statement"


def path_traversal(c):
    return _resign_with_subject(c, "../1.1.0/ranking.json")


def absolute_subject(c):
    return _resign_with_subject(c, "/etc/passwd")


def symlink(c):
    """A symlink to a file with the very same bytes: the content matches, it still must not pass."""
    target = c.root / "outside.csv"
    shutil.copy(c.rel / "1.1.0" / "ranking.csv", target)
    (c.rel / "1.1.0" / "ranking.csv").unlink()
    (c.rel / "1.1.0" / "ranking.csv").symlink_to(target)
    return "digest mismatch"


def symlinked_extra_dir(c):
    (c.rel / "1.1.0" / "more").symlink_to(c.root / "keys")
    return "extra file"


def rollback(c):
    shutil.rmtree(c.rel)
    shutil.copytree(c.root / "snapshot-1.1.0", c.rel)  # an old, validly signed registry, old timestamp and all
    return "rollback"


rollback.primed = True


def removed_newest(c):
    shutil.rmtree(c.rel / "2.0.0")  # the timestamp still names 2.0.0
    return "removed release"


def removed_newest_and_timestamp(c):
    shutil.rmtree(c.rel / "2.0.0")
    (c.rel / TIMESTAMP_NAME).unlink()
    return "removed release"


removed_newest_and_timestamp.primed = True


def freeze(c):
    write_timestamp(c.rel, "2.0.0", [c.key], now=datetime.now(timezone.utc) - timedelta(days=40), expires_days=30)
    return "freeze"


def timestamp_stripped(c):
    (c.rel / TIMESTAMP_NAME).unlink()  # format-2 releases require one, even for a verifier with no state
    return "freeze"


def mix_and_match_files(c):
    shutil.copy(c.rel / "1.0.0" / "ranking.json", c.rel / "1.1.0" / "ranking.json")
    return "mix-and-match"


def mix_and_match_timestamp(c):
    write_timestamp(c.rel, "1.1.0", [c.key])  # a genuine timestamp, but for an older head
    return "mix-and-match"


def keyring_swap(c):
    attacker, _ = generate_key(c.root / "attacker.key")
    ring = Keyring(path=c.ring_path)
    ring.add(attacker.public_key(), "maint")
    ring.save()
    return "keyring swap"


keyring_swap.primed = True


def keyring_forged_update(c):
    """The genuine history plus an update signed by a key the previous version does not list."""
    attacker, _ = generate_key(c.root / "attacker.key")
    ring = Keyring.load(c.ring_path)
    fake = Keyring(dict(ring.keys), 1, version=1)
    fake.add(attacker.public_key(), "attacker")
    forged = sign_update(fake, fake.keys, 1, [attacker])
    forged.root, forged.path = ring.content(), c.ring_path
    forged.save()
    return "keyring swap"


def _edit_ring(c, change):
    d = json.loads(c.ring_path.read_text())
    change(d)
    c.ring_path.write_text(json.dumps(d))


def _first_key(d):
    return next(iter(d["keys"].values()))


REFUSED = "refused"  # bad input: exit 2, one line on stderr, nothing written


def threshold_zero_unsigned_release(c):
    """Threshold 0 would let a release with no signature at all pass: the keyring is refused instead."""
    _edit_ring(c, lambda d: d.update(threshold=0))
    env = c.envelope("2.0.0")
    env["signatures"] = []
    c.write_envelope("2.0.0", env)
    return REFUSED


def threshold_negative_forged_release(c):
    _edit_ring(c, lambda d: d.update(threshold=-1))
    stranger, _ = generate_key(c.root / "stranger.key")
    c.write_envelope("2.0.0", sign_statement(c.statement("2.0.0"), [stranger]))
    return REFUSED


def threshold_string(c):
    _edit_ring(c, lambda d: d.update(threshold="1"))
    return REFUSED


def threshold_null(c):
    _edit_ring(c, lambda d: d.update(threshold=None))
    return REFUSED


def threshold_true(c):
    _edit_ring(c, lambda d: d.update(threshold=True))
    return REFUSED


def threshold_above_keys(c):
    _edit_ring(c, lambda d: d.update(threshold=2))
    return "bad signature"


def pem_key_entry(c):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    def to_pem(d):
        e = _first_key(d)
        pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(e["public"]))
        e["public"] = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    _edit_ring(c, to_pem)
    return REFUSED


def key_entry_not_a_mapping(c):
    _edit_ring(c, lambda d: d["keys"].update({k: "x" for k in d["keys"]}))
    return REFUSED


def key_id_not_its_key(c):
    _edit_ring(c, lambda d: d.update(keys={"0" * 64: _first_key(d)}))
    return REFUSED


def key_scheme_other(c):
    _edit_ring(c, lambda d: _first_key(d).update(scheme="rsa"))
    return REFUSED


def keyring_not_a_mapping(c):
    c.ring_path.write_text("[1, 2]")
    return REFUSED


def uppercase_hex_key(c):
    _edit_ring(c, lambda d: _first_key(d).update(public=_first_key(d)["public"].upper()))
    return None  # the same raw key, written in capitals: accepted by both


def _state(c, entry):
    c.state.write_text(json.dumps({"schema": "ddr.verifier-state/v1", "keyrings": {str(c.ring_path.resolve()): entry}}))


def state_entry_not_a_mapping(c):
    _state(c, "x")
    return REFUSED


def state_head_version_not_text(c):
    _state(c, {"head": {"version": 5, "envelope": "0" * 64}})
    return REFUSED


def state_timestamp_counter_not_int(c):
    _state(c, {"timestamp": {"counter": "3"}})
    return REFUSED


def state_under_a_file(c):
    (c.root / "a-file").write_text("")
    c.state = c.root / "a-file" / "state.json"
    return REFUSED


def release_under_non_semver_name(c):
    shutil.copytree(c.rel / "2.0.0", c.rel / "v2.0.0")
    return "extra file"


def release_under_leading_zero_prerelease(c):
    shutil.copytree(c.rel / "1.0.0", c.rel / "2.0.0-01")  # semver forbids the leading zero: not a version
    return "extra file"


def forged_release_under_non_semver_name(c):
    stranger, _ = generate_key(c.root / "stranger.key")
    shutil.copytree(c.rel / "2.0.0", c.rel / "latest")
    (c.rel / "latest" / ENVELOPE_NAME).write_text(json.dumps(sign_statement(c.statement("2.0.0"), [stranger])))
    return "extra file"


def non_semver_folder_without_release(c):
    (c.rel / "notes").mkdir()
    (c.rel / "notes" / "README.txt").write_text("not a release")
    return None


RULE_CASES = [threshold_zero_unsigned_release, threshold_negative_forged_release, threshold_string, threshold_null,
              threshold_true, threshold_above_keys, pem_key_entry, key_entry_not_a_mapping, key_id_not_its_key,
              key_scheme_other, keyring_not_a_mapping, uppercase_hex_key, state_entry_not_a_mapping,
              state_head_version_not_text, state_timestamp_counter_not_int, state_under_a_file,
              release_under_non_semver_name, release_under_leading_zero_prerelease,
              forged_release_under_non_semver_name, non_semver_folder_without_release]


CASES = [byte_change, swapped_signature, untrusted_key, removed_release, reordered_chain, replayed_envelope,
         extra_file, missing_file, path_traversal, absolute_subject, symlink, symlinked_extra_dir, rollback,
         removed_newest, removed_newest_and_timestamp, freeze, timestamp_stripped, mix_and_match_files,
         mix_and_match_timestamp, keyring_swap, keyring_forged_update]


@pytest.fixture(params=["ddr", "standalone"])
def ctx(request, genuine, tmp_path):
    shutil.copytree(genuine / "releases", tmp_path / "releases", symlinks=True)
    shutil.copytree(genuine / "keys", tmp_path / "keys")
    shutil.copytree(genuine / "snapshot-1.1.0", tmp_path / "snapshot-1.1.0")
    return Ctx(tmp_path, request.param)


def test_genuine_registry_verifies(ctx):
    code, out = ctx.verify()
    assert code == 0, out
    assert "3 release(s) verified, chain intact" in out
    state = json.loads(ctx.state.read_text())["keyrings"][str(ctx.ring_path.resolve())]
    assert state["head"]["version"] == "2.0.0" and state["timestamp"]["counter"] == 3
    assert ctx.verify()[0] == 0  # verifying again against its own state still passes


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_tamper_is_caught(ctx, case):
    if getattr(case, "primed", False):
        assert ctx.verify()[0] == 0
    expected = case(ctx)
    code, line = ctx.verify()
    assert code == 1, f"{case.__name__} went undetected: {line}"
    assert line.startswith(f"FAIL {expected}: "), line


def test_signed_keyring_update_accepted_and_revocation(ctx):
    """Rotation: version 2 adds key B (signed by A), version 3 revokes A (signed by B). A verifier
    that pinned version 1 accepts both; releases signed only by A then fail with unknown key."""
    assert ctx.verify()[0] == 0
    ring = Keyring.load(ctx.ring_path)
    b, b_id = generate_key(ctx.root / "keys" / "b.key")
    draft = Keyring(dict(ring.keys))
    draft.add(b.public_key(), "b")
    v2 = sign_update(ring, draft.keys, 1, [ctx.key])
    v2.save()
    assert ctx.verify()[0] == 0
    v3 = sign_update(v2, {b_id: v2.keys[b_id]}, 1, [b])
    v3.save()
    code, line = ctx.verify()
    assert code == 1 and line.startswith("FAIL unknown key: 1.0.0/"), line
    # a keyring rolled back to version 2 (A trusted again) is refused by the verifier that saw 3
    v2.save()
    code, line = ctx.verify()
    assert code == 1 and line.startswith("FAIL keyring swap: "), line


def _verdict(c, case):
    """(exit status, failing check or None) of one verifier on one case; a refusal must be one line with
    the trusted state left as it was."""
    if getattr(case, "primed", False):
        assert c.verify()[0] == 0
    expected = case(c)
    before = c.state.read_bytes() if c.state.is_file() else None
    code, out = c.verify(whole=True)
    lines = out.strip().splitlines()
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in out, out
        assert (c.state.read_bytes() if c.state.is_file() else None) == before, "a refused input changed the state"
    check = lines[0][len("FAIL "):].split(": ")[0] if code == 1 and lines else None
    return expected, code, check


@pytest.mark.parametrize("case", RULE_CASES + CASES, ids=[c.__name__ for c in RULE_CASES + CASES])
def test_both_verifiers_agree(genuine, tmp_path, case):
    """One rule-set: the library (`ddr registry verify`) and verifier/ddr_verify.py give the same verdict."""
    verdicts = {}
    for name in ("ddr", "standalone"):
        root = tmp_path / name
        for part in ("releases", "keys", "snapshot-1.1.0"):
            shutil.copytree(genuine / part, root / part, symlinks=True)
        verdicts[name] = _verdict(Ctx(root, name), case)
    expected, code, check = verdicts["ddr"]
    assert verdicts["standalone"] == verdicts["ddr"], verdicts
    want = {REFUSED: 2, None: 0}.get(expected, 1)
    assert code == want, verdicts
    if want == 1:
        assert check == expected, verdicts
