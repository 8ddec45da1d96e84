"""The plan of trainings (ddr.eval.plan): pure, the same trainings and seeds an evaluation runs, the
count an evaluation reports, and the cache keys its trainings get."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import ddr
from ddr.data.random_baseline import random_baseline
from ddr.errors import DDRError
from ddr.eval.plan import PlanInputs, plan
from ddr.protocols import load_protocol
from ddr.protocols.golden import GOLDEN_DIR, golden_set

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_the_plan_imports_no_torch():
    code = "import sys, ddr.eval.plan, ddr.eval.events, ddr.eval.finished, ddr.eval.lrs, ddr.eval.ars, ddr.eval.acc; " \
           "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("path", sorted(GOLDEN_DIR.glob("*@*.json")), ids=lambda p: p.stem)
def test_the_plan_lists_each_golden_record_s_trainings_in_order_with_their_seeds(path):
    g = json.loads(path.read_text())
    proto = load_protocol(g["protocol"]["name"])
    if proto.version != g["protocol"]["version"]:
        pytest.skip(f"{path.name} is an earlier version's record")
    inputs = PlanInputs(dataset=g["set"]["dataset"], ipc=g["set"]["ipc"], rounds=g["rounds"],
                        set_lr=golden_set(proto).lr)
    specs = plan(g["kind"], proto, inputs)
    assert [(s.role, s.round, s.lr, s.seed) for s in specs] == \
        [(t["role"], t["round"], t["lr"], t["seed"]) for t in g["trainings"]]


def test_plan_shapes():
    proto = load_protocol(str(FIXTURES / "tiny-lrs.yaml"))
    inputs = PlanInputs(dataset="digits", ipc=1, rounds=3)
    lrs = plan("lrs", proto, inputs)
    assert len(lrs) == 1 + 3 * 2 * 2 and lrs[0].role == "real" and lrs[0].group == "real/0"
    assert {s.group for s in lrs if s.role == "syn"} == {"syn/0", "syn/1", "syn/2"}
    assert all(s.batchable for s in lrs[1:]) and not lrs[0].batchable  # the hard, unaugmented LR grid
    assert len(plan("acc", proto, inputs)) == 3 * 2
    with pytest.raises(DDRError, match="no augmentation"):
        plan("ars", proto, inputs)
    assert len(plan("ars", load_protocol(str(FIXTURES / "tiny-ars.yaml")), inputs)) == 3 * 4 * 2
    soft = load_protocol(str(FIXTURES / "tiny-soft.yaml"))
    roles = [(s.role, s.labels) for s in plan("lrs", soft, PlanInputs(dataset="digits", ipc=1, rounds=1))]
    assert roles == [("real", "hard")] + [("syn_hard", "hard")] * 2 + [("syn", "teacher")] * 2 + [("random", "teacher")] * 2


def _method_protocol(tmp_path):
    path = tmp_path / "tiny-method.yaml"
    path.write_text(f"name: tiny-method\nversion: 1\ninclude: {FIXTURES / 'tiny-lrs.yaml'}\nlr_policy: method\nrounds: 1\n")
    return path


def test_lr_policy_method_plans_the_random_search_too(tmp_path):
    proto = load_protocol(str(_method_protocol(tmp_path)))
    specs = plan("lrs", proto, PlanInputs(dataset="digits", ipc=1, rounds=1, set_lr=0.02))
    assert [(s.role, s.lr) for s in specs] == [("real", 0.01), ("syn", 0.02), ("random", 0.02),
                                                ("random_search", 0.01), ("random_search", 0.05)]
    assert [s.role for s in plan("lrs", proto, PlanInputs(dataset="digits", ipc=1, rounds=1))].count("random_search") == 0


CASES = {  # kind, protocol, label, set lr
    "lrs-hard": ("lrs", "tiny-lrs.yaml", "hard", None),
    "lrs-method": ("lrs", None, "hard", 0.02),
    "ars": ("ars", "tiny-ars.yaml", "hard", None),
    "acc": ("acc", "tiny-lrs.yaml", "hard", None),
    "lrs-soft-s": ("lrs", "tiny-soft-s.yaml", "soft", None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_evaluation_trains_its_plan_and_the_plan_knows_the_keys(case, tmp_path, digits):
    """What runs is what was planned: the same trainings in the same order, with the seeds and cache keys
    the plan gives (a random set labelled by teachers has its key once the teachers are known)."""
    import torch

    from ddr.eval.session import EvalSession
    from ddr.train.cache import TrainingCache, training_key

    kind, fixture, label, lr = CASES[case]
    proto_path = str(_method_protocol(tmp_path) if fixture is None else FIXTURES / fixture)
    ds = random_baseline(digits, 1, 7)
    if label == "soft":
        ds.labels = torch.nn.functional.one_hot(ds.hard_labels(10), 10).float()
    ds.lr = lr
    lines = []
    res = ddr.evaluate(kind, distilled=ds, dataset="digits", ipc=1, protocol=proto_path, rounds=1, label=label,
                       track=False, cache_dir=tmp_path / "cache", progress=lines.append)
    proto = load_protocol(proto_path)
    session = EvalSession(protocol=proto, data=digits, ipc=1, device=torch.device("cpu"),
                          cache=TrainingCache(tmp_path / "cache"), tracker=None)
    specs = session.plan(kind, ds, 1)
    assert [(s.role, s.round, s.lr, s.seed) for s in specs] == \
        [(t["role"], t["round"], t["lr"], t["seed"]) for t in res.trainings]
    counted = [m for m in lines if m.startswith("[")]
    assert counted and all(m.startswith(f"[{i}/{len(specs)}]") for i, m in enumerate(counted, 1))
    keyed = session.keyed(specs)
    known = [(s, t) for s, t in zip(keyed, res.trainings) if s.key_inputs is not None]
    assert len(known) == len(specs) - (sum(s.role == "random" for s in specs) if label == "soft" else 0)
    assert all(training_key(s.cache_inputs("plain")) == t["key"] for s, t in known)


def test_a_real_checkpoint_is_tested_not_selected_under_validation_selection(tmp_path, digits):
    """The plan's checkpoint step: Acc(real) is the given network's test accuracy, under 'val' selection too
    (a checkpoint has no validation history to select on)."""
    import torch

    from ddr.models import build_model

    proto_path = tmp_path / "tiny-val.yaml"
    proto_path.write_text(f"name: tiny-val\nversion: 1\ninclude: {FIXTURES / 'tiny-lrs.yaml'}\nselection: val\n")
    torch.manual_seed(0)
    torch.save(build_model("ConvNet-2", 1, 10, (8, 8), width=16).state_dict(), tmp_path / "real.pth")
    res = ddr.evaluate("lrs", distilled=random_baseline(digits, 1, 7), dataset="digits", ipc=1,
                       protocol=str(proto_path), rounds=1, track=False, use_cache=False,
                       real_checkpoint=str(tmp_path / "real.pth"))
    real = res.trainings[0]
    assert real["role"] == "real" and "checkpoint" in real and real["selected"]
    assert res.accuracies["real"] == real["best_acc"] and len(res.trainings) == 5
    assert [e["role"] for e in res.selection["optimism_gap"]["per_selection"]] == ["syn", "random"]
