import json

import numpy as np
import pytest

from ddr.errors import DDRError
from registry.ranking import bootstrap, build_ranking, load_results
from tests.registry.helpers import make_result, write_results


def _table(ranking, score="lrs", ipc=10):
    return next(t for t in ranking["tables"] if t["score"] == score and t["ipc"] == ipc)


def test_orders_by_lrs_with_certainty(tmp_path):
    rs = load_results([write_results(tmp_path)])
    rk = build_ranking(rs, seed=7, resamples=500)
    t = _table(rk)
    order = [r["method"] for r in t["rows"]]
    assert order[0] == "herding" and order[-1] == "random" and set(order[1:3]) == {"dm", "kcenter"}
    assert [r["rank"] for r in t["rows"]] == [1, 2, 3, 4]
    means = [r["mean"] for r in t["rows"]]
    assert means == sorted(means, reverse=True)
    top, second, third, rnd = t["rows"]
    assert top["p_beats_next"] > 0.95 and top["rank_interval"] == [1, 1]  # clearly separated
    assert 0.5 <= second["p_beats_next"] < 0.99  # dm and kcenter are 0.001 apart: the rank is uncertain
    assert second["rank_interval"] == [2, 3] and third["rank_interval"] == [2, 3]
    assert rnd["p_beats_next"] is None
    assert set(top["components"]) == {"hlr", "ior"}
    assert rk["bootstrap"]["seed"] == 7 and rk["bootstrap"]["resamples"] == 500
    assert top["result"].startswith("results/") and len(top["result_sha256"]) == 64


def test_bootstrap_is_deterministic_and_seeded(tmp_path):
    rs = load_results([write_results(tmp_path)])
    a = json.dumps(build_ranking(rs, seed=1, resamples=300))
    assert a == json.dumps(build_ranking(rs, seed=1, resamples=300))
    assert a != json.dumps(build_ranking(rs, seed=2, resamples=300))


def test_bootstrap_ties_and_single_round():
    out = bootstrap([[0.5], [0.5], [0.4]], seed=0, resamples=50, key="k")
    assert out["interval"] == [[1, 1], [1, 1], [3, 3]]
    assert out["p_beats_next"][0] == 0.5  # a tie counts half
    assert out["p_beats_next"][1] == 1.0


def test_equal_means_share_a_rank(tmp_path):
    a = make_result("a", syn=0.9, spread=0.0)
    b = make_result("b", syn=0.9, spread=0.0)
    for n, d in (("a", a), ("b", b)):
        (tmp_path / n).mkdir()
        (tmp_path / n / "result.json").write_text(json.dumps(d))
    rows = _table(build_ranking(load_results([tmp_path]), resamples=50))["rows"]
    assert [r["rank"] for r in rows] == [1, 1]


def test_ars_and_lrs_tables_and_acc_skipped(tmp_path):
    write_results(tmp_path, kinds=("lrs", "ars"), ipcs=(1, 10))
    acc = make_result("herding", ipc=10)
    acc["kind"] = "acc"
    acc["metrics"] = {"acc": {"mean": 0.9, "std": 0.0, "per_round": [0.9]}}
    (tmp_path / "acc").mkdir()
    (tmp_path / "acc" / "result.json").write_text(json.dumps(acc))
    rk = build_ranking(load_results([tmp_path]), resamples=100)
    keys = [(t["ipc"], t["score"]) for t in rk["tables"]]
    assert keys == [(1, "ars"), (1, "lrs"), (10, "ars"), (10, "lrs")]
    assert set(_table(rk, "ars")["rows"][0]["components"]) == {"delta_aug", "delta_noaug"}
    assert rk["skipped"] == ["digits/10/hard/herding/acc"]


def test_bad_inputs(tmp_path):
    with pytest.raises(DDRError, match="does not exist"):
        load_results([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(DDRError, match="no result.json"):
        load_results([tmp_path / "empty"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "other"}))
    with pytest.raises(DDRError, match="not a ddr.result/v1"):
        load_results([bad])
    d = make_result("x")
    d["metrics"]["lrs"]["per_round"] = []
    bad.write_text(json.dumps(d))
    with pytest.raises(DDRError, match="per_round"):
        load_results([bad])
    dup = tmp_path / "dup"
    write_results(dup / "a")
    write_results(dup / "b")
    with pytest.raises(DDRError, match="appears twice"):
        load_results([dup])
    with pytest.raises(DDRError, match="resamples"):
        build_ranking(load_results([dup / "a"]), resamples=0)


def test_rank_interval_covers_rank_over_many_methods(tmp_path):
    methods = {f"m{i}": (0.80 + 0.004 * i, 0.80) for i in range(8)}
    rows = _table(build_ranking(load_results([write_results(tmp_path, methods)]), resamples=400))["rows"]
    for r in rows:
        lo, hi = r["rank_interval"]
        assert 1 <= lo <= r["rank"] <= hi <= len(rows)
    assert np.isclose(sum(r["p_rank1"] for r in rows), 1.0, atol=1e-6)
