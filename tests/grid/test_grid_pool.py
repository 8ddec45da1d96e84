"""A parallel grid pools its cells' trainings: each unique training is trained once, by one worker, and the
cells finish from the cache with the numbers the serial, unpooled grid gives."""
import shutil
from dataclasses import replace

import pytest

from ddr.grid.events import PoolPlanned, PoolTrained, PoolTrainingFailed
from ddr.grid.executors import LocalExecutor
from ddr.grid.runner import run_grid
from ddr.grid.spec import load_grid
from tests.grid.conftest import FIXTURES, numbers

pytestmark = pytest.mark.slow  # two worker processes per grid (7-30 s, as the machine's load goes)

# Two methods at one ipc: the cells share the real reference and every random-side training.
SHARED = """\
name: pool-grid
datasets: [digits]
ipc: [1]
protocol: tiny-lrs.yaml
methods:
  rand-a: {random_seed: 400}
  rand-b: {random_seed: 401}
"""


class Events:
    """The grid's typed events, as GridProgress receives them."""

    def __init__(self):
        self.events = []

    def on_event(self, event):
        self.events.append(event)

    def __call__(self, line):
        pass

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


class Recording(LocalExecutor):
    """The local executor, noting what each task asks a worker to do; `break_first_training`: the first
    training task names a plan index the cell does not have, so the worker fails it for real."""

    def __init__(self, break_first_training=False, **kw):
        super().__init__(**kw)
        self.tasks, self.break_first = [], break_first_training

    def submit(self, key, task):
        if task.do == "train" and self.break_first:
            self.break_first = False
            task = replace(task, train=(10**6,))
        self.tasks.append(task.do)
        super().submit(key, task)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """The grid, and its cells' results on the serial executor (unpooled) with a cache of their own."""
    root = tmp_path_factory.mktemp("pool")
    shutil.copy(FIXTURES / "tiny-lrs.yaml", root / "tiny-lrs.yaml")
    (root / "grid.yaml").write_text(SHARED)
    spec = load_grid(root / "grid.yaml")
    report = run_grid(spec, out=root / "serial", track=False, cache_dir=root / "serial-cache")
    return root, spec, {c.cell.id: c.result for c in report.cells}


def test_two_workers_train_each_unique_training_once_and_equal_serial(shared):
    root, spec, serial = shared
    cache = root / "cache"
    seen, executor = Events(), Recording(workers=2)
    report = run_grid(spec, executor, out=root / "pooled", track=False, cache_dir=cache, progress=seen)
    assert [c.status for c in report.cells] == ["ran", "ran"]
    for c in report.cells:
        assert numbers(c.result) == numbers(serial[c.cell.id])  # pooling moves no number
    keys = {t["key"] for c in report.cells for t in c.result.trainings}
    total = sum(len(c.result.trainings) for c in report.cells)
    assert len(keys) < total  # the cells do share trainings
    trained = seen.of(PoolTrained)
    # every unique key trained exactly once: by the pool, none again inside a cell
    assert len(trained) == len(keys) == executor.tasks.count("train")
    assert all(t["cached"] for c in report.cells for t in c.result.trainings)
    assert len(list(cache.rglob("*.json"))) == len(keys)
    [planned] = seen.of(PoolPlanned)
    assert (planned.cells, planned.trainings, planned.cached, planned.unique) == (2, total, 0, len(keys))

    # the same cells again into another folder: every training cached, so no training task at all
    again, executor = Events(), Recording(workers=2)
    report = run_grid(spec, executor, out=root / "again", track=False, cache_dir=cache, progress=again)
    assert sorted(executor.tasks) == ["cell", "cell", "plan", "plan"]
    assert not again.of(PoolTrained)
    [planned] = again.of(PoolPlanned)
    assert (planned.trainings, planned.cached, planned.unique) == (total, total, 0)
    for c in report.cells:
        assert numbers(c.result) == numbers(serial[c.cell.id])


def test_a_failed_training_task_leaves_the_training_to_its_cells(shared):
    root, spec, serial = shared
    seen, executor = Events(), Recording(break_first_training=True, workers=2)
    report = run_grid(spec, executor, out=root / "broken", track=False, cache_dir=root / "broken-cache",
                      progress=seen)
    [failed] = seen.of(PoolTrainingFailed)
    assert failed.error.startswith("IndexError")
    assert [c.status for c in report.cells] == ["ran", "ran"]
    for c in report.cells:
        assert numbers(c.result) == numbers(serial[c.cell.id])
    # the failed one (the longest: the shared real reference) was trained by a cell's own evaluation
    assert failed.role == "real"
    assert {t["role"] for c in report.cells for t in c.result.trainings if not t["cached"]} == {"real"}
