"""Timestamps, trusted state and signed keyring updates through the `ddr registry` commands, and the
standalone verifier's own promises (one file, standard library + cryptography, <= 200 lines)."""
import ast
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddr.errors import DDRError
from registry import ENVELOPE_NAME, TIMESTAMP_NAME
from registry.attest import attestations_dir
from registry.layout import resolve_release
from registry.freshness import read_timestamp_unverified, write_timestamp
from registry.keyring import Keyring, keyid_of
from registry.verify import verify_registry
from registry.trust_state import TrustState
from tests.registry.helpers import invoke

STANDALONE = Path(__file__).resolve().parents[2] / "verifier" / "ddr_verify.py"
FROZEN = Path(__file__).parent / "fixtures" / "frozen"


def test_timestamp_refresh_and_expiry(chain, tmp_path):
    rel, key, ring = chain
    before = read_timestamp_unverified(rel)
    assert before["head"] == "2.0.0" and before["counter"] == 3  # one per publish
    state = tmp_path / "s.json"
    assert invoke("verify", "--releases", rel, "--keyring", ring.path, "--state", state)[0] == 0
    # the maintainer lets it expire: every verifier now says freeze ...
    write_timestamp(rel, "2.0.0", [key], now=datetime.now(timezone.utc) - timedelta(days=2), expires_days=1)
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path, "--state", state)
    assert code == 1 and out.startswith("FAIL freeze: timestamp.dsse.json (head 2.0.0) expired at ")
    # ... until `ddr registry timestamp` re-signs it
    code, out = invoke("timestamp", "--releases", rel, "--key", tmp_path / "keys" / "maint.key", "--keyring",
                       ring.path, "--expires-days", 7)
    assert code == 0 and "timestamped head 2.0.0" in out
    ts = read_timestamp_unverified(rel)
    assert ts["counter"] == 5
    expires = datetime.strptime(ts["expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert timedelta(days=6.9) < expires - datetime.now(timezone.utc) <= timedelta(days=7)
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path, "--state", state)
    assert code == 0 and "ok timestamp #5: head 2.0.0" in out
    assert json.loads(state.read_text())["keyrings"][str(Path(ring.path).resolve())]["timestamp"]["counter"] == 5


def test_timestamp_refuses_a_broken_chain_and_bad_input(chain, tmp_path):
    rel, _, ring = chain
    (rel / "1.1.0" / "ranking.csv").write_text("x")
    code, out = invoke("timestamp", "--releases", rel, "--key", tmp_path / "keys" / "maint.key", "--keyring", ring.path)
    assert code == 2 and "do not verify (digest mismatch: 1.1.0/ranking.csv)" in out
    code, out = invoke("timestamp", "--releases", rel, "--key", tmp_path / "keys" / "maint.key", "--keyring",
                       ring.path, "--expires-days", 0)
    assert code == 2


def test_no_state_verifies_without_remembering(chain, tmp_path):
    rel, _, ring = chain
    state = tmp_path / "s.json"
    assert invoke("verify", "--releases", rel, "--keyring", ring.path, "--state", state, "--no-state")[0] == 0
    assert not state.exists()
    state.write_text("not json")
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path, "--state", state)
    assert code == 2 and "is not valid JSON" in out


def test_signed_keyring_updates_via_cli(chain, tmp_path):
    """keygen --sign-with adds a key as version 2; trust --remove --sign-with revokes the old key as
    version 3; a pinned verifier follows both; unsigned edits of a versioned keyring are refused."""
    rel, old, ring = chain
    state = tmp_path / "s.json"
    verify = ("verify", "--releases", rel, "--keyring", ring.path, "--state", state)
    assert invoke(*verify)[0] == 0
    code, out = invoke("keygen", "--out", tmp_path / "keys" / "new.key", "--keyring", ring.path,
                       "--sign-with", tmp_path / "keys" / "maint.key")
    assert code == 0 and "version 2" in out, out
    assert Keyring.load(ring.path).version == 2 and invoke(*verify)[0] == 0
    code, out = invoke("trust", keyid_of(old.public_key())[:12], "--remove", "--keyring", ring.path)
    assert code == 2 and "--sign-with" in out
    code, out = invoke("trust", keyid_of(old.public_key())[:12], "--remove", "--keyring", ring.path,
                       "--sign-with", tmp_path / "keys" / "maint.key")
    assert code == 0 and "version 3" in out
    code, out = invoke(*verify)
    assert code == 1 and out.startswith("FAIL unknown key: 1.0.0/"), out
    assert json.loads(state.read_text())["keyrings"][str(Path(ring.path).resolve())]["keyring"]["version"] == 3
    code, out = invoke("trust", "abcd", "--remove", "--keyring", ring.path, "--sign-with", tmp_path / "keys" / "maint.key")
    assert code == 2  # the revoked key cannot sign the next update (and 'abcd' names no key)


