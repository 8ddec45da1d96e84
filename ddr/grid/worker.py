"""What a worker does with a task: run ddr.evaluate with a cell's inputs and return the result; for a pooled
grid (ddr.grid.pool), also a cell's keyed plan and the training of some of its trainings into the cache.

`run_task` is the same function for every executor (called in-process, in a local worker process, or as
a Ray task), so the executors cannot change a number. `serve` is a local worker's main loop
(`python -m ddr.grid.worker FD`).
"""
from __future__ import annotations

import os
import signal
import socket
import traceback
from collections import OrderedDict
from multiprocessing.connection import Connection
from typing import Any

from ddr.grid.events import Relay
from ddr.grid.messages import Done, Failed, ProgressLine, Ready, Task


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_task(task: Task, progress: Any = None) -> dict[str, Any]:
    """Run one task: a cell attempt (result.json's dict back; the caller stores it), or for a pooled grid
    a cell's keyed plan or some of its trainings (ddr.grid.pool)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if task.do == "plan":
        return plan_task(task)
    if task.do == "train":
        return train_task(task)
    from ddr.errors import DDRError
    from ddr.eval.api import run_evaluation

    cell, distilled = _inputs(task)
    tags = {"ddr.cell": cell.id, "ddr.attempt": task.attempt, "ddr.worker": worker_id(), "ddr.executor": task.executor}
    if task.grid:
        tags["ddr.grid"] = task.grid
    request = cell.request(distilled, device=task.device, tracking_uri=task.tracking_uri, cache_dir=task.cache_dir,
                           tags=tags, out=task.out)  # out: files beside the result; the runner stores result.json
    result = run_evaluation(request, progress=progress)
    if result.inputs["distilled"]["md5"] != cell.digest:  # a generated set that does not regenerate the same
        raise DDRError(f"cell {cell.id}: the distilled set's digest {result.inputs['distilled']['md5']} is not "
                       f"the planned {cell.digest}")
    d = result.to_dict()
    d["extra"] = {**d.get("extra", {}), "cell": cell.id, "attempt": task.attempt, "worker": worker_id()}
    return d


def _inputs(task: Task) -> tuple[Any, Any]:
    """(the task's Cell, its distilled set: the folder, or the random baseline regenerated), its versioned
    inputs checked against the digests the grid was planned with; sets the worker's threads."""
    from ddr.data.digest import dvc_md5
    from ddr.errors import DDRError
    from ddr.grid.cell import Cell

    cell = Cell.from_dict(task.cell)
    if "path" in cell.source:
        distilled: Any = cell.source["path"]
        if not os.path.exists(distilled):
            raise DDRError(f"cell {cell.id}: no such distilled set on {socket.gethostname()}: {distilled}")
        if dvc_md5(distilled) != cell.digest:
            raise DDRError(f"cell {cell.id}: {distilled} changed since the grid was planned (md5 is not "
                           f"{cell.digest}); run the grid again to plan it anew")
    else:
        from ddr.data.random_baseline import random_baseline
        from ddr.data.real import load_dataset

        distilled = random_baseline(load_dataset(cell.dataset, cell.root), cell.ipc, cell.source["random_seed"])
    for item in [*cell.teachers, *cell.random]:  # the versioned inputs the cell's hash names
        if not os.path.exists(item["path"]) or dvc_md5(item["path"]) != item["md5"]:
            raise DDRError(f"cell {cell.id}: {item['path']} is missing or changed since the grid was planned "
                           f"(md5 is not {item['md5']}); run the grid again to plan it anew")
    set_threads(task.threads, task.device)
    return cell, distilled


OPENED_CELLS = 4  # a worker keeps this many cells' sessions open: pooled trainings come cell by cell
_opened: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


def _keyed_plan(task: Task, fresh: bool = False) -> Any:
    """The cell's KeyedPlan (ddr.eval.api), kept open for its training tasks; `fresh`: opened anew (a plan
    task: its cache hits and inputs as they are now, also in a worker that served an earlier grid)."""
    from ddr.eval.api import keyed_plan

    memo = (task.cell["id"], task.cache_dir, task.device)
    if memo in _opened and not fresh:
        _opened.move_to_end(memo)
        return _opened[memo]
    cell, distilled = _inputs(task)
    kp = keyed_plan(cell.request(distilled, device=task.device, tracking_uri=None, cache_dir=task.cache_dir,
                                 tags={}, out=None))
    _opened[memo] = kp
    _opened.move_to_end(memo)
    while len(_opened) > OPENED_CELLS:
        _opened.popitem(last=False)
    return kp


def plan_task(task: Task) -> dict[str, Any]:
    """A cell's trainings for the grid's pool: each one whose key is known, not cached, and trained alone
    (a batched engine's batchable trainings train together in the cell; a real reference that is not
    trained and the trainings whose teachers are not trained yet stay there too), with its key and expected
    cost (ddr.grid.cost)."""
    from ddr.errors import DDRError
    from ddr.grid.cost import training_cost

    kp = _keyed_plan(task, fresh=True)
    if kp.opened.distilled.digest() != task.cell["digest"]:
        raise DDRError(f"cell {task.cell['id']}: the distilled set's digest is not the planned {task.cell['digest']}")
    data, batched = kp.opened.data, kp.executor.engine.batched
    pool = []
    for i, (spec, key, hit) in enumerate(zip(kp.specs, kp.keys, kp.cached)):
        if key is None or hit or (batched and spec.batchable):
            continue
        images = int(data.x_train.shape[0]) if spec.data == "real" else task.cell["ipc"] * data.num_classes
        pool.append({"index": i, "key": key, "cost": training_cost(spec, images), "role": spec.role,
                     "round": spec.round, "lr": spec.lr})
    return {"total": len(kp.specs), "cached": sum(1 for h in kp.cached if h), "pool": pool}


def train_task(task: Task) -> dict[str, Any]:
    """Train the cell's plan trainings `task.train` into the shared cache (no MLflow: the cell's evaluation
    logs them when it finds them there)."""
    kp = _keyed_plan(task)
    trained = []
    for i in task.train:
        done = kp.executor.fill(kp.specs[i])
        if done is not None:
            key, record = done
            trained.append({"index": i, "key": key, "best_acc": record["best_acc"], "seconds": record["seconds"]})
    return {"trained": trained}


def set_threads(threads: int | None, device: str | None) -> None:
    """Torch's CPU threads for this worker, set on purpose: torch's default (every core) in N workers
    oversubscribes the machine, and on a busy machine a thread that waits for a core stalls every step."""
    if not threads:
        return
    import torch

    from ddr.train.engine import resolve_device

    if resolve_device(device).type == "cpu" and torch.get_num_threads() != threads:
        torch.set_num_threads(int(threads))


def _terminate(signum, frame):  # SIGTERM from the driver: unwind, so the MLflow parent ends KILLED
    raise KeyboardInterrupt


def serve(conn: Connection) -> None:
    """A local worker: receive Tasks on `conn` (None: stop), send back Ready once, then ProgressLine
    messages and Done or Failed for each task (ddr.grid.messages). Ctrl-C is the driver's to handle
    (SIGINT ignored here); the driver stops workers with SIGTERM. Its environment (CUDA_VISIBLE_DEVICES,
    OMP_NUM_THREADS, MLflow) is set by the driver before the interpreter starts."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate)
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from ddr.errors import DDRError

    conn.send(Ready(os.getpid()))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if task is None:
            return
        try:
            result = run_task(task, progress=Relay(lambda event: conn.send(ProgressLine(event))))
            conn.send(Done(result))
        except KeyboardInterrupt:
            return
        except DDRError as exc:
            conn.send(Failed(str(exc), retriable=False))
        except Exception as exc:
            conn.send(Failed(f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}", retriable=True))


if __name__ == "__main__":
    import sys

    serve(Connection(int(sys.argv[1])))
