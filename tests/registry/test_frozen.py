"""A release written once by this code (tests/registry/fixtures/frozen, private key discarded) must
keep verifying with current code: the release format is a compatibility promise."""
import shutil
from pathlib import Path

from registry.diff import diff_rankings, load_ranking
from registry.keyring import Keyring
from registry.verify import verify_chain
from registry.util import sha256_file
from tests.registry.helpers import invoke

FROZEN = Path(__file__).parent / "fixtures" / "frozen"
PINNED = {  # sha256 of each frozen envelope: regenerating the fixture must be a deliberate act
    "1.0.0": "6701bf4fd7eb3c8c7efd493f3ce39b14dd79f8f1a55d653e970cbbe13cc4502c",
    "1.1.0": "af7b90ef47d15676fc0fa6472d5a4b17522ccb48e0f7db66ab57398217007793",
}


def test_frozen_release_verifies():
    for v, digest in PINNED.items():
        assert sha256_file(FROZEN / "releases" / v / "release.dsse.json") == digest
    report = verify_chain(FROZEN / "releases", Keyring.load(FROZEN / "keyring.json"), latest="1.1.0")
    assert report.ok, report.error
    assert [r.version for r in report.releases] == ["1.0.0", "1.1.0"]
    assert report.releases[1].previous == "1.0.0"


def test_frozen_release_via_cli():
    code, out = invoke("verify", "--releases", FROZEN / "releases", "--keyring", FROZEN / "keyring.json")
    assert code == 0, out
    assert out.strip().endswith("OK: 2 release(s) verified, chain intact")


def test_frozen_fixture_holds_no_private_key():
    for p in FROZEN.rglob("*"):
        if p.is_file():
            assert b"PRIVATE KEY" not in p.read_bytes(), p


def test_frozen_rankings_still_readable():
    d = diff_rankings(load_ranking(FROZEN / "releases" / "1.0.0"), load_ranking(FROZEN / "releases" / "1.1.0"))
    assert d["tables_added"] == ["digits/ipc50/hard/lrs"] and d["tables_removed"] == ["digits/ipc10/hard/ars"]
    kc = next(r for r in d["tables"][0]["rows"] if r["method"] == "kcenter")
    assert kc["rank_to"] == 1 and kc["rank_move"] > 0


def test_tampered_copy_of_frozen_release_fails(tmp_path):
    rel = shutil.copytree(FROZEN / "releases", tmp_path / "releases")
    (rel / "1.0.0" / "ranking.json").write_text((rel / "1.0.0" / "ranking.json").read_text().replace("herding", "herdinG", 1))
    report = verify_chain(rel, Keyring.load(FROZEN / "keyring.json"))
    assert str(report.error) == "digest mismatch: 1.0.0/ranking.json"
