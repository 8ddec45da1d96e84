"""Grid scaling on this machine: wall time with 1 and 2 workers, and the per-cell overhead of scheduling
and tracking. Writes benchmarks/grid_scaling.json and prints the Markdown table for SCALING.md.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/grid_scaling.py [--ray]

Workload: a digits grid of 8 cells (4 random-baseline "methods" x ipc 1, 2) under a bench protocol
(tiny-lrs with 300 training epochs: each cell is 1 real-reference + 8 student trainings). Every
configuration starts from an empty training cache and its own MLflow store, so nothing is reused.
Per-cell overhead = the cell's wall time as the runner sees it (dispatch to stored result) minus the
seconds spent inside its trainings: data loading, seeds, MLflow logging, IPC, result writing. A parallel
grid trains the cells' trainings in its pool first (ddr.grid.pool): their seconds count in the sum of
training time, and a cell's wall time is then its evaluation's, from the cache.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # the private Ray: no token file in ~/.ray
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

ROOT = Path(__file__).resolve().parents[1]

PROTOCOL = (ROOT / "tests" / "fixtures" / "tiny-lrs.yaml").read_text().replace(
    "name: tiny-lrs", "name: bench-lrs").replace("epochs: 20", "epochs: 300").replace("step_size: 10", "step_size: 150")
GRID = """\
name: bench
datasets: [digits]
ipc: [1, 2]
protocol: bench-lrs.yaml
methods:
  rand-a: {random_seed: 11}
  rand-b: {random_seed: 12}
  rand-c: {random_seed: 13}
  rand-d: {random_seed: 14}
"""


def run(config: str, label: str, work: Path, track: bool) -> dict:
    from ddr.grid.executors import make_executor
    from ddr.grid.runner import run_grid
    from ddr.grid.spec import load_grid

    d = work / label
    d.mkdir()
    (d / "bench-lrs.yaml").write_text(PROTOCOL)
    (d / "grid.yaml").write_text(GRID)
    name, _, n = config.partition("-")
    executor = make_executor(name, workers=int(n) if n else None)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    first = []

    pooled: list[float] = []  # seconds of the trainings a parallel grid's pool trained (ddr.grid.pool)

    class Progress:
        def __call__(self, msg: str) -> None:
            pass

        def on_event(self, event) -> None:
            from ddr.grid.events import CellFinished, PoolTrained

            if isinstance(event, PoolTrained):
                pooled.append(event.seconds)
            elif isinstance(event, CellFinished) and not first:
                first.append(time.perf_counter() - t0)

    report = run_grid(load_grid(d / "grid.yaml"), executor, out=d / "out", cache_dir=d / "cache",
                      tracking_uri=f"sqlite:///{d / 'mlflow.db'}", track=track, progress=Progress())
    wall = time.perf_counter() - t0
    cells = []
    for c in report.cells:
        train = sum(t["seconds"] for t in c.result.trainings if not t["cached"])
        cells.append({"id": c.cell.id, "wall_s": c.seconds, "train_s": train, "overhead_s": c.seconds - train})
    return {"label": label, "config": config, "track": track, "wall_s": wall, "cells": cells,
            "train_s": sum(c["train_s"] for c in cells) + sum(pooled), "pooled_trainings": len(pooled),
            "overhead_mean_s": statistics.mean(c["overhead_s"] for c in cells),
            "overhead_median_s": statistics.median(c["overhead_s"] for c in cells),
            "first_result_s": first[0] if first else None, "load_avg_before": load0,
            "overhead_max_s": max(c["overhead_s"] for c in cells),
            "lrs": {c.cell.id: c.result.metrics["lrs"]["mean"] for c in report.cells}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ray", action="store_true", help="also a private local Ray with 2 CPUs")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    configs = [("serial", False), ("serial", True), ("local-1", True), ("local-2", True)]
    if args.ray:
        configs.append(("ray-2", True))
    work = Path(tempfile.mkdtemp(prefix="ddr-bench-"))
    rows = []
    try:
        for config, track in configs:
            label = config + ("" if track else "-nomlflow")
            r = run(config, label, work, track)
            rows.append(r)
            print(f"{label:<18} wall {r['wall_s']:6.1f}s  train {r['train_s']:6.1f}s  "
                  f"overhead/cell median {r['overhead_median_s']:.2f}s max {r['overhead_max_s']:.2f}s  "
                  f"first result {r['first_result_s']:.1f}s  load before {r['load_avg_before']:.1f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    same = len({json.dumps(r["lrs"], sort_keys=True) for r in rows}) == 1
    out = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_at_end": os.getloadavg(),
                       "torch": torch.__version__}, "numbers_identical_across_configs": same, "runs": rows}
    (ROOT / "benchmarks" / "grid_scaling.json").write_text(json.dumps(out, indent=2) + "\n")
    print("\n| configuration | grid wall (s) | first cell done (s) | sum of training time (s) | "
          "overhead per cell, median / max (s) | load avg before |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['label']} | {r['wall_s']:.1f} | {r['first_result_s']:.1f} | {r['train_s']:.1f} | "
              f"{r['overhead_median_s']:.2f} / {r['overhead_max_s']:.2f} | {r['load_avg_before']:.1f} |")
    print(f"\nLRS identical across configurations: {same}; load average at end: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
