"""Every tampering is detected, with a message naming the failing check."""
import base64
import json
import shutil

import pytest

from registry import ENVELOPE_NAME
from registry.keyring import Keyring, generate_key
from registry.ranking import load_results
from registry.release import publish
from registry.signing import sign_statement
from registry.verify import verify_chain
from tests.registry.helpers import invoke, write_results


def _fail(rel, ring, **kw):
    report = verify_chain(rel, ring, **kw)
    assert not report.ok, "tampering went undetected"
    return str(report.error)


def _flip(path, offset=None):
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] = data[i] ^ 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["ranking.json", "ranking.csv", "ranking.md", "index.html", "provenance.json",
                                  "results/digits-ipc10-hard-dm-lrs.json"])
def test_changed_byte_in_each_file_kind(chain, name):
    rel, _, ring = chain
    _flip(rel / "1.1.0" / name)
    assert _fail(rel, ring) == f"digest mismatch: 1.1.0/{name}"
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path)
    assert code == 1 and out.strip() == f"FAIL digest mismatch: 1.1.0/{name}"


def test_changed_byte_in_envelope_payload(chain):
    rel, _, ring = chain
    p = rel / "1.1.0" / ENVELOPE_NAME
    env = json.loads(p.read_text())
    payload = bytearray(base64.b64decode(env["payload"]))
    i = payload.index(b'"version":"1.1.0"') + len(b'"version":"1.1.')
    payload[i] = ord("9")  # the statement now claims 1.1.9
    env["payload"] = base64.b64encode(bytes(payload)).decode()
    p.write_text(json.dumps(env))
    assert _fail(rel, ring).startswith("bad signature: 1.1.0/release.dsse.json")


def test_changed_byte_in_signature(chain):
    rel, _, ring = chain
    p = rel / "2.0.0" / ENVELOPE_NAME
    env = json.loads(p.read_text())
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    sig[5] ^= 0x01
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    p.write_text(json.dumps(env))
    assert _fail(rel, ring).startswith("bad signature: 2.0.0/")


def test_raw_byte_flip_in_envelope_file(chain):
    rel, _, ring = chain
    p = rel / "1.0.0" / ENVELOPE_NAME
    text = p.read_text()
    i = text.index('"payload": "') + 40
    p.write_text(text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1:])
    msg = _fail(rel, ring)
    assert msg.startswith("bad signature: 1.0.0/") or msg.startswith("malformed envelope: 1.0.0/")


def test_swapped_signature(chain):
    rel, _, ring = chain
    a = json.loads((rel / "1.0.0" / ENVELOPE_NAME).read_text())
    b_path = rel / "1.1.0" / ENVELOPE_NAME
    b = json.loads(b_path.read_text())
    b["signatures"] = a["signatures"]  # a genuine signature, but over another statement
    b_path.write_text(json.dumps(b))
    assert _fail(rel, ring).startswith("bad signature: 1.1.0/release.dsse.json")


def test_untrusted_key(tmp_path, chain):
    rel, _, ring = chain
    stranger, _ = generate_key(tmp_path / "stranger.key")
    rs = load_results([write_results(tmp_path / "x")])
    publish(rs, rel, "3.0.0", [stranger], resamples=50, repo=tmp_path)  # no keyring check on this path
    msg = _fail(rel, ring)
    assert msg.startswith("unknown key: 3.0.0/release.dsse.json is signed by key")
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path)
    assert code == 1 and "FAIL unknown key" in out


def test_resigned_by_untrusted_key(tmp_path, chain):
    """An attacker re-signs a tampered statement with their own key: unknown key."""
    rel, _, ring = chain
    stranger, _ = generate_key(tmp_path / "stranger.key")
    p = rel / "1.1.0" / ENVELOPE_NAME
    stmt = json.loads(base64.b64decode(json.loads(p.read_text())["payload"]))
    p.write_text(json.dumps(sign_statement(stmt, [stranger])))
    assert _fail(rel, ring).startswith("unknown key: 1.1.0/")


def test_release_removed_from_chain(chain):
    rel, _, ring = chain
    shutil.rmtree(rel / "1.1.0")
    assert _fail(rel, ring) == ("chain broken at 2.0.0: it names previous release '1.1.0', "
                                "but the release before it is 1.0.0")
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path)
    assert code == 1 and out.startswith("FAIL chain broken at 2.0.0")


def test_first_release_removed(chain):
    rel, _, ring = chain
    shutil.rmtree(rel / "1.0.0")
    assert _fail(rel, ring).startswith("chain broken at 1.1.0: it names previous release '1.0.0', which is not in")


def test_latest_release_removed_is_caught_with_latest(chain):
    rel, _, ring = chain
    shutil.rmtree(rel / "2.0.0")
    assert verify_chain(rel, ring).ok  # a truncated chain is self-consistent ...
    assert _fail(rel, ring, latest="2.0.0").startswith("chain broken at 2.0.0: the newest release")  # ... unless pinned


def test_versions_reordered(chain):
    rel, _, ring = chain
    (rel / "1.1.0").rename(rel / "tmp")
    (rel / "2.0.0").rename(rel / "1.1.0")
    (rel / "tmp").rename(rel / "2.0.0")
    assert _fail(rel, ring) == ("version mismatch: folder 1.1.0 holds an envelope signed for release '2.0.0' "
                                "(a replayed or renamed release)")


def test_previous_release_substituted(tmp_path, chain):
    """Replace 1.1.0 with a different, validly signed 1.1.0: the next release's chain digest breaks."""
    rel, key, ring = chain
    shutil.rmtree(rel / "1.1.0")
    shutil.move(rel / "2.0.0", tmp_path / "held")
    publish(load_results([write_results(tmp_path / "alt", seed=9)]), rel, "1.1.0", [key], resamples=50, repo=tmp_path)
    shutil.move(tmp_path / "held", rel / "2.0.0")
    assert _fail(rel, ring) == "chain broken at 2.0.0: the envelope digest of previous release 1.1.0 does not match"


def test_old_envelope_replayed_under_new_version(chain):
    rel, _, ring = chain
    shutil.copytree(rel / "1.0.0", rel / "2.1.0")  # files and envelope of 1.0.0 presented as 2.1.0
    msg = _fail(rel, ring)
    assert msg.startswith("version mismatch: folder 2.1.0 holds an envelope signed for release '1.0.0'")


def test_extra_and_missing_files(chain):
    rel, _, ring = chain
    (rel / "1.1.0" / "results" / "evil.json").write_text("{}")
    assert _fail(rel, ring) == "extra file: 1.1.0/results/evil.json"
    (rel / "1.1.0" / "results" / "evil.json").unlink()
    (rel / "1.1.0" / "ranking.csv").unlink()
    assert _fail(rel, ring) == "missing file: 1.1.0/ranking.csv"
    (rel / "2.0.0" / ENVELOPE_NAME).unlink()
    (rel / "1.1.0" / "ranking.csv").write_text("x")
    assert _fail(rel, ring).startswith("digest mismatch: 1.1.0/ranking.csv")
    assert verify_chain(rel, ring, upto="1.0.0").ok  # releases before the damage still verify


def test_missing_envelope(chain):
    rel, _, ring = chain
    (rel / "2.0.0" / ENVELOPE_NAME).unlink()
    assert _fail(rel, ring) == "missing file: 2.0.0/release.dsse.json"


def test_threshold_not_met(chain):
    rel, _, ring = chain
    two = Keyring(dict(ring.keys), threshold=2, path=ring.path)
    assert _fail(rel, two).startswith("bad signature: 1.0.0/release.dsse.json: 1 valid trusted signature(s), threshold is 2")
