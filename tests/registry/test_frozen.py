"""One frozen release chain per release-format version (tests/registry/fixtures/frozen*, private keys
discarded), each written once by the code of its time, must keep verifying with current code, through
the library, `ddr registry verify` and the standalone verifier: the release format is a promise."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ddr.kernel.digests import sha256_file
from registry.attest import reproductions
from registry.diff import diff_rankings, load_ranking
from registry.keyring import Keyring
from registry.trust_state import TrustState
from registry.verify import verify_chain, verify_registry
from tests.registry.helpers import invoke

FIXTURES = Path(__file__).parent / "fixtures"
STANDALONE = Path(__file__).resolve().parents[2] / "verifier" / "ddr_verify.py"
FORMATS = {  # format -> (folder, sha256 of each frozen envelope): regenerating one must be a deliberate act
    1: ("frozen", {"1.0.0": "6701bf4fd7eb3c8c7efd493f3ce39b14dd79f8f1a55d653e970cbbe13cc4502c",
                   "1.1.0": "af7b90ef47d15676fc0fa6472d5a4b17522ccb48e0f7db66ab57398217007793"}),
    2: ("frozen-v2", {"1.0.0": "5f42baa68922318042d5b662868d35a8c428bdcdf7aae81e8576200f9e87393a",
                      "1.1.0": "4904862b1b2d849b05d48eb6f577fdccdb4b74e254bf9cb6752b48adca823b2c",
                      "timestamp": "463fa3542ccc073c1b030517779d4c9d6c21f841ea615a71566a022bbc60e859"}),
}
pytestmark = pytest.mark.parametrize("fmt", sorted(FORMATS))


def _frozen(fmt):
    folder, pinned = FORMATS[fmt]
    return FIXTURES / folder, pinned


def test_frozen_release_verifies(fmt, tmp_path):
    root, pinned = _frozen(fmt)
    for v, digest in pinned.items():
        name = "timestamp.dsse.json" if v == "timestamp" else f"{v}/release.dsse.json"
        assert sha256_file(root / "releases" / name) == digest
    ring = Keyring.load(root / "keyring.json")
    report = verify_chain(root / "releases", ring, latest="1.1.0")
    assert report.ok, report.error
    assert [r.version for r in report.releases] == ["1.0.0", "1.1.0"]
    assert report.releases[1].previous == "1.0.0"
    full = verify_registry(root / "releases", ring, state=TrustState(tmp_path / "s.json"), keyring_path=root / "keyring.json")
    assert full.ok, full.error
    assert full.freshness["keyring"]["version"] == ring.version == fmt  # the v2 fixture's keyring had one signed update
    assert ("timestamp" in full.freshness) == (fmt >= 2)


def test_frozen_release_via_both_verifiers(fmt, tmp_path):
    root, _ = _frozen(fmt)
    code, out = invoke("verify", "--releases", root / "releases", "--keyring", root / "keyring.json",
                       "--state", tmp_path / "s.json")
    assert code == 0, out
    assert out.strip().endswith("OK: 2 release(s) verified, chain intact")
    p = subprocess.run([sys.executable, str(STANDALONE), str(root / "releases"), "--keyring", str(root / "keyring.json"),
                        "--state", str(tmp_path / "s2.json")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "2 release(s) verified" in p.stdout, p.stdout + p.stderr


def test_frozen_fixture_holds_no_private_key(fmt):
    root, _ = _frozen(fmt)
    for p in root.rglob("*"):
        if p.is_file():
            assert b"PRIVATE KEY" not in p.read_bytes(), p


def test_frozen_rankings_still_readable(fmt):
    root, _ = _frozen(fmt)
    d = diff_rankings(load_ranking(root / "releases" / "1.0.0"), load_ranking(root / "releases" / "1.1.0"))
    assert d["tables_added"] == ["digits/ipc50/hard/lrs"] and d["tables_removed"] == ["digits/ipc10/hard/ars"]
    kc = next(r for r in d["tables"][0]["rows"] if r["method"] == "kcenter")
    assert kc["rank_to"] == 1 and kc["rank_move"] > 0


def test_frozen_attestations_still_count(fmt):
    root, _ = _frozen(fmt)
    got = reproductions(root / "releases" / "1.1.0")
    assert {c: len(v["match"]) for c, v in got.items()} == ({} if fmt == 1 else {"digits/10/hard/dm/lrs": 1})


def test_tampered_copy_of_frozen_release_fails(fmt, tmp_path):
    root, _ = _frozen(fmt)
    rel = shutil.copytree(root / "releases", tmp_path / "releases")
    (rel / "1.0.0" / "ranking.json").write_text((rel / "1.0.0" / "ranking.json").read_text().replace("herding", "herdinG", 1))
    report = verify_chain(rel, Keyring.load(root / "keyring.json"))
    assert str(report.error) == "digest mismatch: 1.0.0/ranking.json"
