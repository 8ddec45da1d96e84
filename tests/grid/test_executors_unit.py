import os
import subprocess

import pytest

from ddr.errors import DDRError
from ddr.grid.executors import LocalExecutor, RayExecutor, SerialExecutor, make_executor


class FakePopen:
    spawned: list = []

    def __init__(self, cmd, env=None, pass_fds=(), stdin=None, stdout=None):
        self.cmd, self.env, self.pid = cmd, env, 10_000 + len(FakePopen.spawned)
        FakePopen.spawned.append(self)

    def poll(self):
        return 0

    def wait(self, timeout=None):
        return 0


def test_local_executor_pins_one_gpu_per_worker(monkeypatch):
    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    FakePopen.spawned = []
    ex = LocalExecutor(gpus=2)
    assert ex.n == 2  # default: one worker per GPU
    ex.start({"MLFLOW_TRACKING_URI": "http://127.0.0.1:1"}, print)
    assert [p.env["CUDA_VISIBLE_DEVICES"] for p in FakePopen.spawned] == ["0", "1"]
    assert all(p.cmd[1:3] == ["-m", "ddr.grid.worker"] for p in FakePopen.spawned)
    assert all(p.env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:1" for p in FakePopen.spawned)
    ex.close()

    FakePopen.spawned = []
    ex = LocalExecutor(workers=3, gpus=2)  # more workers than GPUs: round robin
    ex.start({}, print)
    assert [p.env["CUDA_VISIBLE_DEVICES"] for p in FakePopen.spawned] == ["0", "1", "0"]
    ex.close()

    FakePopen.spawned = []
    ex = LocalExecutor(workers=2, gpus=0)  # CPU workers: no pinning, threads split between them
    ex.start({}, print)
    assert all(p.env.get("CUDA_VISIBLE_DEVICES") == os.environ.get("CUDA_VISIBLE_DEVICES") for p in FakePopen.spawned)
    assert {p.env["OMP_NUM_THREADS"] for p in FakePopen.spawned} == {str(max(1, (os.cpu_count() or 1) // 2))}
    ex.close()


def test_make_executor():
    assert isinstance(make_executor("serial"), SerialExecutor)
    assert isinstance(make_executor("local", workers=2), LocalExecutor)
    assert isinstance(make_executor("ray", address="127.0.0.1:1"), RayExecutor)
    with pytest.raises(DDRError, match="did you mean 'local'"):
        make_executor("lokal")
    with pytest.raises(DDRError, match="at least 1"):
        LocalExecutor(workers=-1)
