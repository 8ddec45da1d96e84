"""`ddr ray stop` signals only the nodes `ddr ray start` recorded and that still run as started: a stale or
edited record (a reused process id, 0 or -1, which would signal this very process group or every process)
is never signalled."""
import json
import os
import signal
import subprocess
import sys

import psutil

from ddr.grid.ray_cluster import STATE_DIR, stop_nodes


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)


def test_stop_signals_only_the_recorded_processes_that_are_still_the_ones_started(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    other, ours = _sleeper(), _sleeper()
    try:
        STATE_DIR.mkdir(parents=True)
        created = psutil.Process(ours.pid).create_time()
        (STATE_DIR / "nodes.json").write_text(json.dumps([
            {"pid": other.pid, "created": psutil.Process(other.pid).create_time() - 100, "address": "x"},  # reused
            {"pid": 0, "created": 0, "address": "x"}, {"pid": -1, "created": 0, "address": "x"},
            {"pid": True, "created": 0, "address": "x"}, {"pid": "1", "created": 0, "address": "x"},
            {"pid": ours.pid, "created": created, "address": "x"},
        ]))
        stop_nodes(grace_s=5)
        assert ours.wait(timeout=10) == -signal.SIGTERM
        assert other.poll() is None  # a process the record no longer describes lives on
        assert not (STATE_DIR / "nodes.json").exists()
    finally:
        for p in (other, ours):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
