"""MLflow system metrics (CPU, memory, disk, network; GPU where present) on an evaluation's run, through
MLflow's public switch: the run, created by the tracker's client, is resumed with
`mlflow.start_run(run_id=..., log_system_metrics=True)` and ended with `mlflow.end_run`, which starts and
stops MLflow's own monitor.

The monitor samples every SAMPLING_INTERVAL_S seconds (set with mlflow.set_system_metrics_sampling_interval
unless MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL is set) and logs nothing for a window it did not finish, so
a finishing evaluation waits, at most about one interval, for its first `system/*` point: every finished
evaluation run carries one. MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=false turns them off.
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

SAMPLING_INTERVAL_S = 2.0
PREFIX = "system/"
_log = logging.getLogger(__name__)


def enabled() -> bool:
    """On unless the user turned MLflow's switch off (MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=false)."""
    from mlflow.environment_variables import MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING

    return MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING.get() if MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING.defined else True


def sampling_interval() -> float:
    from mlflow.environment_variables import MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL

    return MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL.get() or SAMPLING_INTERVAL_S


@contextlib.contextmanager
def _tracking_uri(uri: str) -> Iterator[None]:
    """MLflow's fluent calls read the process's tracking URI: `uri` for the block, the caller's after it."""
    import mlflow

    env = os.environ.get("MLFLOW_TRACKING_URI")
    # only a URI the caller set in-process is put back as one: a URI read from the environment, made the
    # process-wide setting here, would outlive the caller's environment (and win over its later changes)
    before = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    if before == env:
        before = None
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(before)  # it also sets (or unsets) MLFLOW_TRACKING_URI: put the caller's back
        if env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = env


class RunMonitor:
    """MLflow's monitor on run `run_id` of store `uri`, from start() to end()."""

    def __init__(self, client: Any, uri: str, run_id: str):
        self.client, self.uri, self.run_id = client, uri, run_id
        self.started: float | None = None  # time.monotonic() when monitoring started; None: not monitored

    def start(self) -> RunMonitor:
        import mlflow
        from mlflow.exceptions import MlflowException

        if not enabled():
            return self
        from mlflow.environment_variables import MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL

        if not MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL.defined:
            mlflow.set_system_metrics_sampling_interval(SAMPLING_INTERVAL_S)
        logging.getLogger("mlflow.system_metrics").setLevel(logging.WARNING)  # no "Started monitoring" lines
        try:
            with _tracking_uri(self.uri):  # nested: a caller's own active run stays as it is
                mlflow.start_run(run_id=self.run_id, nested=True, log_system_metrics=True)
        except MlflowException as exc:  # e.g. the caller set another active experiment: run without them
            _log.warning("no system metrics on run %s: %s", self.run_id, str(exc).splitlines()[0])
            return self
        self.started = time.monotonic()
        return self

    def wait_for_first_point(self) -> bool:
        """Wait (about one sampling interval at most) until the run holds a system/* point; True if it does."""
        if self.started is None:
            return False
        deadline = self.started + 2 * sampling_interval() + 10.0
        while True:
            if any(k.startswith(PREFIX) for k in self.client.get_run(self.run_id).data.metrics):
                return True
            if time.monotonic() > deadline:
                _log.warning("no system metrics logged on run %s", self.run_id)
                return False
            time.sleep(0.2)

    def end(self, status: str) -> None:
        """End the run with `status` (FINISHED, FAILED, KILLED) and stop the monitor."""
        import mlflow

        started, self.started = self.started, None
        if started is not None:
            with _tracking_uri(self.uri):
                active = mlflow.active_run()
                if active is not None and active.info.run_id == self.run_id:
                    mlflow.end_run(status)  # terminates the run, then stops and flushes the monitor
                    return
        # not monitored, or not the innermost active run (evaluations in one thread end in reverse order of
        # their starts): the monitor sees the run ended and stops at its next sample
        self.client.set_terminated(self.run_id, status)
