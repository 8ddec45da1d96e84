"""Real evaluations for the registry's tests: what the main job writes, at test size.

The main job (tools/main.sh) distils digits with the reference methods, draws versioned random baselines
(data/random/digits-ipc<N>/seed<S>) and evaluates every method against the same draws under LRS with hard
and soft labels and ARS with hard labels. This does the same with the tests' tiny protocols (2 rounds,
IPC 1), as grids on the serial executor exported as the main job exports them (ddr.grid.pipeline.export_results),
into one training cache: about ten seconds on one core, once per test session.
At IPC 1 herding and k-center select the same image per class, as in the main job.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IPC = 1
# method -> distiller parameters (dm shortened from 1000 iterations: test size)
METHODS = {"random": {}, "herding": {}, "kcenter": {}, "dm": {"iterations": 20}}
# (kind, label) -> protocol, as params.yaml's evaluate.metrics names them
METRICS = {("lrs", "hard"): "tiny-lrs.yaml", ("lrs", "soft"): "tiny-soft.yaml", ("ars", "hard"): "tiny-ars.yaml"}
DISTILL_SEED = 1000  # not a baseline seed, as in params.yaml


GRID = """\
name: registry-{kind}-{label}
datasets: [digits]
ipc: [{ipc}]
metrics: [{kind}-{label}]
protocol: {protocol}
methods: {{{methods}}}
random: "random/{{dataset}}-ipc{{ipc}}"
"""


def build(root: Path) -> Path:
    """Write root/random/..., root/distilled/<method>/ and, as the main job does, evaluate every (kind, label)
    as a grid of cells and export it: root/results/<kind>-<label>/digits-ipc<N>/<kind>-<label>/<method>/
    {result.json, predictions.npz}. Returns root/results."""
    from ddr.data import load_dataset, random_baseline, write_distilled
    from ddr.distill import distill
    from ddr.grid.pipeline import export_results
    from ddr.grid.runner import run_grid
    from ddr.grid.spec import load_grid
    from ddr.protocols import load_protocol

    torch.set_num_threads(1)
    data = load_dataset("digits")
    rounds = load_protocol(str(FIXTURES / "tiny-lrs.yaml")).rounds
    for seed in range(rounds):  # seed_base 0: round r draws seed r
        write_distilled(root / "random" / f"digits-ipc{IPC}" / f"seed{seed}", random_baseline(data, IPC, seed))
    for method, params in METHODS.items():
        write_distilled(root / "distilled" / method, distill(method, data, IPC, seed=DISTILL_SEED, **params))
    methods = ", ".join(f"{m}: {{path: distilled/{m}}}" for m in METHODS)
    for (kind, label), protocol in METRICS.items():
        spec = root / f"grid-{kind}-{label}.yaml"
        spec.write_text(GRID.format(kind=kind, label=label, ipc=IPC, protocol=FIXTURES / protocol, methods=methods))
        # the reference distillers, as the pipeline's grid names them: herding and k-center may agree
        grid = dataclasses.replace(load_grid(spec), reference=frozenset(METHODS))
        report = run_grid(grid, out=root / "grid" / f"{kind}-{label}", track=False, cache_dir=root / "cache",
                          threads=1)
        export_results(report, root / "results" / f"{kind}-{label}", root)
    return root / "results"
