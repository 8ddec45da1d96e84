"""Model selection without the test set: the validation split, what each selection reports, the optimism gap."""
from pathlib import Path

import pytest
import torch
import yaml

import ddr
from ddr.data.random_baseline import random_baseline
from ddr.data.real import load_dataset
from ddr.errors import DDRError
from ddr.eval.selection import carve_validation, selected_point
from ddr.protocols import load_protocol

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _protocol(tmp_path, **over):
    raw = yaml.safe_load((FIXTURES / "tiny-lrs.yaml").read_text())
    raw.update(over)
    path = tmp_path / f"{raw['name']}-{over.get('selection', 'test')}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def test_validation_split_is_stratified_and_disjoint():
    data = load_dataset("digits")
    rest, val = carve_validation(data, 0.2)
    counts = torch.bincount(data.y_train, minlength=10)
    assert torch.equal(torch.bincount(val.y, minlength=10), torch.round(0.2 * counts.double()).long())
    assert len(rest.y_train) + len(val.y) == len(data.y_train) and rest.digest != data.digest
    val_rows = {r.numpy().tobytes() for r in val.x}
    assert not any(r.numpy().tobytes() in val_rows for r in rest.x_train)
    rb = random_baseline(rest, 10, seed=0)  # baselines are drawn from the rest only
    assert not any(r.numpy().tobytes() in val_rows for r in rb.images)
    again = carve_validation(data, 0.2)[1]
    assert again.indices == val.indices and again.digest == val.digest  # fixed split


def test_selected_point_rules():
    rec = {"best_acc": 0.9, "best_epoch": 10, "history": [[5, 0.8], [10, 0.9], [15, 0.85]],
           "val_history": [[5, 0.7], [10, 0.75], [15, 0.78]]}
    assert selected_point(rec, "test") == {"epoch": 10, "test_acc": 0.9}
    assert selected_point(rec, "last") == {"epoch": 15, "test_acc": 0.85}
    assert selected_point(rec, "val") == {"epoch": 15, "test_acc": 0.85, "val_acc": 0.78}


def test_protocol_selection_key(tmp_path):
    assert load_protocol("digits-lrs-hard").selection == "test"
    assert load_protocol("digits-lrs-hard-val").selection == "val"
    with pytest.raises(DDRError, match="selection must be"):
        load_protocol(_protocol(tmp_path, selection="best"))
    with pytest.raises(DDRError, match="not supported with zca"):
        load_protocol(_protocol(tmp_path, selection="val", zca={"eps": 0.1}))


@pytest.mark.slow
def test_val_selection_reports_test_accuracy_at_the_validation_choice(tmp_path):
    torch.set_num_threads(1)
    data = load_dataset("digits")
    syn = random_baseline(data, 3, seed=100)
    common = dict(distilled=syn, dataset="digits", ipc=3, track=False, cache_dir=tmp_path / "cache", rounds=2)
    test = ddr.evaluate("lrs", protocol=_protocol(tmp_path), **common)
    val = ddr.evaluate("lrs", protocol=_protocol(tmp_path, selection="val"), **common)
    last = ddr.evaluate("lrs", protocol=_protocol(tmp_path, selection="last"), **common)
    assert "selection" not in test.to_dict() and all("val_history" not in t for t in test.trainings)

    sel = val.to_dict()["selection"]
    assert sel["mode"] == "val" and sel["validation"]["images"] == len(carve_validation(data, 0.2)[1].indices)
    chosen = [t for t in val.trainings if t["selected"]]
    assert len(chosen) == 1 + 2 * 2 and all(t["val_history"] for t in val.trainings)
    for t in chosen:  # the reported test accuracy is the one at the validation-selected epoch
        hist = dict((e, a) for e, a in t["history"])
        assert t["selected_point"]["test_acc"] == hist[t["selected_point"]["epoch"]]
        assert t["selected_point"]["val_acc"] == max(a for _, a in t["val_history"])
    log = sel["optimism_gap"]["per_selection"]
    assert all(e["gap"] == pytest.approx(e["test_max"] - e["reported"]) and e["gap"] >= 0 for e in log)
    syn_rep = [e["reported"] for e in log if e["role"] == "syn"]
    assert val.accuracies["syn"] == syn_rep
    assert sel["optimism_gap"]["mean"] == pytest.approx(sum(e["gap"] for e in log) / len(log))

    lsel = last.to_dict()["selection"]
    assert lsel["mode"] == "last" and "validation" not in lsel
    for e, t in zip([e for e in lsel["optimism_gap"]["per_selection"] if e["role"] == "syn"],
                    [t for t in last.trainings if t["selected"] and t["role"] == "syn"]):
        assert e["reported"] == t["history"][-1][1]
    # 'last' reuses the test-selected trainings (same cache keys); 'val' trains on less data
    assert {t["key"] for t in last.trainings} == {t["key"] for t in test.trainings}
    assert not {t["key"] for t in val.trainings} & {t["key"] for t in test.trainings}
