"""Ending the parent runs of evaluations that were killed.

A plain evaluation killed outright (kill -9) cannot end its parent run; the next evaluation of the same
cell ends it FAILED when the process that started it (recorded in tags) is gone from this host.
"""
from __future__ import annotations

import os
import socket
from typing import Any

# the tags that make two plain evaluations the same cell (a grid names its cells with ddr.cell instead)
CELL_TAGS = ("ddr.kind", "ddr.label", "ddr.method", "ddr.dataset", "ddr.ipc", "ddr.protocol",
             "ddr.protocol_version", "ddr.dvc_md5")


def owner_tags() -> dict[str, str]:
    """Who runs this evaluation: host and process id (and the process's start time, against pid reuse)."""
    return {"ddr.host": socket.gethostname(), "ddr.pid": str(os.getpid()), "ddr.pid_created": _created(os.getpid())}


def _created(pid: int) -> str:
    """The process's start time (psutil's, seconds since the epoch), "" when it is gone or hidden."""
    import psutil

    try:
        return f"{psutil.Process(pid).create_time():.2f}"
    except psutil.Error:
        return ""


def _gone(tags: dict[str, str]) -> bool:
    import psutil

    if tags.get("ddr.host") != socket.gethostname() or not tags.get("ddr.pid", "").isdigit():
        return False  # another machine's run, or one without an owner: not ours to judge
    pid = int(tags["ddr.pid"])
    if not psutil.pid_exists(pid):
        return True
    # an older run recorded ddr.pid_start (clock ticks): no start time to compare, the pid alone decides
    recorded = tags.get("ddr.pid_created", "")
    return bool(recorded) and _created(pid) not in ("", recorded)  # the pid now belongs to another process


def end_stale_parents(client: Any, experiment_id: str, tags: dict[str, Any]) -> list[str]:
    """End FAILED every RUNNING parent of the same cell whose process is gone from this host."""
    if "ddr.cell" in tags:
        return []  # the grid runner ends its own cells' runs
    conds = [f"tags.`{k}` = '{str(tags[k])}'" for k in CELL_TAGS if k in tags and "'" not in str(tags[k])]
    runs = client.search_runs([experiment_id], filter_string=" and ".join(conds + ["attributes.status = 'RUNNING'"]))
    ended = []
    for run in runs:
        t = run.data.tags
        if "mlflow.parentRunId" in t or "ddr.cell" in t or not _gone(t):
            continue
        client.set_tag(run.info.run_id, "ddr.ended_by", "next evaluation of the cell: its process is gone")
        client.set_terminated(run.info.run_id, "FAILED")
        ended.append(run.info.run_id)
    return ended
