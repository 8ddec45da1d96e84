"""`ddr report`: a plain-text summary of a result.json or a release, from the files alone."""
import json

from registry.ranking import load_results
from registry.release import publish
from tests.registry.helpers import make_result, save_result, write_results


def test_report_of_a_result(tmp_path, ddr_cli):
    d = make_result("herding", syn=0.9, rnd=0.8)
    save_result(tmp_path / "r", d)
    code, out, err = ddr_cli("report", str(tmp_path / "r"))
    assert code == 0, err
    assert f"LRS = {d['metrics']['lrs']['mean']:.4f} ± {d['metrics']['lrs']['std']:.4f}" in out
    assert f"HLR = {d['metrics']['hlr']['mean']:.4f}" in out and "protocol digits-lrs-hard v1" in out
    rnd = sum(d["accuracies"]["random"]) / 5
    assert f"the random subset {rnd:.4f}" in out and "seeds 0, 1, 2, 3, 4" in out
    assert "5 trainings, 1.6 s of training" in out
    assert all(len(line) <= 100 for line in out.splitlines())


def test_report_of_a_release(tmp_path, keys, ddr_cli):
    key, _ = keys
    methods = {"herding": (0.90, 0.80), "dm": (0.881, 0.80), "kcenter": (0.880, 0.80), "random": (0.80, 0.80)}
    rel = publish(load_results([write_results(tmp_path / "res", methods)]), tmp_path / "rel", "1.0.0", [key],
                  resamples=200, repo=tmp_path)
    ranking = json.loads((rel / "ranking.json").read_text())
    rows = ranking["tables"][0]["rows"]
    code, out, err = ddr_cli("report", str(rel))
    assert code == 0, err
    assert "DD-Ranking release 1.0.0" in out and "200 draws" in out
    assert f"1. herding: {rows[0]['mean']:.4f}" in out
    lo, hi = rows[1]["rank_interval"]
    assert f"2. {rows[1]['method']}: {rows[1]['mean']:.4f} ± {rows[1]['std']:.4f} over 5 round(s), rank {lo}-{hi}" in out
    assert "Random baseline reached: the random subset" in out
    j = next(j for j in range(3) if rows[j]["rank_interval"][1] >= rows[j + 1]["rank_interval"][0])  # dm, kcenter
    assert f"The order of {rows[j]['method']} and {rows[j + 1]['method']} is uncertain" in out
    assert f"herding ranks first in {rows[0]['p_rank1'] * 100:.0f}%" in out


def test_report_refuses_other_input(tmp_path, ddr_cli):
    (tmp_path / "x.json").write_text('{"schema": "other"}')
    for path in (tmp_path / "x.json", tmp_path / "missing"):
        code, out, err = ddr_cli("report", str(path))
        assert code == 2 and err.startswith("ddr: error:") and len(err.strip().splitlines()) == 1
