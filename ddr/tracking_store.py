"""Opening a tracking store safely, and ending the parent runs of evaluations that were killed.

- A brand-new sqlite store is created and migrated by MLflow on first use; two processes doing that at
  once race in the migration, so the first use happens under a lock file beside the database.
- An HTTP tracking server that does not answer would make MLflow retry for minutes: it is probed once,
  with a short timeout, and refused with one line.
- A plain evaluation killed outright (kill -9) cannot end its parent run; the next evaluation of the
  same cell ends it FAILED when the process that started it (recorded in tags) is gone from this host.
"""
from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request
from typing import Any

from ddr.errors import DDRError

PROBE_TIMEOUT_S = 5.0
# the tags that make two plain evaluations the same cell (a grid names its cells with ddr.cell instead)
CELL_TAGS = ("ddr.kind", "ddr.label", "ddr.method", "ddr.dataset", "ddr.ipc", "ddr.protocol",
             "ddr.protocol_version", "ddr.dvc_md5")


def prepare_store(uri: str) -> None:
    """Create/migrate a sqlite store under a lock; check an HTTP server answers. Raises DDRError."""
    if uri.startswith("sqlite:///"):
        from mlflow import MlflowClient

        from ddr.locks import exclusive_lock
        from ddr.tracking import sqlite_db

        db = sqlite_db(uri)
        db.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(db.with_name(db.name + ".lock")):
            MlflowClient(tracking_uri=uri).search_experiments(max_results=1)  # creates and migrates it
    elif uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=PROBE_TIMEOUT_S):
                pass
        except urllib.error.HTTPError:
            pass  # it answers; what it says about /health is its own business
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DDRError(f"MLflow tracking server {uri} does not answer ({reason}); start it (ddr server) or "
                           "pass --no-mlflow") from None


def owner_tags() -> dict[str, str]:
    """Who runs this evaluation: host and process id (and the process's start time, against pid reuse)."""
    return {"ddr.host": socket.gethostname(), "ddr.pid": str(os.getpid()), "ddr.pid_start": _start_time(os.getpid())}


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]  # field 22: start time in clock ticks
    except (OSError, IndexError):
        return ""


def _gone(tags: dict[str, str]) -> bool:
    if tags.get("ddr.host") != socket.gethostname() or not tags.get("ddr.pid", "").isdigit():
        return False  # another machine's run, or one without an owner: not ours to judge
    pid = int(tags["ddr.pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    recorded = tags.get("ddr.pid_start", "")
    return bool(recorded) and _start_time(pid) not in ("", recorded)  # the pid now belongs to another process


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
