"""Reproduce: the comparison logic, and an end-to-end CPU run (evaluate, publish, reproduce the cell)."""
import json

import pytest

from ddr.errors import DDRError
from registry.reproduction import compare_metrics, find_cells, format_report, parse_cell

EXP = {"lrs": {"mean": 0.5, "std": 0.0, "per_round": [0.51, 0.49]},
       "hlr": {"mean": 0.1, "std": 0.0, "per_round": [0.1, 0.1]}}


def test_parse_cell():
    assert parse_cell("digits/10/hard/herding") == ("digits", 10, "hard", "herding", None)
    assert parse_cell("digits/10/soft/dm/lrs") == ("digits", 10, "soft", "dm", "lrs")
    for bad in ("digits/10/hard", "digits/x/hard/dm", "a/1/b/c/d/e"):
        with pytest.raises(DDRError):
            parse_cell(bad)


def test_compare_exact_and_tolerance():
    same = json.loads(json.dumps(EXP))  # a JSON round trip keeps floats bit-exact
    assert all(r["ok"] for r in compare_metrics(EXP, same, 0.0))
    nudged = json.loads(json.dumps(EXP))
    nudged["lrs"]["per_round"][1] = 0.49 + 1e-12
    rows = compare_metrics(EXP, nudged, 0.0)
    assert [r["ok"] for r in rows if r["metric"] == "lrs"] == [True, False]  # exact on CPU means exact
    assert all(r["ok"] for r in compare_metrics(EXP, nudged, 0.02))
    far = json.loads(json.dumps(EXP))
    far["lrs"]["per_round"][0] = 0.54
    assert not all(r["ok"] for r in compare_metrics(EXP, far, 0.02))
    short = {"lrs": {"per_round": [0.51]}, "hlr": EXP["hlr"]}
    rows = compare_metrics(EXP, short, 0.0)
    bad = [r for r in rows if not r["ok"]]
    assert len(bad) == 1 and bad[0]["metric"] == "lrs" and bad[0]["round"] is None
    rep = {"cell": "digits/10/hard/dm/lrs", "device": "cuda", "tolerance": 0.02, "exact": False,
           "match": False, "rows": compare_metrics(EXP, far, 0.02)}
    text = format_report(rep)
    assert "MISMATCH (within absolute tolerance 0.02)" in text.splitlines()[0]


def test_find_cells():
    prov = {"cells": [{"id": "digits/10/hard/dm/lrs", "dataset": "digits", "ipc": 10, "label": "hard",
                       "method": "dm", "kind": "lrs"},
                      {"id": "digits/10/hard/dm/ars", "dataset": "digits", "ipc": 10, "label": "hard",
                       "method": "dm", "kind": "ars"}]}
    assert len(find_cells(prov, "digits/10/hard/dm")) == 2
    assert [c["kind"] for c in find_cells(prov, "digits/10/hard/dm/ars")] == ["ars"]
    with pytest.raises(DDRError, match="did you mean 'digits/10/hard/dm'"):
        find_cells(prov, "digits/10/hard/dn")


def _evaluate_and_publish(tmp_path, digits, keys, method: str, seed: int):
    """A random distilled set of IPC 1 named `method`, evaluated for real on CPU (one round of the shipped
    protocol), its result in tmp_path/runs/a and published as release 1.0.0; returns (result, folder, release)."""
    from ddr import evaluate
    from ddr.data.distilled import write_distilled
    from ddr.data.random_baseline import random_baseline
    from registry.ranking import load_results
    from registry.release import publish

    key, ring = keys
    ds = random_baseline(digits, 1, seed=seed)
    ds.meta["method"] = method
    write_distilled(tmp_path / "data" / "distilled" / "set-ipc1", ds)
    res = evaluate("lrs", distilled="data/distilled/set-ipc1", dataset="digits", ipc=1, protocol="digits-lrs-hard",
                   rounds=1, device="cpu", track=False, cache_dir=str(tmp_path / "cache"))
    out = tmp_path / "runs" / "a"
    out.mkdir(parents=True)
    (out / "result.json").write_text(json.dumps(res.to_dict()))
    rel = publish(load_results([out]), tmp_path / "releases", "1.0.0", [key], keyring=ring, resamples=20,
                  repo=tmp_path)
    return res, out, rel


