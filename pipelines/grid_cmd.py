"""`ddr eval grid SPEC.yaml` (a ranking grid on a serial, local or Ray executor) and `ddr server`."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from click.core import ParameterSource

from ddr.errors import DDRError
from ddr.grid.executor_registry import EXECUTORS
from pipelines.common_options import CACHE_DIR_OPT, TRACKING_URI_OPT, device_option
from pipelines.json_output import emit, json_option
from pipelines.progress import GridProgress


def _terminate(signum, frame):
    raise KeyboardInterrupt


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C while this lasts: what the command started (workers, a private mlflow
    server in its own session) is stopped on the way out, instead of outliving a driver that SIGTERM would
    end on the spot. The previous handler is restored after (the command may run inside another program)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():  # only the main thread takes signals
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command("grid")
@click.argument("spec", type=click.Path())
@click.option("--executor", "executor_name", type=click.Choice(EXECUTORS.names()), default=None,
              help="serial (default): this process; local: worker processes (one per GPU, or N CPU workers); "
              "ray: Ray tasks (pip install .[ray]). For params.yaml: default evaluate.executor.kind.")
@click.option("--workers", default=None, type=int, help="local: worker processes (default one per GPU, else one "
              "per CPU); ray without --address: CPUs of the private Ray.")
@click.option("--address", default=None, help="ray: join an existing cluster (HOST:PORT or 'auto').")
@click.option("--gpus-per-cell", default=None, type=float, help="ray: GPUs per cell, fractional for small cells "
              "(default 1 on a GPU cluster, else 0).")
@click.option("--out", default=None, type=click.Path(), help="Grid folder (default .ddr/grid/<name>): "
              "cells/<hash>/{cell,result}.json and grid.json.")
@TRACKING_URI_OPT
@click.option("--no-mlflow", is_flag=True, help="Do not log to MLflow.")
@CACHE_DIR_OPT
@click.option("--max-attempts", default=3, show_default=True, type=int, help="Attempts per cell before it is "
              "reported failed.")
@device_option()
@click.option("--threads", default=None, type=int, help="Torch threads per worker on CPU (default 1: one "
              "per worker; for params.yaml, evaluate.executor.threads).")
@click.option("--export", default=None, type=click.Path(), help="Also write every cell's result.json as "
              "EXPORT/<dataset>-ipc<ipc>/<kind>-<label>/<method>/ (the pipeline's results/; replaced whole).")
@json_option("the grid's summary (as grid.json holds it, with 'out' and 'exported')")
def grid_cmd(spec, executor_name, workers, address, gpus_per_cell, out, tracking_uri, no_mlflow, cache_dir,
             max_attempts, device, threads, export, as_json) -> None:
    """Run an evaluation grid (methods x data sets x ipc x metrics): each cell once, found by its content hash.

    A finished cell is never recomputed; an interrupted grid (Ctrl-C, a killed worker or machine) resumes
    where it stopped when run again. The executor changes where cells run, never their numbers.

    \b
    Example:
      ddr eval grid grid.yaml                                  # serial, in this process
      ddr eval grid grid.yaml --executor local --workers 2     # two CPU workers (or one per GPU)
      ddr eval grid grid.yaml --executor ray --address auto    # an existing Ray cluster
      ddr eval grid params.yaml --export results               # the DVC pipeline's evaluate step

    SPEC may be the pipeline's params.yaml: its reference distillers and submissions, evaluated under
    evaluate.metrics on the executor evaluate.executor names (flags override it).
    """
    from ddr.grid.executors import make_executor
    from ddr.grid.runner import run_grid
    from ddr.grid.spec import load_grid

    grid = load_grid(spec)
    from ddr.grid.pipeline import executor_settings, is_pipeline_params
    from ddr.yaml_input import load_yaml

    raw = load_yaml(Path(spec).read_text(), f"grid {spec}")
    if is_pipeline_params(raw):
        settings = executor_settings(raw)
        if executor_name is None:
            executor_name, workers = settings["kind"], workers or settings["workers"]
            address = address or settings["address"]
        threads = threads or settings["threads"]
    executor_name = executor_name or "serial"
    if address and executor_name != "ray":
        raise DDRError("--address is for --executor ray")
    if out is None:
        from ddr.checks import confined
        from ddr.paths import GRIDS

        # outside runs/, so a folder of results (runs/) never holds a cell twice; the name comes from the spec
        out = str(confined(GRIDS, grid.name, what="grid name"))
    executor = make_executor(executor_name, workers=workers, address=address, gpus_per_cell=gpus_per_cell)
    # `kill <pid>` stops the workers and the private server, as Ctrl-C does
    with _terminate_as_interrupt(), GridProgress() as progress:
        report = run_grid(grid, executor, out=out, tracking_uri=tracking_uri, track=not no_mlflow,
                          cache_dir=cache_dir, max_attempts=max_attempts, device=device, progress=progress,
                          threads=threads or 1)
    lines = [f"{'cell':<17} {'method':<16} {'dataset':<10} {'ipc':>4} {'metric':<6} {'labels':<6} {'score':>17}  "
             "status"]
    for r in report.cells:
        c = r.cell
        score = ""
        if r.result is not None:
            m = r.result.metrics.get(c.metric) or next(iter(r.result.metrics.values()))
            score = f"{m['mean']:.4f} ± {m['std']:.4f}"
        lines.append(f"{c.id:<17} {c.method:<16} {c.dataset:<10} {c.ipc:>4} {c.metric:<6} {c.label_kind:<6} "
                     f"{score:>17}  {r.status}")
    lines.append(f"  {len(report.cells)} cells in {report.wall_time_s:.1f}s; results: {Path(out) / 'cells'}; "
                 f"summary: {Path(out) / 'grid.json'}")
    written = []
    if export:
        from ddr.grid.pipeline import export_results

        written = export_results(report, export, Path.cwd())
        lines.append(f"  exported {len(written)} result.json files to {export}")
    summary = json.loads((Path(out) / "grid.json").read_text())  # written by run_grid just now
    emit({**summary, "out": str(out), "exported": [str(p) for p in written]}, "\n".join(lines), as_json)


def _check_host(host: str) -> None:
    """An address of this machine a server can listen on (else the port check would call it "in use")."""
    import socket

    try:
        family, kind, _, _, addr = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as s:
            s.bind(addr)
    except (OSError, UnicodeError) as exc:
        raise DDRError(f"--host {host!r} is not an address this machine can listen on "
                       f"({getattr(exc, 'strerror', None) or exc})") from None


@click.command("server")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on. 127.0.0.1: this "
              "machine only; a team's server listens on an address its workers reach (MLflow's server has no "
              "authentication: a trusted network only).")
@TRACKING_URI_OPT
@click.option("--artifacts-destination", default=None, type=click.Path(file_okay=False),
              help="postgresql:// store: the folder the artifacts it receives go to (default ./mlartifacts); "
              "a sqlite store keeps them in mlartifacts/ beside it.")
def server_cmd(port: int, host: str, tracking_uri: str | None, artifacts_destination: str | None) -> None:
    """Start one MLflow tracking server over the project's store, for many concurrent writers.

    Workers then log over HTTP (no "database is locked"). It serves the store --tracking-uri names, MLflow's
    backend store: a sqlite:/// one (its artifacts in mlartifacts/ beside it) or a team's postgresql:// one
    (its artifacts in --artifacts-destination; see the README). MLFLOW_TRACKING_URI is used when it names
    such a store (when it names a server, such as this one, the project's store sqlite:///./mlflow.db).

    \b
    Example:
      ddr server --port 5000 &
      export MLFLOW_TRACKING_URI=http://127.0.0.1:5000
      ddr eval grid grid.yaml --executor local
    """
    from ddr.grid.server import MlflowServer
    from ddr.tracking import default_store_uri, display_uri, is_postgres, resolve_tracking_uri, sqlite_db

    uri = resolve_tracking_uri(tracking_uri)
    if not (sqlite_db(uri) or is_postgres(uri)):
        if click.get_current_context().get_parameter_source("tracking_uri") == ParameterSource.COMMANDLINE:
            raise DDRError(f"ddr server serves a sqlite:/// or postgresql:// store, not {display_uri(tracking_uri)}")
        uri = default_store_uri()
    _check_host(host)
    server = MlflowServer(uri, port=port, host=host, artifacts=artifacts_destination)
    with _terminate_as_interrupt():  # `kill <pid>`: stop the server too (it runs in its own session)
        server.start()
        click.echo(f"MLflow server on {server.uri} over {display_uri(server.store)} (artifacts in "
                   f"{server.artifacts}; pid {server.proc.pid}); Ctrl-C stops it", err=True)
        click.echo(f"export MLFLOW_TRACKING_URI={server.uri}")
        try:
            while server.proc.poll() is None:
                time.sleep(1)
            raise DDRError(f"mlflow server exited with status {server.proc.returncode}")
        finally:
            server.stop()
