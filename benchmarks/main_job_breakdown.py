"""Where a finished main job's evaluate stage spent its time, from what the run itself recorded.

    python benchmarks/main_job_breakdown.py [CHECKOUT]   (default: .; a checkout where tools/main.sh or
                                                          benchmarks/bench_main_job.sh ran)

Reads the grid's summary (`.ddr/grid/pipeline/grid.json`: the stage's wall time), params.yaml (workers)
and the MLflow store (`mlflow.db`): each evaluation's parent run (its wall time) and each training's child
run (its key, whether it came from the cache, the seconds its training took). It prints the worker-seconds
the stage had (wall x workers) split into: training (each distinct training key once, its recorded seconds:
the work no scheduler can remove on this engine), trainings done twice (a key trained fresh by two cells),
the cells' own time beyond their fresh trainings (data loading, MLflow child runs, scoring, result files)
and the rest (workers idle or starting, pooled trainings' task overhead). Nothing here is timed anew.
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import yaml


def breakdown(checkout: Path) -> dict[str, float]:
    from mlflow import MlflowClient

    from ddr.mlflow_notes import EVALUATION, LEVEL_TAG, TRAINING

    grid = json.loads((checkout / ".ddr/grid/pipeline/grid.json").read_text())
    params = yaml.safe_load((checkout / "params.yaml").read_text())
    workers = int(params["evaluate"]["executor"].get("workers") or 1)
    client = MlflowClient(tracking_uri=f"sqlite:///{(checkout / 'mlflow.db').resolve()}")
    exps = [e.experiment_id for e in client.search_experiments()]
    runs = []
    token = None
    while True:  # every run, page by page
        page = client.search_runs(exps, max_results=5000, page_token=token)
        runs += list(page)
        token = page.token
        if not token:
            break
    parents = [r for r in runs if r.data.tags.get(LEVEL_TAG) == EVALUATION]
    children = [r for r in runs if r.data.tags.get(LEVEL_TAG) == TRAINING]
    seconds_by_key: dict[str, float] = {}
    fresh = defaultdict(int)
    fresh_seconds = 0.0
    for c in children:
        key, secs = c.data.params.get("key"), c.data.metrics.get("train_seconds", 0.0)
        if key is None:  # a given checkpoint tested, not trained
            continue
        seconds_by_key.setdefault(key, secs)
        if c.data.tags.get("ddr.cached") == "False":
            fresh[key] += 1
            fresh_seconds += secs
    cells = sum((r.info.end_time - r.info.start_time) / 1000 for r in parents if r.info.end_time)
    wall = float(grid["wall_time_s"])
    training = sum(seconds_by_key.values())
    twice = sum(seconds_by_key[k] * (n - 1) for k, n in fresh.items() if n > 1)
    return {"wall_s": wall, "workers": workers, "worker_s": wall * workers, "cells": len(parents),
            "trainings_logged": len(children), "trainings_distinct": len(seconds_by_key),
            "trainings_fresh_in_cells": sum(fresh.values()), "training_s": training, "twice_s": twice,
            "cells_beyond_training_s": cells - fresh_seconds,
            "rest_s": wall * workers - training - twice - (cells - fresh_seconds),
            "floor_wall_s": training / workers}


def main(argv: list[str]) -> None:
    checkout = Path(argv[0] if argv else ".").resolve()
    b = breakdown(checkout)
    w = b["worker_s"]
    print(f"evaluate stage: {b['wall_s']:.0f} s wall x {b['workers']} workers = {w:.0f} worker-s; "
          f"{b['cells']} cells, {b['trainings_logged']} trainings logged, {b['trainings_distinct']} distinct, "
          f"{b['trainings_fresh_in_cells']} trained inside cells")
    for label, key in (("training (each distinct key once)", "training_s"), ("trainings done twice", "twice_s"),
                       ("cells beyond their fresh trainings", "cells_beyond_training_s"),
                       ("rest (idle, start-up, pool tasks)", "rest_s")):
        print(f"  {label:<38} {b[key]:8.1f} worker-s  {b[key] / w:6.1%}")
    print(f"floor on this engine (training / workers): {b['floor_wall_s']:.0f} s wall")


if __name__ == "__main__":
    main(sys.argv[1:])