@pytest.mark.slow
def test_reproduce_matches_on_cpu(tmp_path, monkeypatch, digits, keys):
    """Evaluate a tiny random distilled set on CPU, publish it, reproduce the cell: exact match."""
    from registry.ranking import load_results
    from registry.release import publish
    from tests.registry.helpers import invoke

    key, ring = keys
    monkeypatch.chdir(tmp_path)
    res, out, _ = _evaluate_and_publish(tmp_path, digits, keys, "random-s123", 123)
    from registry.keyring import generate_key

    generate_key(tmp_path / "reproducer.key")  # a third party's key, in no keyring
    code, text = invoke("reproduce", "1.0.0", "--cell", "digits/1/hard/random-s123", "--releases", "releases",
                        "--keyring", ring.path, "--device", "cpu", "--cache-dir", str(tmp_path / "cache2"),
                        "--attest", "--key", tmp_path / "reproducer.key")
    assert code == 0, text
    assert "MATCH (exact (bit-for-bit))" in text and "attestation: releases/attestations/1.0.0/" in text
    code, text = invoke("show", "1.0.0", "--releases", "releases")
    assert code == 0 and "digits/1/hard/random-s123/lrs: reproduced by 1 key (" in text
    assert invoke("verify", "--releases", "releases", "--keyring", ring.path)[0] == 0

    # a release whose numbers differ from what the code computes is reported as a mismatch (exit 1);
    # cache2 now holds the trainings, so this second re-run is fast
    d = res.to_dict()
    d["metrics"]["lrs"]["per_round"][0] += 1e-9
    (out / "result.json").write_text(json.dumps(d))
    publish(load_results([out]), tmp_path / "releases", "1.1.0", [key], keyring=ring, resamples=20, repo=tmp_path)
    code, text = invoke("reproduce", "1.1.0", "--cell", "digits/1/hard/random-s123/lrs", "--releases", "releases",
                        "--keyring", ring.path, "--device", "cpu", "--cache-dir", str(tmp_path / "cache2"))
    assert code == 1 and "MISMATCH" in text and text.strip().endswith("FAIL reproduction mismatch")


def test_reproduce_and_report_read_a_result_file_marked_with_a_digest(tmp_path, monkeypatch, digits, keys, ddr_cli):
    """A method named with a space, '(' and '+' gets a release file 'digits-ipc1-hard-DM___soft__s1_-lrs~<hex>.json':
    `ddr registry reproduce` and `ddr report` read it (they refused '~' as a name they would not make a path of).
    The evaluation is real (one round of the shipped protocol at IPC 1); the reproduction reuses its cache."""
    _, ring = keys
    monkeypatch.chdir(tmp_path)
    _, _, rel = _evaluate_and_publish(tmp_path, digits, keys, "DM + soft (s1)", 7)
    [name] = [p.name for p in (rel / "results").glob("*.json")]
    assert "~" in name and name.startswith("digits-ipc1-hard-DM___soft__s1_-lrs~")

    code, out, err = ddr_cli("registry", "reproduce", "1.0.0", "--cell", "digits/1/hard/DM + soft (s1)",
                             "--releases", "releases", "--keyring", str(ring.path), "--device", "cpu",
                             "--cache-dir", str(tmp_path / "cache"))
    assert code == 0, err
    assert "MATCH (exact (bit-for-bit))" in out
    code, out, err = ddr_cli("report", str(rel))
    assert code == 0, err
    assert "DM + soft (s1)" in out and "Random baseline" in out

    # the rule still refuses a release whose provenance names a file outside it
    prov = json.loads((rel / "provenance.json").read_text())
    prov["cells"][0]["result"] = "../../outside.json"
    (rel / "provenance.json").write_text(json.dumps(prov))
    code, out, err = ddr_cli("registry", "reproduce", "1.0.0", "--cell", "digits/1/hard/DM + soft (s1)",
                             "--releases", "releases", "--no-verify", "--device", "cpu",
                             "--cache-dir", str(tmp_path / "cache"))
    assert code == 2 and "release result '../../outside.json' is not a release file name" in err
