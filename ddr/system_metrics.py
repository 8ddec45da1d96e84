"""MLflow system metrics (CPU, memory, disk, network; GPU where present) on an evaluation's run.

MLflow's own monitor samples every MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL seconds (10 by default) in a
daemon thread; an evaluation shorter than one interval would log nothing, so stopping takes one last
sample when none was logged: every evaluation run carries at least one `system/*` point.
"""
from __future__ import annotations

import logging


class ResourceMonitor:
    def __init__(self, run_id: str, tracking_uri: str, sampling_interval: float = 10.0):
        from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

        class _Counting(SystemMetricsMonitor):
            published = 0

            def publish_metrics(self, metrics):
                super().publish_metrics(metrics)
                self.published += 1

        logging.getLogger("mlflow.system_metrics").setLevel(logging.WARNING)  # no "Started monitoring" lines
        self._monitor: _Counting | None = _Counting(run_id, sampling_interval=sampling_interval,
                                                    tracking_uri=tracking_uri)
        self._monitor.start()

    def stop(self) -> None:
        """Stop sampling and flush; call it before the run is terminated."""
        m, self._monitor = self._monitor, None
        if m is None:
            return
        m.finish()
        if not m.published:
            m.collect_metrics()
            m.publish_metrics(m.aggregate_metrics())
            m.mlflow_logger.flush()
