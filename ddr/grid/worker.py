"""What a worker does with one cell: run ddr.evaluate with the cell's inputs and return the result.

`run_task` is the same function for every executor (called in-process, in a local worker process, or as
a Ray task), so the executors cannot change a number. `serve` is a local worker's main loop
(`python -m ddr.grid.worker FD`).
"""
from __future__ import annotations

import os
import signal
import socket
import traceback
from multiprocessing.connection import Connection
from typing import Any

from ddr.grid.events import Relay
from ddr.grid.messages import Done, Failed, ProgressLine, Ready, Task


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_task(task: Task, progress: Any = None) -> dict[str, Any]:
    """Evaluate one cell attempt. Returns result.json's dict; the caller stores it."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from ddr.data.digest import dvc_md5
    from ddr.errors import DDRError
    from ddr.eval.api import run_evaluation
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
