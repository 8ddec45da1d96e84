"""A pooled grid's worker tasks, run in this process as a worker runs them: a cell's plan names the trainings
`ddr eval --plan` keys and the cache lacks, and a training task stores exactly that training under that key."""
import shutil
from dataclasses import replace

from ddr.eval.plan_report import describe
from ddr.grid.cost import training_cost
from ddr.grid.messages import Task
from ddr.grid.spec import parse_grid
from ddr.grid.worker import run_task
from ddr.train.cache import TrainingCache
from tests.grid.conftest import FIXTURES


def _cell(tmp_path, **extra):
    shutil.copy(FIXTURES / "tiny-lrs.yaml", tmp_path / "tiny-lrs.yaml")
    spec = parse_grid({"name": "tasks", "datasets": ["digits"], "ipc": [1], "protocol": "tiny-lrs.yaml",
                       "rounds": 1, "methods": {"r": {"random_seed": 7}}, **extra},
                      str(tmp_path / "grid.yaml"), tmp_path)
    [cell] = spec.cells()
    return cell


def test_plan_then_train_one_training_into_the_cache(tmp_path):
    cell = _cell(tmp_path)
    cache = str(tmp_path / "cache")
    task = Task(cell=cell.to_dict(), cache_dir=cache, threads=1)
    plan = run_task(replace(task, do="plan"))
    doc = describe(cell.request(None, device=None, tracking_uri=None, cache_dir=cache, tags={}, out=None)
                   .replace(distilled=_distilled(cell)))
    assert plan["total"] == doc["count"] == 5 and plan["cached"] == 0
    assert [(t["index"], t["key"]) for t in plan["pool"]] == [(t["n"] - 1, t["key"]) for t in doc["trainings"]]
    real = next(t for t in plan["pool"] if t["role"] == "real")
    assert real["cost"] > max(t["cost"] for t in plan["pool"] if t["role"] != "real") > 0  # the real set is larger

    syn = next(t for t in plan["pool"] if t["role"] == "syn")
    done = run_task(replace(task, do="train", train=(syn["index"],)))
    assert [t["key"] for t in done["trained"]] == [syn["key"]]
    assert TrainingCache(cache).get(syn["key"])["best_acc"] == done["trained"][0]["best_acc"]
    # trained once: a second task finds it held, and the cell's plan no longer pools it
    assert run_task(replace(task, do="train", train=(syn["index"],))) == {"trained": []}
    again = run_task(replace(task, do="plan"))
    assert again["cached"] == 1 and syn["key"] not in {t["key"] for t in again["pool"]}


def test_batched_engine_keeps_its_batchable_trainings_in_the_cell(tmp_path):
    cell = _cell(tmp_path, engine="batched")
    plan = run_task(Task(cell=cell.to_dict(), cache_dir=str(tmp_path / "cache"), threads=1, do="plan"))
    # the hard-label LRS students train together in the cell; only the real reference is pooled
    assert plan["total"] == 5 and [t["role"] for t in plan["pool"]] == ["real"]


def test_training_cost_counts_epochs_and_augmentation():
    from ddr.eval.plan import PlanInputs, plan
    from ddr.protocols import load_protocol

    specs = plan("ars", load_protocol("digits-ars-hard"), PlanInputs(dataset="digits", ipc=1, rounds=1))
    aug = next(s for s in specs if s.role == "syn_aug")
    noaug = next(s for s in specs if s.role == "syn_noaug")
    assert training_cost(aug, 10) > training_cost(noaug, 10) > 0
    assert training_cost(noaug, 100) > training_cost(noaug, 10)


def _distilled(cell):
    from ddr.data.random_baseline import random_baseline
    from ddr.data.real import load_dataset

    return random_baseline(load_dataset(cell.dataset, cell.root), cell.ipc, cell.source["random_seed"])
