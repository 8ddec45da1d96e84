import csv
import io
import json
import os
import re
import stat

import pytest

from ddr.errors import DDRError
from ddr.kernel.digests import sha256_file
from registry import ENVELOPE_NAME, PAYLOAD_TYPE
from registry.keyring import Keyring, generate_key, keyid_of, load_private_key
from registry.ranking import load_results
from registry.layout import list_versions
from registry.release import publish
from registry.util import semver_key
from registry.verify import verify_chain
from tests.registry.helpers import write_results

FILES = {"ranking.json", "ranking.csv", "ranking.md", "index.html", "provenance.json", ENVELOPE_NAME}


def test_publish_then_verify(tmp_path, keys):
    key, ring = keys
    rs = load_results([write_results(tmp_path / "res")])
    path = publish(rs, tmp_path / "releases", "1.0.0", [key], keyring=ring, resamples=100, repo=tmp_path)
    names = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    assert FILES <= names and sum(n.startswith("results/") for n in names) == 4
    report = verify_chain(tmp_path / "releases", ring)
    assert report.ok, report.error
    assert report.releases[0].signers == [keyid_of(key.public_key())]
    env = json.loads((path / ENVELOPE_NAME).read_text())
    assert env["payloadType"] == PAYLOAD_TYPE
    stmt = json.loads(__import__("base64").b64decode(env["payload"]))
    assert stmt["_type"] == "https://in-toto.io/Statement/v1"
    assert {s["name"] for s in stmt["subject"]} == names - {ENVELOPE_NAME}
    assert stmt["predicate"]["version"] == "1.0.0" and stmt["predicate"]["previous"] is None
    for s in stmt["subject"]:
        assert sha256_file(path / s["name"]) == s["digest"]["sha256"]
    # nothing temporary left behind
    assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == ["1.0.0", "timestamp.dsse.json"]


def test_renderings_and_provenance(tmp_path, keys):
    key, ring = keys
    path = publish(load_results([write_results(tmp_path / "res", kinds=("lrs", "ars"))]), tmp_path / "r", "0.1.0",
                   [key], resamples=100, repo=tmp_path)
    rows = list(csv.DictReader(io.StringIO((path / "ranking.csv").read_text())))
    assert len(rows) == 8 and rows[0]["method"] == "herding" and rows[0]["rank"] == "1"
    assert rows[0]["vs_random"] == "above" and float(rows[0]["vs_random_lo"]) > 0 and rows[0]["certainty"] == "paired"
    md = (path / "ranking.md").read_text()
    assert "# DD-Ranking release 0.1.0" in md and "| 1 | herding |" in md and "ARS" in md
    assert "| vs random |" in md and "above 0 [" in md
    page = (path / "index.html").read_text()
    assert "vs random (95%)" in page and "above 0 [" in page
    assert "<script>" in page and "addEventListener('click'" in page
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page)  # no network assets
    prov = json.loads((path / "provenance.json").read_text())
    assert prov["protocols"][0]["name"] == "digits-ars-hard" and prov["protocols"][0]["version"] == 1
    assert len(prov["mlflow_run_ids"]) == 8
    cell = next(c for c in prov["cells"] if c["id"] == "digits/10/hard/herding/lrs")
    assert cell["distilled"]["path"] == "data/distilled/herding-ipc10" and cell["distilled"]["md5"].endswith(".dir")
    assert cell["protocol"]["name"] == "digits-lrs-hard" and cell["kind"] == "lrs" and cell["ipc"] == 10
    assert prov["packages"]["publisher"]["cryptography"] and prov["hardware"]["publisher"]["cpu_count"]
    assert prov["dvc_lock"]["results"] == ["d41d8cd98f00b204e9800998ecf8427e"]
    assert "commit" in prov["git"]
    ranking = json.loads((path / "ranking.json").read_text())
    assert ranking["version"] == "0.1.0" and ranking["posterior_draws"]["draws"] == 100


def test_versions_never_overwritten_and_ordered(tmp_path, keys):
    key, ring = keys
    rs = load_results([write_results(tmp_path / "res")])
    rel = tmp_path / "releases"
    publish(rs, rel, "1.0.0", [key], resamples=50, repo=tmp_path)
    before = sha256_file(rel / "1.0.0" / ENVELOPE_NAME)
    with pytest.raises(DDRError, match="already exists"):
        publish(rs, rel, "1.0.0", [key], resamples=50, repo=tmp_path)
    with pytest.raises(DDRError, match="not newer"):
        publish(rs, rel, "0.9.0", [key], resamples=50, repo=tmp_path)
    with pytest.raises(DDRError, match="not a semantic version"):
        publish(rs, rel, "v1.1", [key], resamples=50, repo=tmp_path)
    assert sha256_file(rel / "1.0.0" / ENVELOPE_NAME) == before
    publish(rs, rel, "1.0.1-rc.1", [key], resamples=50, repo=tmp_path)
    publish(rs, rel, "1.0.1", [key], resamples=50, repo=tmp_path)
    publish(rs, rel, "1.10.0", [key], resamples=50, repo=tmp_path)
    assert list_versions(rel) == ["1.0.0", "1.0.1-rc.1", "1.0.1", "1.10.0"]
    assert verify_chain(rel, ring).ok
    assert [p.name for p in rel.iterdir() if p.name.startswith(".")] == []


