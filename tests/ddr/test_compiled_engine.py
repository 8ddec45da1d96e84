"""The compiled engine (ddr.train.compiled) and the epoch rule every engine shares (ddr.train.epochs).

The compiled engine's numbers may differ from the plain engine's by summation order only: within the
batched engine's tolerance (0.5 pp of best accuracy on average, tests/ddr/test_fast_engine.py). One test
compiles (tens of seconds on this CPU), in two processes, to show the second one loads the generated code
from the disk cache. No timings are asserted: speed belongs to benchmarks/bench_engine.py.
"""
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import ddr
from ddr.data import random_baseline
from ddr.errors import DDRError
from ddr.eval.environment import environment
from ddr.eval.session import engine_name, parse_engine
from ddr.kernel.cpu_isa import INDUCTOR_SIMDLEN
from ddr.protocols import TrainRecipe
from ddr.train.compiled import inductor_cache_dir
from ddr.train.epochs import TrainingResult, best_point, epochs_tested

TOL_PP = 0.5  # the batched engine's tolerance against the plain one
ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny-lrs.yaml"
X86 = platform.machine().lower() in ("x86_64", "amd64")


def test_test_points_and_ties_keep_the_earlier_epoch():
    recipe = TrainRecipe(epochs=12, batch_size=32, scheduler="constant", test_interval=5)
    assert epochs_tested(recipe) == [5, 10, 12]
    assert epochs_tested(dataclasses.replace(recipe, test_after=5)) == [10, 12]
    assert best_point([(5, 0.5), (10, 0.7), (12, 0.7)]) == (10, 0.7)  # a tie: the earlier epoch
    assert best_point([]) == (0, -1.0)
    res = TrainingResult.from_history([(5, 0.5), (10, 0.7), (12, 0.7)], seconds=1.5)
    assert (res.best_epoch, res.best_acc, res.seconds) == (10, 0.7, 1.5)


def test_engine_names():
    assert parse_engine("compiled") == ("compiled", ())
    assert parse_engine("plain+compile") == ("compiled", ())  # the older spelling
    assert parse_engine("compiled+cl+bf16") == ("compiled", ("bf16", "cl"))
    assert parse_engine("batched+compile") == ("batched", ("compile",))  # the stacked network, compiled
    assert engine_name("plain+compile") == "compiled" and engine_name("plain") == "plain"
    with pytest.raises(DDRError, match="unknown engine 'compile'"):
        parse_engine("compile")


def test_environment_records_the_engine_and_the_generated_code_width(tmp_path, monkeypatch):
    cpu = torch.device("cpu")
    assert environment(cpu)["engine"] == "plain" and environment(cpu)["inductor_simdlen"] is None
    env = environment(cpu, "compiled")
    assert env["engine"] == "compiled"
    assert env["inductor_simdlen"] == (INDUCTOR_SIMDLEN if X86 else None)
    # Inductor's disk cache lives in ddr's cache folder unless the user points it elsewhere
    monkeypatch.setenv("DDR_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    assert inductor_cache_dir() == (tmp_path / "c" / "inductor").resolve()
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "mine"))
    assert inductor_cache_dir() == tmp_path / "mine"


_EVALUATE = r"""
import json, sys
from ddr.kernel.cpu_isa import pin_cpu_isa
pin_cpu_isa()
import torch
torch.set_num_threads(1)
import ddr
from ddr.data import load_dataset, random_baseline
from torch._dynamo.utils import counters
ddr.evaluate("acc", distilled=random_baseline(load_dataset("digits"), 10, 5), dataset="digits", ipc=10,
             protocol=sys.argv[1], rounds=1, engine="compiled", track=False, use_cache=False, out=sys.argv[2])
print(json.dumps({k: dict(counters[k]) for k in ("inductor", "aot_autograd")}))
"""


@pytest.mark.slow
def test_compiled_engine_within_tolerance_and_a_second_process_reuses_the_disk_cache(tmp_path, digits):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DDR_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    env.pop("TORCHINDUCTOR_CACHE_DIR", None)

    def run(out: Path) -> dict:
        proc = subprocess.run([sys.executable, "-c", _EVALUATE, str(TINY), str(out)], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    first = run(tmp_path / "first")
    graphs = list((tmp_path / "cache" / "inductor" / "fxgraph").rglob("*"))
    assert first["inductor"].get("fxgraph_cache_miss", 0) > 0 and any(p.is_file() for p in graphs)
    second = run(tmp_path / "second")  # a new process: the generated code comes from the disk cache
    assert second["inductor"].get("fxgraph_cache_hit", 0) == first["inductor"]["fxgraph_cache_miss"]
    assert second["inductor"].get("fxgraph_cache_miss", 0) == 0
    assert second["aot_autograd"].get("autograd_cache_hit", 0) > 0

    compiled = json.loads((tmp_path / "second" / "result.json").read_text())
    assert compiled["environment"]["engine"] == "compiled"
    assert compiled["environment"]["inductor_simdlen"] == (INDUCTOR_SIMDLEN if X86 else None)
    assert [t["engine"] for t in compiled["trainings"]] == ["compiled"] * 2  # one per LR of the grid
    first_res = json.loads((tmp_path / "first" / "result.json").read_text())
    assert [t["history"] for t in first_res["trainings"]] == [t["history"] for t in compiled["trainings"]]

    plain = ddr.evaluate("acc", distilled=random_baseline(digits, 10, 5), dataset="digits", ipc=10,
                         protocol=str(TINY), rounds=1, track=False, use_cache=False)
    assert plain.environment["engine"] == "plain" and all("engine" not in t for t in plain.trainings)
    assert [t["key"] for t in plain.trainings] != [t["key"] for t in compiled["trainings"]]  # cached apart
    diffs = [abs(p["best_acc"] - c["best_acc"]) * 100 for p, c in zip(plain.trainings, compiled["trainings"])]
    assert statistics.mean(diffs) <= TOL_PP
