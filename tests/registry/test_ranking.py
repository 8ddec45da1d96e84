import json

import numpy as np
import pytest

from ddr.errors import DDRError
from registry.ranking import build_ranking, load_results
from tests.registry.helpers import make_result, save_result, write_results


def _table(ranking, score="lrs", ipc=10):
    return next(t for t in ranking["tables"] if t["score"] == score and t["ipc"] == ipc)


def test_orders_by_lrs_with_certainty(tmp_path):
    methods = {"herding": (0.93, 0.80), "dm": (0.88, 0.80), "kcenter": (0.875, 0.80), "random": (0.80, 0.80)}
    rs = load_results([write_results(tmp_path, methods)])
    rk = build_ranking(rs, seed=7, resamples=500)
    t = _table(rk)
    assert t["certainty"] == "paired" and t["flags"] == []
    order = [r["method"] for r in t["rows"]]
    assert order[0] == "herding" and order[-1] == "random" and set(order[1:3]) == {"dm", "kcenter"}
    assert [r["rank"] for r in t["rows"]] == [1, 2, 3, 4]
    means = [r["mean"] for r in t["rows"]]
    assert means == sorted(means, reverse=True)
    top, second, third, rnd = t["rows"]
    assert top["p_beats_next"] > 0.95 and top["rank_interval"] == [1, 1]  # clearly separated
    assert 0.5 <= second["p_beats_next"] < 0.99  # dm and kcenter are close: the rank is uncertain
    assert second["rank_interval"] == [2, 3] and third["rank_interval"] == [2, 3]
    assert rnd["p_beats_next"] is None
    assert set(top["components"]) == {"hlr", "ior"}
    assert top["beats_random"]["verdict"] == "above" and top["beats_random"]["interval"][0] > 0
    assert rnd["beats_random"]["verdict"] == "straddles"
    assert rk["posterior_draws"]["seed"] == 7 and rk["posterior_draws"]["draws"] == 500
    assert top["result"].startswith("results/") and len(top["result_sha256"]) == 64


def test_bootstrap_is_deterministic_and_seeded(tmp_path):
    rs = load_results([write_results(tmp_path)])
    a = json.dumps(build_ranking(rs, seed=1, resamples=300))
    assert a == json.dumps(build_ranking(rs, seed=1, resamples=300))
    assert a != json.dumps(build_ranking(rs, seed=2, resamples=300))


def test_single_round_is_flagged_not_certain(tmp_path):
    for m, syn in (("a", 0.9), ("b", 0.8)):
        save_result(tmp_path / m, make_result(m, syn=syn, rounds=1))
    t = _table(build_ranking(load_results([tmp_path]), resamples=50))
    assert t["certainty"] is None and "1 round" in t["flags"][0]
    assert [r["rank_interval"] for r in t["rows"]] == [[1, 2], [1, 2]]  # zero spread is not certainty
    assert all(r["p_beats_next"] is None and r["flags"] for r in t["rows"])
    assert all(r["beats_random"]["verdict"] == "unknown" for r in t["rows"])


def test_equal_means_share_a_rank(tmp_path):
    a = make_result("a", syn=0.9, spread=0.0)
    b = make_result("b", syn=0.9, spread=0.0)
    for n, d in (("a", a), ("b", b)):
        save_result(tmp_path / n, d)
    rows = _table(build_ranking(load_results([tmp_path]), resamples=50))["rows"]
    assert [r["rank"] for r in rows] == [1, 1]


def test_ars_and_lrs_tables_and_acc_skipped(tmp_path):
    write_results(tmp_path, kinds=("lrs", "ars"), ipcs=(1, 10))
    acc = make_result("herding", ipc=10)
    acc["kind"] = "acc"
    acc["metrics"] = {"acc": {"mean": 0.9, "std": 0.0, "per_round": [0.9]}}
    save_result(tmp_path / "acc", acc)
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


def _write(root, name, d):
    save_result(root / name, d)


def test_table_refuses_mixed_weights_and_protocol_versions(tmp_path):
    a, b = make_result("a"), make_result("b")
    b["weight"] = 0.7
    _write(tmp_path / "w", "a", a)
    _write(tmp_path / "w", "b", b)
    with pytest.raises(DDRError, match="mixes weights 0.5, 0.7"):
        build_ranking(load_results([tmp_path / "w"]), resamples=20)
    b = make_result("b")
    b["protocol"] = dict(b["protocol"], version=2)
    _write(tmp_path / "v", "a", a)
    _write(tmp_path / "v", "b", b)
    with pytest.raises(DDRError, match="mixes versions 1, 2 of protocol digits-lrs-hard"):
        build_ranking(load_results([tmp_path / "v"]), resamples=20)


