"""run_grid: plan the cells, skip the finished ones, dispatch the rest, retry failed attempts.

Crash safety comes from three rules:
- a cell is finished exactly when `<out>/cells/<id>/result.json` exists (written by temporary file and
  rename), so a killed or interrupted grid resumes where it stopped and never shows half a cell;
- before a cell is (re)dispatched, an MLflow parent already FINISHED for it is adopted (its result.json
  artifact is downloaded) instead of recomputed, and any parent still RUNNING for it is stale (one driver
  per grid folder, one attempt per cell at a time) and is ended FAILED: a killed worker's run ends FAILED
  and each cell gets exactly one FINISHED parent;
- the trainings inside a cell are cached by content key in a shared cache (each entry written atomically),
  so a rerun cell redoes only the trainings its killed attempt had not finished.

With a parallel executor the unit of work is a training, not a cell: every unfinished cell is planned on
a worker, the trainings of all of them are pooled, deduplicated by cache key and trained across the
workers, the longest cells first and each cell's longest trainings first (ddr.grid.pool), and each cell's evaluation runs as soon as its pooled trainings are in
the cache, where it finds them. The pool writes nothing but cache entries, so the rules above still hold:
an interrupted pooled grid resumes, its finished trainings found in the cache.
"""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ddr.errors import DDRError
from ddr.eval.events import Listener, Note, listener
from ddr.grid.events import (CellAdopted, CellDispatched, CellFailed, CellFinished, CellRetrying,
                             GridStarted, PoolPlanned, PoolTrained, PoolTrainingFailed)
from ddr.grid.cell import Cell, CellStore, write_json_atomic
from ddr.grid.cost import longest_first
from ddr.grid.executors import Executor, Outcome, SerialExecutor
from ddr.grid.messages import Task
from ddr.grid.pool import Pooled, TrainingPool
from ddr.grid.grid_spec import GridSpec
from ddr.kernel.clock import utc_now
from ddr.locks import exclusive_lock
from ddr.tracking import display_uri

Progress = Callable[[Any], None]  # a line callable, or an object with on_event (ddr.grid.events)


@dataclass
class CellReport:
    cell: Cell
    status: str  # "cached" (finished before), "adopted" (from a FINISHED MLflow parent), "ran", "failed"
    attempts: int = 0
    error: str = ""
    seconds: float = 0.0
    result: Any = None  # EvalResult when finished

    def summary(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.cell.id, "label": self.cell.label, "status": self.status,
                             "attempts": self.attempts}
        if self.result is not None:
            d["metrics"] = {k: {"mean": v["mean"], "std": v["std"]} for k, v in self.result.metrics.items()}
            d["mlflow_run_id"] = (self.result.mlflow or {}).get("run_id")
        if self.error:
            d["error"] = self.error.splitlines()[0][:500]
        return d


@dataclass
class GridReport:
    name: str
    out: Path
    executor: str
    cells: list[CellReport] = field(default_factory=list)
    wall_time_s: float = 0.0
    tracking_uri: str | None = None

    @property
    def failed(self) -> list[CellReport]:
        return [c for c in self.cells if c.status == "failed"]

    def results(self) -> dict[str, Any]:
        return {c.cell.id: c.result for c in self.cells if c.result is not None}


class MlflowBook:
    """The runner's MLflow queries: parents by their ddr.cell tag."""

    def __init__(self, uri: str):
        from mlflow import MlflowClient

        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)

    def ensure_experiments(self, names: set[str], store: str | None) -> None:
        """Created here, once, not raced by N workers; over a private server, with the artifact location
        the direct sqlite path would give them (so `ddr eval lrs` on the store can log to them too)."""
        from ddr.tracking import ensure_experiment

        for name in sorted(names):
            ensure_experiment(self.client, name, store=store)

    def parents(self, cell: Cell, status: str) -> list[Any]:
        exps = [e.experiment_id for e in self.client.search_experiments()]
        if not exps:
            return []
        return self.client.search_runs(
            exps, filter_string=f"tags.`ddr.cell` = '{cell.id}' and attributes.status = '{status}'",
            order_by=["attributes.start_time ASC"])

    def end_stale(self, cell: Cell, status: str = "FAILED",
                  why: str = "grid runner: attempt's worker is gone") -> list[str]:
        ids = []
        for run in self.parents(cell, "RUNNING"):
            self.client.set_tag(run.info.run_id, "ddr.ended_by", why)
            self.client.set_terminated(run.info.run_id, status)
            ids.append(run.info.run_id)
        return ids

    def adopt(self, cell: Cell, store: CellStore) -> bool:
        """A FINISHED parent for this cell (its worker died, or the driver, before result.json was
        stored): take its result.json artifact rather than compute the cell twice."""
        from ddr.eval.result import EvalResult

        for run in self.parents(cell, "FINISHED"):
            try:
                with tempfile.TemporaryDirectory(dir=store.dir(cell)) as tmp:
                    path = self.client.download_artifacts(run.info.run_id, "result.json", tmp)
                    result = EvalResult.load(path)
            except Exception:
                continue
            store.save_result(cell, result.to_dict())
            return True
        return False