def test_semver_order():
    vs = ["1.0.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "0.9.9", "1.0.0-beta.11", "1.0.0-beta.2"]
    assert sorted(vs, key=semver_key) == ["0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-beta.2",
                                          "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]


def test_publish_refuses_untrusted_key_and_broken_chain(tmp_path, chain):
    rel, key, ring = chain
    other, _ = generate_key(tmp_path / "other.key")
    rs = load_results([write_results(tmp_path / "more")])
    with pytest.raises(DDRError, match="not in keyring"):
        publish(rs, rel, "3.0.0", [other], keyring=ring, resamples=50, repo=tmp_path)
    (rel / "1.1.0" / "ranking.md").write_text("tampered")
    with pytest.raises(DDRError, match="do not verify.*digest mismatch"):
        publish(rs, rel, "3.0.0", [key], keyring=ring, resamples=50, repo=tmp_path)
    assert "3.0.0" not in list_versions(rel)


def test_keygen_files_and_passphrase(tmp_path):
    key, kid = generate_key(tmp_path / "k" / "a.key", passphrase="hunter2")
    path = tmp_path / "k" / "a.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert b"ENCRYPTED" in path.read_bytes()
    assert (tmp_path / "k" / "a.key.pub").read_text().strip() == key.public_key().public_bytes_raw().hex()
    with pytest.raises(DDRError, match="is encrypted"):
        load_private_key(path)
    with pytest.raises(DDRError, match="wrong passphrase"):
        load_private_key(path, "wrong")
    assert keyid_of(load_private_key(path, "hunter2").public_key()) == kid
    with pytest.raises(DDRError, match="refusing to overwrite"):
        generate_key(path)
    plain, _ = generate_key(tmp_path / "b.key")
    with pytest.raises(DDRError, match="not encrypted"):
        load_private_key(tmp_path / "b.key", "x")


def test_keyring_file_format(tmp_path, keys):
    key, ring = keys
    d = json.loads(ring.path.read_text())
    kid = keyid_of(key.public_key())
    assert d["threshold"] == 1 and d["keys"][kid]["scheme"] == "ed25519" and d["keys"][kid]["name"] == "maint"
    import hashlib

    assert kid == hashlib.sha256(bytes.fromhex(d["keys"][kid]["public"])).hexdigest()
    d["keys"]["00" * 32] = d["keys"][kid]
    ring.path.write_text(json.dumps(d))
    with pytest.raises(DDRError, match="not the sha256"):
        Keyring.load(ring.path)


def test_envelope_is_plain_dsse(tmp_path, keys):
    """The envelope is plain DSSE: it verifies with bare cryptography over a hand-built PAE, and with
    securesystemslib's own verifier (which the library uses)."""
    import base64

    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    key, ring = keys
    path = publish(load_results([write_results(tmp_path / "res")]), tmp_path / "r", "1.0.0", [key], resamples=50,
                   repo=tmp_path)
    env = json.loads((path / ENVELOPE_NAME).read_text())
    payload = base64.b64decode(env["payload"])
    msg = b"DSSEv1 %d application/vnd.in-toto+json %d " % (len(PAYLOAD_TYPE), len(payload)) + payload
    assert msg == Envelope(payload, PAYLOAD_TYPE, {}).pae()
    key.public_key().verify(base64.b64decode(env["signatures"][0]["sig"]), msg)
    kid = keyid_of(key.public_key())
    sk = SSlibKey.from_crypto(key.public_key(), keyid=kid, scheme="ed25519")
    assert kid in Envelope.from_dict(env).verify([sk], 1)


def test_verification_checks_the_pae_not_the_bare_payload(tmp_path):
    """securesystemslib's Envelope.verify judges each signature over DSSE's PAE: a valid Ed25519 signature over
    the bare payload (a common DSSE mistake) is a bad signature, and the good one beside it still counts."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from registry.keyring import public_raw
    from registry.signing import VerifyError, sign_statement, statement, verify_envelope

    good, bare = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    ring = Keyring({keyid_of(k.public_key()): {"public": public_raw(k.public_key()).hex(), "scheme": "ed25519"}
                    for k in (good, bare)}, threshold=1)
    env = sign_statement(statement({"a.txt": "0" * 64}, {"version": "1.0.0"}), [good])
    payload = base64.b64decode(env["payload"])
    forged = {"keyid": keyid_of(bare.public_key()), "sig": base64.b64encode(bare.sign(payload)).decode()}
    _, signers = verify_envelope(dict(env, signatures=[forged, *env["signatures"]]), ring)
    assert signers == [keyid_of(good.public_key())]
    with pytest.raises(VerifyError, match="bad signature"):
        verify_envelope(dict(env, signatures=[forged]), ring)
