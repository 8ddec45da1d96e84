"""Executors: where a grid's tasks run (cell attempts; for a parallel grid also each cell's plan and its
pooled trainings, ddr.grid.pool). One small interface, three engines.

- SerialExecutor: in this process, one cell at a time (the default; tests and the embedded default).
- LocalExecutor: long-lived worker processes on this machine, one per GPU (pinned with
  CUDA_VISIBLE_DEVICES) or N CPU workers; a worker that dies fails only its own task and is replaced.
- RayExecutor: one Ray task per grid task (num_gpus per task, fractional for small cells), on a local Ray or
  an existing cluster (`address`). Ray is an optional extra: pip install .[ray].

The runner owns attempts, retries, the pool, MLflow bookkeeping and the cell store; an executor only runs
`ddr.grid.worker.run_task(task)` somewhere and reports each outcome, by the key it was submitted under.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Protocol

from ddr.errors import DDRError
from ddr.grid.executor_registry import EXECUTORS
from ddr.eval.events import Listener
from ddr.grid.events import CellEvent, Relay
from ddr.grid.messages import Done, ProgressLine, Ready, Task, WorkerMessage

Progress = Listener  # the grid's events (ddr.grid.events)


@dataclass
class Outcome:
    key: str
    ok: bool
    result: dict[str, Any] | None = None
    error: str = ""
    retriable: bool = True


class Executor(Protocol):
    name: str
    parallel: bool  # several cells at once (then a sqlite store is put behind an MLflow server)

    def preflight(self) -> None: ...  # refuse what cannot work (an unreachable cluster) before anything is written
    def start(self, env: dict[str, str], progress: Progress) -> None: ...
    def capacity(self) -> int: ...  # how many more tasks it takes now
    def submit(self, key: str, task: Task) -> None: ...
    def poll(self, timeout: float) -> list[Outcome]: ...
    def stop(self) -> None: ...  # Ctrl-C: interrupt what runs (their MLflow parents end KILLED)
    def close(self) -> None: ...


class SerialExecutor:
    name, parallel = "serial", False

    def __init__(self) -> None:
        self.queue: list[tuple[str, Task]] = []
        self.progress: Progress = lambda msg: None

    def preflight(self) -> None:
        pass

    def start(self, env: dict[str, str], progress: Progress) -> None:
        self.progress = progress

    def capacity(self) -> int:
        return 0 if self.queue else 1

    def submit(self, key: str, task: Task) -> None:
        self.queue.append((key, task))

    def poll(self, timeout: float) -> list[Outcome]:
        from ddr.grid.worker import run_task

        if not self.queue:
            return []
        key, task = self.queue.pop(0)
        try:
            return [Outcome(key, True, run_task(task, progress=Relay(lambda e: self.progress(CellEvent(key, e)))))]
        except DDRError as exc:
            return [Outcome(key, False, error=str(exc), retriable=False)]
        except Exception as exc:  # KeyboardInterrupt propagates: the runner stops the grid
            return [Outcome(key, False, error=f"{type(exc).__name__}: {exc}")]

    def stop(self) -> None:
        self.queue.clear()

    def close(self) -> None:
        pass


def _gpu_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:
        return 0


class LocalExecutor:
    """Worker processes on this machine (`python -m ddr.grid.worker`, talking over a socket pair). With
    GPUs: one worker per GPU by default, worker i sees only GPU i % n_gpus (CUDA_VISIBLE_DEVICES). Without:
    `workers` CPU workers (default: CPU count), each with OMP_NUM_THREADS = cores // workers unless set.
    A worker that dies fails only the cell it held, and is replaced."""

    name, parallel = "local", True

    def __init__(self, workers: int | None = None, gpus: int | None = None):
        self.gpus = _gpu_count() if gpus is None else gpus
        self.n = workers or self.gpus or (os.cpu_count() or 1)
        if self.n < 1:
            raise DDRError("workers must be at least 1")
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        self.busy: list[str | None] = []
        self.ready: list[bool] = []
        self.queued: dict[int, Task] = {}
        self.env: dict[str, str] = {}
        self.progress: Progress = lambda msg: None

    def _spawn(self, i: int) -> None:
        import socket
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        env = {**os.environ, **self.env}
        if self.gpus:
            env["CUDA_VISIBLE_DEVICES"] = str(i % self.gpus)
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // self.n)))
        ours, theirs = socket.socketpair()
        # the worker's own output (warnings, tracebacks) goes to our stderr: stdout is the command's table
        p = subprocess.Popen([sys.executable, "-m", "ddr.grid.worker", str(theirs.fileno())], env=env,
                             pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=2)
        theirs.close()
        self.procs[i], self.conns[i] = p, Connection(ours.detach())
        self.busy[i], self.ready[i] = None, False

    def preflight(self) -> None:
        pass

    def start(self, env: dict[str, str], progress: Progress) -> None:
        self.env, self.progress = dict(env), progress
        self.procs, self.conns = [None] * self.n, [None] * self.n
        self.busy, self.ready = [None] * self.n, [False] * self.n
        for i in range(self.n):
            self._spawn(i)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p is not None]

    def capacity(self) -> int:
        return sum(b is None for b in self.busy)

    def submit(self, key: str, task: Task) -> None:
        i = self.busy.index(None)
        self.busy[i] = key
        if self.ready[i]:
            self._send(i, task)
        else:  # still importing: sent when it says ready
            self.queued[i] = task

    def _send(self, i: int, task: Task) -> None:
        try:
            self.conns[i].send(task)
        except OSError:
            pass  # it died: the next poll sees its end of the socket close and fails the cell

    def poll(self, timeout: float) -> list[Outcome]:
        from multiprocessing.connection import wait

        outcomes: list[Outcome] = []
        index = {c: i for i, c in enumerate(self.conns)}
        for conn in wait(list(index), timeout):
            i = index[conn]
            dead = False
            while True:
                try:
                    if not conn.poll():
                        break
                    msg = conn.recv()
                except (EOFError, OSError):
                    dead = True
                    break
                outcomes += self._handle(i, msg)
            if dead:
                p, key = self.procs[i], self.busy[i]
                try:
                    code = p.wait(10)
                except Exception:
                    p.kill()
                    code = p.wait()
                conn.close()
                self.queued.pop(i, None)
                if key is not None:
                    outcomes.append(Outcome(key, False, error=f"worker pid {p.pid} died (exit {code})"))
                self._spawn(i)
        return outcomes

    def _handle(self, i: int, msg: WorkerMessage) -> list[Outcome]:
        if isinstance(msg, Ready):
            self.ready[i] = True
            task = self.queued.pop(i, None)
            if task is not None:
                self._send(i, task)
            return []
        if isinstance(msg, ProgressLine):
            self.progress(CellEvent(self.busy[i], msg.event))
            return []
        key, self.busy[i] = self.busy[i], None
        if isinstance(msg, Done):
            return [Outcome(key, True, msg.result)]
        return [Outcome(key, False, error=msg.error, retriable=msg.retriable)]  # Failed

    def stop(self) -> None:
        import signal

        for p in self.procs:
            if p is not None and p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGTERM)  # unwinds the cell: its MLflow parent ends KILLED
                except ProcessLookupError:
                    pass
        self._join(15.0)

    def _join(self, timeout: float) -> None:
        import subprocess

        deadline = time.monotonic() + timeout
        for p in self.procs:
            if p is None:
                continue
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    def close(self) -> None:
        for i, c in enumerate(self.conns):
            if c is not None and self.procs[i].poll() is None:
                try:
                    c.send(None)
                except OSError:
                    pass
        self._join(15.0)
        for c in self.conns:
            if c is not None:
                c.close()


class RayExecutor:
    """One Ray task per cell. `address`: join an existing cluster ("auto", "HOST:PORT"); None starts a
    private local Ray with `workers` CPUs. `gpus_per_cell` may be fractional (0.25: four small cells share
    a GPU); default 1 when the cluster has GPUs, else 0. Ray's own retries are off: the runner retries,
    so each attempt is numbered and its MLflow parent accounted for."""

    name, parallel = "ray", True

    def __init__(self, address: str | None = None, workers: int | None = None, gpus_per_cell: float | None = None,
                 cpus_per_cell: float = 1.0):
        self.address, self.workers = address, workers
        self.gpus_per_cell, self.cpus_per_cell = gpus_per_cell, cpus_per_cell
        self.refs: dict[Any, str] = {}
        self.remote = None
        self.started = False
        self.checked = False

    def preflight(self) -> None:
        """Ray is installed, and a cluster given by `address` can be joined: in seconds, with one line
        (Ray's own connect loop would wait forever on an unreachable or misadvertised head)."""
        from ddr.grid.ray_cluster import check_joinable, check_reachable

        if self.address and self.address != "auto" and not self.checked:
            check_reachable(self.address)  # before importing Ray, which takes seconds
        try:
            import ray  # noqa: F401
        except ImportError:
            raise DDRError("the ray executor needs Ray; install the ray extra: pip install .[ray]") from None
        if self.address and not self.checked:
            check_joinable(self.address)
            self.checked = True

    def start(self, env: dict[str, str], progress: Progress) -> None:
        self.preflight()
        import ray

        env = dict(env)
        if os.environ.get("PYTHONPATH"):
            env.setdefault("PYTHONPATH", os.environ["PYTHONPATH"])
        kwargs: dict[str, Any] = {"runtime_env": {"env_vars": env}, "log_to_driver": False,
                                  "configure_logging": False, "include_dashboard": False}
        if self.address:
            from ddr.grid.ray_cluster import join_options

            kwargs.update(join_options(self.address))
            kwargs.pop("include_dashboard")
        else:
            kwargs["num_cpus"] = self.workers or os.cpu_count() or 1
        if not ray.is_initialized():
            try:
                ray.init(**kwargs)
            except ConnectionError as exc:
                raise DDRError(f"cannot join the Ray cluster at {self.address}: {exc}") from None
            self.started = True
        gpus = self.gpus_per_cell
        if gpus is None:
            gpus = 1.0 if ray.cluster_resources().get("GPU", 0) else 0.0
        self.gpus = gpus
        from ddr.grid.worker import run_task

        self.remote = ray.remote(max_retries=0, num_cpus=self.cpus_per_cell, num_gpus=gpus)(run_task)
        self._slots, self._slots_at = 1, 0.0

    def slots(self) -> int:
        """Cells the cluster can run at once (re-read every 10 s: nodes come and go). Submitting only that
        many keeps each attempt's dispatch time its start time, and Ctrl-C has little to cancel."""
        import ray

        if time.monotonic() - self._slots_at > 10:
            res = ray.cluster_resources()
            n = res.get("CPU", 0) / self.cpus_per_cell if self.cpus_per_cell else float("inf")
            if self.gpus:
                n = min(n, res.get("GPU", 0) / self.gpus)
            self._slots, self._slots_at = max(1, int(n)), time.monotonic()
        return self._slots

    def capacity(self) -> int:
        return self.slots() - len(self.refs)

    def submit(self, key: str, task: Task) -> None:
        self.refs[self.remote.remote(task)] = key

    def poll(self, timeout: float) -> list[Outcome]:
        import ray
        from ray.exceptions import RayTaskError

        if not self.refs:
            return []
        ready, _ = ray.wait(list(self.refs), num_returns=1, timeout=timeout)
        out = []
        for ref in ready:
            key = self.refs.pop(ref)
            try:
                out.append(Outcome(key, True, ray.get(ref)))
            except RayTaskError as exc:
                cause = exc.cause if hasattr(exc, "cause") else None
                if isinstance(cause, DDRError):
                    out.append(Outcome(key, False, error=str(cause), retriable=False))
                else:
                    out.append(Outcome(key, False, error=f"{type(cause or exc).__name__}: {cause or exc}"))
            except Exception as exc:  # WorkerCrashedError, NodeDiedError, ...: the cell reruns
                out.append(Outcome(key, False, error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"))
        return out

    def stop(self) -> None:
        import ray

        for ref in list(self.refs):
            ray.cancel(ref)  # raises KeyboardInterrupt in the task: its MLflow parent ends KILLED
        deadline = time.monotonic() + 10
        while self.refs and time.monotonic() < deadline:
            ready, _ = ray.wait(list(self.refs), num_returns=len(self.refs), timeout=1)
            for ref in ready:
                self.refs.pop(ref, None)

    def close(self) -> None:
        if self.started:
            import ray

            ray.shutdown()
            self.started = False


# The factories EXECUTORS (ddr.grid.executor_registry) names; `ddr eval grid --executor` offers the names.
def serial_executor(*, workers: int | None, address: str | None, gpus_per_cell: float | None) -> Executor:
    if workers not in (None, 1):
        raise DDRError("the serial executor runs one cell at a time; use --executor local or ray for workers")
    return SerialExecutor()


def local_executor(*, workers: int | None, address: str | None, gpus_per_cell: float | None) -> Executor:
    return LocalExecutor(workers=workers)


def ray_executor(*, workers: int | None, address: str | None, gpus_per_cell: float | None) -> Executor:
    return RayExecutor(address=address, workers=workers, gpus_per_cell=gpus_per_cell)


def make_executor(name: str, *, workers: int | None = None, address: str | None = None,
                  gpus_per_cell: float | None = None) -> Executor:
    return EXECUTORS.get(name)(workers=workers, address=address, gpus_per_cell=gpus_per_cell)