def run_grid(spec: GridSpec, executor: Executor | None = None, *, out: str | Path, tracking_uri: str | None = None,
             track: bool = True, cache_dir: str | Path | None = None, max_attempts: int = 3,
             device: str | None = None, progress: Progress | None = None, serve: bool = True,
             threads: int | None = None) -> GridReport:
    """Run every cell of `spec` not already finished under `out`; returns a GridReport.

    tracking_uri: as ddr.evaluate (default MLFLOW_TRACKING_URI, else sqlite:///./mlflow.db). With a
    parallel executor and a sqlite or postgresql store, an `mlflow server` is started over the store for the
    grid's duration (serve=False: don't) and workers log over HTTP (over PostgreSQL, its artifacts go to
    ./mlartifacts). Failed attempts are retried up to
    `max_attempts` per run of the grid; bad input (DDRError) is not retried. Raises DDRError at the end
    if a cell failed (the other cells are finished and stored). threads: torch threads per worker on CPU
    (None: torch's default)."""
    from ddr.paths import check_cache_dir, default_cache_dir
    from ddr.tracking import check_store, resolve_tracking_uri

    if max_attempts < 1:
        raise DDRError("max_attempts must be at least 1")
    executor = executor or SerialExecutor()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # "View run at ..." on every run
    say = listener(progress)
    t0 = time.perf_counter()
    out = Path(out).resolve()
    cells = spec.cells()  # validates everything before anything runs or is logged
    # and where it will go, before the first write: the cache, the store, the executor's cluster
    cache = str(check_cache_dir(Path(cache_dir or default_cache_dir())).resolve())
    uri = resolve_tracking_uri(tracking_uri) if track else None
    if uri:
        check_store(uri)
    executor.preflight()
    store = CellStore(out)
    report = GridReport(spec.name, out, executor.name)
    # one driver per grid folder: a second one is refused at once, naming the first
    with exclusive_lock(out / ".lock", timeout=0, what=f"grid folder {out}"):
        todo = _plan(cells, store, report)
        say(GridStarted(spec.name, len(cells), len(cells) - len(todo), executor.name))
        report.tracking_uri = uri
        run = _Dispatch(executor, store, report, say, max_attempts,
                        Task(cell={}, cache_dir=cache, device=device, executor=executor.name, grid=spec.name,
                             threads=threads))
        run.run(todo, uri, serve)
        order = {c.id: i for i, c in enumerate(cells)}
        report.cells.sort(key=lambda r: order[r.cell.id])
        report.wall_time_s = round(time.perf_counter() - t0, 3)
        _write_summary(report, uri)
    if report.failed:
        names = ", ".join(f"{r.cell.id} ({r.cell.label})" for r in report.failed)
        raise DDRError(f"grid {spec.name}: {len(report.failed)} cell(s) failed: {names}; "
                       f"see {out}/cells/<id>/attempts.jsonl; run the grid again to retry them")
    return report


def _plan(cells: list[Cell], store: CellStore, report: GridReport) -> list[Cell]:
    """Plan every cell in the store; report the finished ones as cached and return the rest."""
    for c in cells:
        store.plan(c)
    done = {c.id for c in cells if store.done(c)}
    for c in cells:
        if c.id in done:
            report.cells.append(CellReport(c, "cached", result=store.load_result(c)))
    return [c for c in cells if c.id not in done]


def _write_summary(report: GridReport, uri: str | None) -> None:
    write_json_atomic(report.out / "grid.json", {
        "schema": "ddr.grid/v1", "name": report.name, "executor": report.executor, "finished_at": utc_now(),
        "wall_time_s": report.wall_time_s, "tracking_uri": uri and display_uri(uri),
        "cells": [r.summary() for r in report.cells]})