def test_format_1_registry_without_timestamp(tmp_path):
    """The frozen format-1 chain has no timestamp: it verifies, with freshness noted as unchecked."""
    code, out = invoke("verify", "--releases", FROZEN / "releases", "--keyring", FROZEN / "keyring.json",
                       "--state", tmp_path / "s.json")
    assert code == 0 and "no timestamp.dsse.json (format-1 registry)" in out


def test_state_is_per_keyring_file(chain, tmp_path):
    rel, _, ring = chain
    st = TrustState(tmp_path / "s.json")
    assert verify_registry(rel, ring, state=st, keyring_path=ring.path).ok
    copy = tmp_path / "other-keyring.json"
    copy.write_text(Path(ring.path).read_text())
    assert verify_registry(rel, Keyring.load(copy), state=st, keyring_path=copy).ok
    assert len(json.loads((tmp_path / "s.json").read_text())["keyrings"]) == 2
    (rel / TIMESTAMP_NAME).unlink()
    assert str(verify_registry(rel, ring, state=st, keyring_path=ring.path).error).startswith("freeze: ")


def test_standalone_is_one_small_file_on_stdlib_and_cryptography():
    src = STANDALONE.read_text()
    # small enough to read in one sitting; it grew from 200 lines when it took on the library's keyring,
    # trusted-state and folder-name rules (one rule-set for both verifiers)
    assert len(src.splitlines()) <= 270
    mods = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            mods.add(node.module.split(".")[0])
    assert mods - set(sys.stdlib_module_names) == {"cryptography"}


def test_standalone_single_release_and_bad_input(chain, tmp_path):
    rel, _, ring = chain
    run = lambda *a: subprocess.run([sys.executable, str(STANDALONE), *map(str, a), "--no-state"],  # noqa: E731
                                    capture_output=True, text=True, timeout=60)
    p = run(rel / "1.1.0", "--keyring", ring.path)
    assert p.returncode == 0 and p.stdout.strip() == "OK: release 1.1.0 verified"
    (rel / "1.1.0" / "ranking.md").write_text("changed")
    p = run(rel / "1.1.0", "--keyring", ring.path)
    assert p.returncode == 1 and p.stdout.strip() == "FAIL digest mismatch: 1.1.0/ranking.md"
    p = run(rel, "--keyring", tmp_path / "nope.json")
    assert p.returncode == 2 and p.stderr.startswith("error: cannot read")
    p = run(FROZEN / "releases", "--keyring", FROZEN / "keyring.json")
    assert p.returncode == 0 and "2 release(s) verified" in p.stdout


def test_a_version_from_outside_stays_inside_the_releases_folder(tmp_path):
    """A head or version that is a path ('../elsewhere') is refused before anything is read or signed, even
    where a release envelope waits at the place it points to."""
    rel, outside = tmp_path / "releases", tmp_path / "elsewhere"
    rel.mkdir()
    outside.mkdir()
    (outside / ENVELOPE_NAME).write_text("{}")
    with pytest.raises(DDRError, match="would leave its folder"):
        write_timestamp(rel, "../elsewhere", [Ed25519PrivateKey.generate()])
    assert not (rel / TIMESTAMP_NAME).exists()
    with pytest.raises(DDRError, match="would leave its folder"):
        attestations_dir(rel, "../../elsewhere")
    (rel / "1.0.0").symlink_to(outside, target_is_directory=True)  # a release folder that links out
    with pytest.raises(DDRError, match="leads out of"):
        resolve_release(rel, "1.0.0")