def test_mixed_round_counts_are_flagged_and_unpaired(tmp_path):
    _write(tmp_path, "a", make_result("a", syn=0.9, rounds=5))
    _write(tmp_path, "b", make_result("b", syn=0.8, rounds=3))
    t = _table(build_ranking(load_results([tmp_path]), resamples=200))
    assert t["certainty"] == "unpaired" and t["unpaired_reason"] == "different round counts (a 5, b 3)"
    assert t["flags"] == []  # the reason says it once
    assert [r["rounds"] for r in t["rows"]] == [5, 3]


def test_combined_lrs_table_across_label_kinds(tmp_path):
    _write(tmp_path, "h", make_result("herding", label="hard", syn=0.90))
    _write(tmp_path, "d", make_result("dm", label="hard", syn=0.86))
    _write(tmp_path, "s", make_result("herding", label="soft", syn=0.95))
    rk = build_ranking(load_results([tmp_path]), resamples=200)
    assert [(t["label"], t["score"]) for t in rk["tables"]] == [("all", "lrs"), ("hard", "lrs"), ("soft", "lrs")]
    combined = rk["tables"][0]
    assert [r["method"] for r in combined["rows"]] == ["herding (soft)", "herding (hard)", "dm (hard)"]
    assert [r["label"] for r in combined["rows"]] == ["soft", "hard", "hard"]
    assert np.isclose(sum(r["p_rank1"] for r in combined["rows"]), 1.0)


def test_val_selected_results_form_their_own_tables(tmp_path):
    _write(tmp_path, "a", make_result("a", syn=0.90))
    _write(tmp_path, "b", make_result("b", syn=0.85))
    for m, syn in (("a", 0.88), ("b", 0.86)):
        d = make_result(m, syn=syn)
        d["selection"] = {"mode": "val", "optimism_gap": {"mean": 0.01}}
        _write(tmp_path, f"{m}-val", d)
    rs = load_results([tmp_path])
    assert sorted(r.cell_id for r in rs)[:2] == ["digits/10/hard/a/lrs", "digits/10/hard/a@val/lrs"]
    rk = build_ranking(rs, resamples=100)
    assert [t.get("selection", "test") for t in rk["tables"]] == ["test", "val"]
    from registry.ranking import table_key
    from registry.sensitivity import build_sensitivity
    assert table_key(rk["tables"][1]) == "digits/ipc10/hard/lrs/val"
    (sel,) = build_sensitivity(rk)["selection"]
    assert sel["methods"] == ["a", "b"] and sel["tau"] == 1.0


def test_rounds_pair_on_the_recorded_draws_of_one_data_set(tmp_path):
    a, b = make_result("a", syn=0.9), make_result("b", syn=0.8)
    b["inputs"]["random"][2]["md5"] = "0" * 32 + ".dir"  # read from a versioned folder: the draw is the same
    b["inputs"]["random"][2]["path"] = "data/random/digits-ipc10/seed2"
    _write(tmp_path / "same", "a", a)
    _write(tmp_path / "same", "b", b)
    assert _table(build_ranking(load_results([tmp_path / "same"]), resamples=50))["certainty"] == "paired"
    b["inputs"]["dataset"]["sha256"] = "f" * 64  # the same indices into another data set: other images
    _write(tmp_path / "other", "a", a)
    _write(tmp_path / "other", "b", b)
    t = _table(build_ranking(load_results([tmp_path / "other"]), resamples=50))
    assert t["certainty"] == "unpaired" and t["unpaired_reason"] == "different random draws: round 0 of b did not use a's subset"


def test_one_set_under_two_names_is_noted_in_every_rendering(tmp_path, ddr_cli):
    a, b = make_result("herding", syn=0.9), make_result("kcenter", syn=0.9)
    b["inputs"]["distilled"]["content_sha256"] = a["inputs"]["distilled"]["content_sha256"]
    b["metrics"], b["accuracies"] = a["metrics"], a["accuracies"]  # one set, one protocol: the same numbers
    _write(tmp_path / "res", "herding", a)
    _write(tmp_path / "res", "kcenter", b)
    _write(tmp_path / "res", "dm", make_result("dm", syn=0.85))
    t = _table(build_ranking(load_results([tmp_path / "res"]), resamples=50))
    rows = {r["method"]: r for r in t["rows"]}
    assert rows["herding"]["same_set_as"] == ["kcenter"] and rows["kcenter"]["same_set_as"] == ["herding"]
    assert "same_set_as" not in rows["dm"]
    note = "herding and kcenter are the same set (same images, labels and LR) under 2 names"
    assert note in t["flags"]
    code, out, err = ddr_cli("rank", str(tmp_path / "res"), "--out", str(tmp_path / "ranking"))
    assert code == 0 and note in out, err
    for name in ("ranking.md", "ranking.csv"):
        assert note in (tmp_path / "ranking" / name).read_text()
    # another LR is another set
    b["inputs"]["distilled"]["lr"] = 0.01
    _write(tmp_path / "lr", "herding", a)
    _write(tmp_path / "lr", "kcenter", b)
    assert not any("same set" in f for f in _table(build_ranking(load_results([tmp_path / "lr"]), resamples=50))["flags"])
