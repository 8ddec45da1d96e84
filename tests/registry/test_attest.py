"""Reproduction attestations: written beside a release, verified on their own, counted per cell.

The numbers in these reports are the release's own result numbers (what a faithful CPU re-run gives,
see test_reproduce.py for the real re-run with --attest); here the point is the attestation layer:
signatures, subjects, the match claim, and how verify / show / the next page report them."""
import base64
import json

import pytest

from registry.attest import attestations_dir, reproductions, verify_attestation, write_attestation
from registry.keyring import generate_key
from registry.ranking import load_results
from registry.release import publish
from registry.reproduction import compare_metrics
from registry.signing import VerifyError, sign_statement
from registry.util import read_json
from tests.registry.helpers import invoke


def _report(release_dir, cell, nudge=0.0, tolerance=0.0):
    expected = read_json(release_dir / cell["result"])["metrics"]
    got = json.loads(json.dumps(expected))
    got[cell["kind"]]["per_round"][0] += nudge
    rows = compare_metrics(expected, got, tolerance)
    return {"cell": cell["id"], "device": "cpu", "tolerance": tolerance, "exact": tolerance == 0,
            "match": all(r["ok"] for r in rows), "rows": rows}


def _cell(release_dir, method="dm"):
    return next(c for c in read_json(release_dir / "provenance.json")["cells"] if c["method"] == method)


def test_attestations_count_per_cell_and_verify(chain, tmp_path):
    rel, _, ring = chain
    rd = rel / "2.0.0"
    cell = _cell(rd)
    keys = [generate_key(tmp_path / f"r{i}.key")[0] for i in range(2)]
    for k in keys:
        write_attestation(rd, cell, _report(rd, cell), k)
    write_attestation(rd, cell, _report(rd, cell), keys[0])  # the same key twice counts once
    miss = write_attestation(rd, _cell(rd, "herding"), _report(rd, _cell(rd, "herding"), nudge=1e-9), keys[1])
    assert verify_attestation(miss, rd)["match"] is False  # an honest failed reproduction verifies
    got = reproductions(rd)
    assert len(got[cell["id"]]["match"]) == 2 and got[_cell(rd, "herding")["id"]]["mismatch"]
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path)
    assert code == 0, out
    code, out = invoke("show", "2.0.0", "--releases", rel)
    assert code == 0 and f"- {cell['id']}: reproduced by 2 keys (" in out
    assert f"- {_cell(rd, 'herding')['id']}: reproduced by 0 keys; did not reproduce for 1" in out
    assert (attestations_dir(rel, "2.0.0")).is_dir() and "attestations" not in [p.name for p in rd.iterdir()]


def test_next_page_reports_reproductions_of_identical_results(chain, tmp_path):
    rel, key, ring = chain
    rd = rel / "2.0.0"
    cell = _cell(rd)
    write_attestation(rd, cell, _report(rd, cell), generate_key(tmp_path / "r.key")[0])
    src = tmp_path / "res-2.0.0"  # the results 2.0.0 was published from: same files, same digests
    publish(load_results([src]), rel, "2.1.0", [key], keyring=ring, resamples=50, repo=tmp_path)
    page = (rel / "2.1.0" / "index.html").read_text()
    assert f"{cell['id']}: reproduced by 1 key (" in page
    assert f"{_cell(rd, 'herding')['id']}: reproduced by 0 keys" in page


@pytest.mark.parametrize("how", ["forged_numbers", "false_match", "other_release", "swapped_key", "garbage"])
def test_bad_attestation_fails_verification(chain, tmp_path, how):
    rel, _, ring = chain
    rd = rel / "2.0.0"
    cell = _cell(rd)
    k, _ = generate_key(tmp_path / "r.key")
    p = write_attestation(rd, cell, _report(rd, cell), k)
    env = json.loads(p.read_text())
    stmt = json.loads(base64.b64decode(env["payload"]))
    if how == "forged_numbers":  # numbers changed after signing
        stmt["predicate"]["metrics"][cell["kind"]]["per_round"][0] += 0.5
        env["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()
        want = "does not verify"
    elif how == "false_match":  # validly signed, but claims a match its numbers do not show
        p = write_attestation(rd, cell, dict(_report(rd, cell, nudge=0.5), match=True), k)
        env, want = json.loads(p.read_text()), "claims match=True"
    elif how == "other_release":  # an attestation of 1.1.0 filed under 2.0.0
        stmt["predicate"]["release"] = "1.1.0"
        env, want = sign_statement(stmt, [k]), "attests release '1.1.0'"
    elif how == "swapped_key":  # someone else's key claimed as the reproducer
        other, _ = generate_key(tmp_path / "o.key")
        from registry.keyring import public_raw

        stmt["predicate"]["reproducer"]["public"] = public_raw(other.public_key()).hex()
        env, want = sign_statement(stmt, [k]), "key id is not the sha256"
    else:
        env, want = {"payload": "!!"}, "not a readable attestation"
    p.write_text(json.dumps(env))
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path)
    assert code == 1 and out.startswith("FAIL attestation: ") and want in out, out
    with pytest.raises(VerifyError):
        reproductions(rd)