class _Dispatch:
    """One run of the grid's unfinished cells: dispatch each to the executor (or adopt its finished MLflow
    parent), record every attempt in the store, retry failed attempts, report every cell once. A parallel
    executor first trains the cells' pooled trainings (ddr.grid.pool), then runs each cell's evaluation."""

    def __init__(self, executor: Executor, store: CellStore, report: GridReport, say: Listener, max_attempts: int,
                 template: Task):
        self.executor, self.store, self.report = executor, store, report
        self.say, self.max_attempts, self.template = say, max_attempts, template
        self.book: MlflowBook | None = None
        self.server: Any = None
        self.tries: dict[str, int] = {}
        self.started: dict[str, float] = {}
        self.running: dict[str, Cell] = {}  # cells whose evaluation a worker holds

    def run(self, todo: list[Cell], uri: str | None, serve: bool) -> None:
        """Until every cell of `todo` is finished or failed. `uri`: the store (None: no MLflow)."""
        from ddr.grid.server import MlflowServer
        from ddr.tracking import is_postgres, sqlite_db

        executor, say = self.executor, self.say
        try:
            worker_uri = uri
            if todo and uri and executor.parallel and serve and (sqlite_db(uri) or is_postgres(uri)):
                self.server = MlflowServer(uri, log=self.store.out / "mlflow-server.log").start()
                worker_uri = self.server.uri
                say(Note(f"MLflow server {self.server.uri} over {display_uri(uri)} (workers log over HTTP)"))
            self.book = MlflowBook(worker_uri) if (worker_uri and todo) else None
            if self.book:
                self.book.ensure_experiments(_experiment_names(todo), uri)
            self.template = replace(self.template, tracking_uri=worker_uri)  # what every attempt is sent
            if todo:
                executor.start(_worker_env(self.template), say)
            if executor.parallel:
                self._pooled(todo, uri)
            else:  # one cell at a time: its trainings run in order anyway, nothing to pool
                self._cells(todo, uri)
        except KeyboardInterrupt:
            say(Note("interrupted: stopping workers; finished cells are kept, run the same grid again to resume"))
            executor.stop()
            self._end_interrupted()
            raise
        finally:
            executor.close()
            if self.server is not None:
                self.server.stop()

    def _cells(self, todo: list[Cell], uri: str | None) -> None:
        """Dispatch whole cells, the longest first (the short ones fill the end)."""
        by_id = {c.id: c for c in todo}
        queue = longest_first(todo)
        inflight: set[str] = set()
        while queue or inflight:
            while queue and self.executor.capacity() > 0:
                c = queue.pop(0)
                if self._dispatch(c):
                    inflight.add(c.id)
            for o in self.executor.poll(timeout=0.5):
                c = by_id[o.key]
                inflight.discard(c.id)
                if self._settle(c, o, uri):
                    queue.append(c)

    def _pooled(self, todo: list[Cell], uri: str | None) -> None:
        """Pool the cells' trainings (ddr.grid.pool): plan every cell, train each unique pooled training once
        in the pool's order, and dispatch a cell's evaluation as soon as none of its pooled trainings is left,
        ahead of the trainings still queued. A plan or training task that fails leaves its trainings to the
        cells' own evaluations (which fail and retry as cells always have)."""
        executor, say = self.executor, self.say
        order = longest_first(todo)
        rank = {c.id: i for i, c in enumerate(order)}
        by_id = {c.id: c for c in todo}
        pool = TrainingPool()
        plans, ready = list(order), []  # cells to plan; cells whose evaluation is next (retries too)
        inflight: dict[str, Cell | Pooled] = {}  # executor key -> the cell (evaluation, plan) or training
        unplanned, trained = len(plans), 0

        def submit(key: str, what: Cell | Pooled, task: Task) -> None:
            executor.submit(key, task)
            inflight[key] = what

        while plans or ready or inflight or pool.queued:
            while executor.capacity() > 0:
                if ready:
                    c = ready.pop(0)
                    if self._dispatch(c):
                        inflight[c.id] = c
                elif plans:
                    c = plans.pop(0)
                    if self._adopt(c):
                        unplanned -= 1
                        continue
                    submit(f"{c.id}/plan", c, replace(self.template, cell=c.to_dict(), do="plan", tracking_uri=None))
                elif pool.queued:
                    t = pool.next()
                    submit(f"train/{t.key}", t, replace(self.template, cell=by_id[t.cell].to_dict(), do="train",
                                                        train=(t.index,), tracking_uri=None))
                else:
                    break
            for o in executor.poll(timeout=0.5):
                what = inflight.pop(o.key)
                if isinstance(what, Pooled):
                    label = by_id[what.cell].label
                    if o.ok:
                        trained += 1
                        for rec in o.result["trained"]:
                            say(PoolTrained(trained, pool.unique, label, what.role, what.round, what.lr,
                                            rec["best_acc"], rec["seconds"]))
                    else:
                        say(PoolTrainingFailed(label, what.role, what.round, what.lr, _first_line(o.error)))
                    ready += [by_id[cid] for cid in pool.settle(what.key)]
                elif o.key.endswith("/plan"):
                    unplanned -= 1
                    if not o.ok or pool.add(what.id, rank[what.id], o.result):
                        ready.append(what)  # a failed plan: the cell's evaluation fails (or trains) as ever
                    if unplanned == 0:
                        say(PoolPlanned(len(todo), pool.planned, pool.cached, pool.unique))
                elif self._settle(what, o, uri):
                    ready.append(what)

    def _end_interrupted(self) -> None:
        """After Ctrl-C, once the workers are stopped: a parent run of a cell that was running and is still
        RUNNING (its worker was stopped while it started or ended the run) ends KILLED, as the others did."""
        if self.book is None:
            return
        for c in self.running.values():
            try:
                self.book.end_stale(c, "KILLED", "grid runner: the grid was interrupted")
            except Exception:  # the store is unreachable: the next run of the grid ends it FAILED
                pass

    def _adopt(self, c: Cell) -> bool:
        """Take a FINISHED MLflow parent's result for the cell instead of running it (True: adopted)."""
        if self.book and self.book.adopt(c, self.store):
            self.say(CellAdopted(c.id, c.label))
            self.report.cells.append(CellReport(c, "adopted", self.tries.get(c.id, 0),
                                                result=self.store.load_result(c)))
            return True
        return False

    def _dispatch(self, c: Cell) -> bool:
        """Submit the cell's next attempt; False when a finished MLflow parent was adopted instead."""
        if self._adopt(c):
            return False
        if self.book:
            self.book.end_stale(c)
        n = self.store.next_attempt(c)
        self.tries[c.id] = self.tries.get(c.id, 0) + 1
        self.store.log_attempt(c, {"event": "start", "attempt": n, "at": utc_now(), "executor": self.executor.name})
        self.started[c.id] = time.perf_counter()
        self.running[c.id] = c
        self.executor.submit(c.id, replace(self.template, cell=c.to_dict(), attempt=n,
                                           out=str(self.store.dir(c) / "eval")))
        self.say(CellDispatched(c.id, c.label, n))
        return True

    def _settle(self, c: Cell, o: Outcome, uri: str | None) -> bool:
        """Store or report an attempt's outcome; True when the cell goes back on the queue for a retry."""
        from ddr.eval.result import EvalResult

        secs = time.perf_counter() - self.started[c.id]
        self.running.pop(c.id, None)
        if o.ok:
            result = o.result
            if self.server is not None and result.get("mlflow"):
                result["mlflow"]["tracking_uri"] = display_uri(uri)  # the store, not the grid's private server
            self.store.save_result(c, result)
            self.store.log_attempt(c, {"event": "done", "attempt": result["extra"]["attempt"], "at": utc_now(),
                                       "worker": result["extra"]["worker"], "seconds": round(secs, 3)})
            res = EvalResult(**result)
            self.report.cells.append(CellReport(c, "ran", self.tries[c.id], seconds=secs, result=res))
            scores = "  ".join(f"{k.upper()} {v['mean']:.4f}" for k, v in res.metrics.items())
            self.say(CellFinished(c.id, c.label, secs, scores))
            return False
        self.store.log_attempt(c, {"event": "failed", "at": utc_now(), "error": o.error[:4000]})
        if self.book:
            self.book.end_stale(c)
        first = _first_line(o.error)
        if o.retriable and self.tries[c.id] < self.max_attempts:
            self.say(CellRetrying(c.id, c.label, first))
            return True
        self.say(CellFailed(c.id, c.label, first))
        self.report.cells.append(CellReport(c, "failed", self.tries[c.id], error=o.error, seconds=secs))
        return False


def _first_line(error: str) -> str:
    return error.splitlines()[0] if error else "failed"


def _worker_env(template: Task) -> dict[str, str]:
    """What every worker process runs under (set before its interpreter starts)."""
    env = {"MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
           "DDR_CACHE_DIR": template.cache_dir or ""}
    if template.tracking_uri:
        env["MLFLOW_TRACKING_URI"] = template.tracking_uri
    if template.threads:
        env["OMP_NUM_THREADS"] = str(template.threads)
    return env


def _experiment_names(cells: list[Cell]) -> set[str]:
    from ddr.data.real import load_dataset

    return {load_dataset(c.dataset, c.root).name for c in cells}


__all__ = ["CellReport", "GridReport", "MlflowBook", "run_grid"]
