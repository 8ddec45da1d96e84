"""The correction ledger: each correction undone alone, on a real digits set, paired by round."""
import dataclasses
import json
from pathlib import Path

import pytest

from ddr import metrics
from ddr.eval.ledger import BEHAVIOURS, CASES, QUANTITIES, Case, build, merged, paired, to_markdown, undone
from ddr.protocols import load_protocol
from ddr.protocols.editions import EDITION_RULES, RULES
from ddr.protocols.ledger import LEDGER_FILE, rows_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TINY, SOFT = str(FIXTURES / "tiny-lrs.yaml"), str(FIXTURES / "tiny-soft.yaml")


# DD-Ranking cached Acc(real) for ImageNet-1K and TinyImageNet ResNet-18-BN only: nothing to undo on digits
NOT_ON_DIGITS = {"cached-real-accuracy"}
LEADERBOARD_ONLY = {"real-reference-0.1", "schedule-0.1", "test-window-0.1", "scheduler-per-batch-0.1"}


def test_every_rule_that_undoes_a_correction_has_a_ledger_case_that_it_changes():
    # the leaderboard's extra rules are 0.1.x behaviours; the behaviours no rule states have cases too
    ddr_corrections = set(EDITION_RULES["ddranking-0.2"]) - NOT_ON_DIGITS
    assert {c.rule for c in CASES} == ddr_corrections | set(BEHAVIOURS)
    for case in CASES:
        if case.rule in BEHAVIOURS:
            continue
        proto = load_protocol(case.protocol)
        proto = case.make_variant(proto) if case.make_variant else proto
        assert undone(proto, case.rule) != proto  # the case measures something
    with pytest.raises(ValueError, match="changes nothing"):
        undone(load_protocol("digits-lrs-hard"), "quarter-cosine")  # without the variant: step schedule


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    cache = tmp_path_factory.mktemp("ledger-cache")
    cosine = dataclasses.replace(CASES[3], protocol=TINY)
    method_lr = dataclasses.replace(CASES[4], protocol=TINY)
    crop = dataclasses.replace(CASES[5], protocol=TINY, folder_px=16)
    teachers = dataclasses.replace(next(c for c in CASES if c.rule == "teachers-not-frozen"), protocol=SOFT)
    jpeg = Case("jpeg-random-baselines", TINY, "digits as a CIFAR-10 folder, random_data_format image",
                lambda p: dataclasses.replace(p, dataset="cifar10", random_data_format="image"), cifar=True)
    cases = (Case("real-reference-as-evaluator", TINY), Case("hard-run-without-dsa", SOFT), cosine, method_lr, crop,
             teachers, jpeg)
    return build(method="random", ipc=2, seed=5, cache_dir=str(cache), cases=cases, progress=lambda m: None)


def test_a_ledger_row_changes_only_what_its_correction_touches(ledger):
    rows = {(r["rule"], r["protocol"]): r for r in ledger["rows"]}
    real = rows["real-reference-as-evaluator", "tiny-lrs"]
    assert real["undone"]["real.epochs"] == [6, 20] and real["acc_syn"]["delta"] == 0 == real["ior"]["delta"]
    assert real["hlr"]["delta"] == pytest.approx(real["acc_real"]["delta"])  # HLR moves with Acc(real) alone
    assert real["acc_real"]["delta"] != 0 and real["acc_syn"]["se"] == 0
    hard = rows["hard-run-without-dsa", "tiny-soft"]
    assert hard["undone"]["hard.augmentation"] == [{"name": "dsa"}, None]
    assert hard["acc_syn"]["delta"] == 0 and hard["acc_real"]["delta"] == 0  # only Acc(syn, hard), so HLR
    cos = rows["quarter-cosine", "tiny-lrs"]
    assert cos["undone"]["train.scheduler"] == ["cosineannealing", "cosine"] and cos["variant"]
    lr = rows["lr-search-asymmetry", "tiny-lrs"]
    assert lr["acc_syn"]["delta"] == 0 and lr["undone"]["ior_random"] == ["method", "search"]
    crop = rows["crop-original-files", "tiny-lrs"]  # only the synthetic side trains from other pixels
    assert crop["undone"] == {"crop_originals": [False, True]} and crop["variant"]
    assert crop["acc_random"]["delta"] == 0 == crop["acc_real"]["delta"]
    frozen = rows["teachers-not-frozen", "tiny-soft"]  # SCE's gradient into the teachers moves no student
    assert frozen["undone"] == BEHAVIOURS["teachers-not-frozen"].undone and frozen["variant"]
    assert all(frozen[q] == {"delta": 0, "se": 0, "rounds": 2} for q in QUANTITIES)
    jpeg = rows["jpeg-random-baselines", "tiny-lrs"]  # only the random side trains on other pixels
    assert jpeg["undone"] == {"random_jpeg": [False, True]}
    assert jpeg["acc_syn"]["delta"] == 0 == jpeg["acc_real"]["delta"] and jpeg["acc_random"]["delta"] != 0
    for r in (real, hard, cos, lr, crop, frozen, jpeg):
        assert {q for q in QUANTITIES if q in r} == set(QUANTITIES) and r["acc_syn"]["rounds"] == 2


def test_the_analytic_rows_follow_from_the_ddr_result(ledger):
    pct = next(r for r in ledger["rows"] if r["rule"] == "lrs-from-percent" and r["protocol"] == "tiny-lrs")
    twice = next(r for r in ledger["rows"] if r["rule"] == "lrs-appended-twice" and r["protocol"] == "tiny-lrs")
    assert pct["lrs"]["rounds"] == 2 and twice["lrs"]["delta"] == 0
    assert twice["lrs_std"]["delta"] != 0 or pct["lrs"]["delta"] != 0
    assert paired([0.1, 0.2], [0.3, 0.2]) == pytest.approx({"delta": 0.1, "se": 0.1, "rounds": 2})
    assert metrics.exp_normalise(100 * 0.01) == pytest.approx(1.0)  # one point of alpha in percent: e^1 -> 1


def test_the_ledger_renders_and_a_release_finds_its_protocols_rows(ledger, tmp_path):
    md = to_markdown(ledger)
    assert md.count("\n| ") == len(ledger["rows"]) + 1 and "± " in md
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(ledger))
    got = rows_for([("tiny-lrs", 1)], path)
    assert got and all(r["protocol"] == "tiny-lrs" for r in got) and rows_for([("digits-lrs-hard", 99)], path) == []


def test_measuring_some_cases_again_keeps_the_other_rows(ledger):
    again = {"rows": [{**r, "lrs": {"delta": 1.0, "se": 0.0, "rounds": 2}} for r in ledger["rows"]
                      if r["rule"] == "jpeg-random-baselines"] + [{"rule": "new-one", "protocol": "tiny-lrs"}]}
    out = merged(ledger, again)
    assert [r["rule"] for r in out["rows"]] == [r["rule"] for r in ledger["rows"] if r["rule"] not in
                                                ("lrs-from-percent", "lrs-appended-twice")] + ["new-one"] + \
        [r["rule"] for r in ledger["rows"] if r["rule"] in ("lrs-from-percent", "lrs-appended-twice")]
    assert next(r for r in out["rows"] if r["rule"] == "jpeg-random-baselines")["lrs"]["delta"] == 1.0
    assert [r for r in out["rows"] if r["rule"] not in ("jpeg-random-baselines", "new-one")] == \
        [r for r in ledger["rows"] if r["rule"] != "jpeg-random-baselines"]


def test_the_committed_ledger_covers_every_case_and_analytic_correction():
    ledger = json.loads(LEDGER_FILE.read_text())
    have = {(r["rule"], r["protocol"]) for r in ledger["rows"]}
    assert {(c.rule, c.protocol) for c in CASES} <= have
    assert {r for r, _ in have} >= set(RULES) - LEADERBOARD_ONLY - NOT_ON_DIGITS
    for r in ledger["rows"]:
        assert r["protocol_version"] == load_protocol(r["protocol"]).version  # made with today's protocols
    hard = load_protocol("digits-lrs-hard")
    assert {r["rule"] for r in rows_for([(hard.name, hard.version)])} >= {"real-reference-as-evaluator",
                                                                          "lrs-from-percent"}
