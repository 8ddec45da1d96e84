#!/usr/bin/env python
"""Conformance at DD-Ranking's own width: ConvNet-3 (width 128, DD-Ranking's `build_model`) trained through
DD-Ranking 0.2.0 (its own environment, tests/compat/ddranking_side.py) and through ddr's eager engine, on
the digits written as a CIFAR-10 folder (tests/compat/conformance.py). The CI test
(tests/compat/test_ddranking_conformance.py) runs the same comparison at width 32.

    tools/ddranking-env.sh            # once (PyPI)
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_ddranking_conformance.py --seeds 4 --epochs 30

Scenarios (--scenarios, comma-separated):
  hard   hard labels, no augmentation, DD-Ranking's sampler replaced by ddr's batch order ("paired"):
         expected bit-identical weights and test points per seed;
  dsa    hard labels with DSA-std, DD-Ranking's own sampler and DSA draws ("native"): means over seeds;
  soft   KL (T = 4) against a given teacher in mode M (ConvNet-3 width 128, trained by ddr on the full
         training split), native: means over seeds;
  soft-paired  the same with ddr's batch order: the test points should agree (the KL's float
         formulation differs, so the weights may differ in the last bits);
  real   the real reference (full training split, hard labels, no augmentation), paired: bit-identical.
Prints per seed each side's best accuracy (percent) and seconds per training (both sides run at the same
time, one process each, one torch thread each), then per scenario ddr - DD-Ranking as mean +- standard
error, unpaired and paired by seed. Seeds are 0..S-1 on both sides.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.compat.conformance import (
    DSA_STD,
    ddranking_available,
    mean_diff,
    paired_diff,
    run_ddr,
    run_ddranking,
    subset_indices,
    write_digits_cifar,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=30, help="epochs of the synthetic-size trainings")
    ap.add_argument("--real-epochs", type=int, default=4)
    ap.add_argument("--ipc", type=int, default=10)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--scenarios", default="hard,dsa,soft,real")
    args = ap.parse_args()
    missing = ddranking_available()
    if missing:
        sys.exit(f"bench_ddranking_conformance: {missing}")
    torch.set_num_threads(1)
    from ddr.data import load_dataset
    from ddr.protocols import TrainRecipe
    from ddr.teacher_nets import TeacherEnsemble
    from ddr.train.engine import train_student

    scenarios = args.scenarios.split(",")
    seeds = list(range(args.seeds))
    base = dict(width=args.width, epochs=args.epochs, batch_size=32, lr=0.01, step_size=args.epochs // 2,
                test_interval=min(10, args.epochs))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _, train_labels, _ = write_digits_cifar(root)
        data = load_dataset("cifar10", str(root))
        syn = subset_indices(train_labels, args.ipc, seed=0)
        runs, job = [], {"root": str(root), "teachers": {}}
        teachers = {}
        if "soft" in scenarios or "soft-paired" in scenarios:
            t = train_student(model="ConvNet-3", model_args={"width": args.width}, x=data.x_train, y=data.y_train,
                              x_test=data.x_test, y_test=data.y_test, num_classes=10,
                              recipe=TrainRecipe(epochs=4, batch_size=64, step_size=10, test_interval=4),
                              lr=0.01, seed=7, device="cpu", keep_model=True)
            torch.save(t.model.state_dict(), root / "teacher.pt")
            job["teachers"]["t"] = {"width": args.width, "path": str(root / "teacher.pt")}
            teachers["t"] = TeacherEnsemble([t.model])
            print(f"teacher: ConvNet-3 width {args.width}, best test accuracy {t.best_acc * 100:.2f}% "
                  f"({t.seconds:.0f} s)")
        for s in seeds:
            if "hard" in scenarios:
                runs.append(dict(name="hard", seed=s, train=syn, sampler="paired", **base))
            if "dsa" in scenarios:
                runs.append(dict(name="dsa", seed=s, train=syn, sampler="native", dsa=DSA_STD, **base))
            if "soft" in scenarios:
                runs.append(dict(name="soft", seed=s, train=syn, sampler="native", teacher="t", temperature=4.0,
                                 **base))
            if "soft-paired" in scenarios:
                runs.append(dict(name="soft-paired", seed=s, train=syn, sampler="paired", teacher="t",
                                 temperature=4.0, **base))
            if "real" in scenarios and s < 2:
                runs.append(dict(name="real", seed=s, train="all", sampler="paired",
                                 **{**base, "epochs": args.real_epochs, "batch_size": 128,
                                    "step_size": max(1, args.real_epochs // 2), "test_interval": 2}))
        job["runs"] = runs
        start = time.perf_counter()
        with ThreadPoolExecutor(1) as pool:
            theirs = pool.submit(run_ddranking, job, root, 6 * 3600)
            ours = [run_ddr(spec, data, teachers) for spec in runs]
            dd = theirs.result()["runs"]
        wall = time.perf_counter() - start
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"\n#### ConvNet-3 width {args.width}, digits as CIFAR-10 (IPC {args.ipc}, {args.epochs} epochs), "
          f"{platform.processor() or platform.machine()}, torch {torch.__version__}, one thread per side ({stamp})\n")
    print("| scenario | seed | DD-Ranking acc % | ddr acc % | DD-Ranking s | ddr s | weights identical | "
          "test points identical |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for a, b in zip(dd, ours):
        same = "yes" if a["state_sha256"] == b["state_sha256"] else "no"
        points = "yes" if a["test_correct"] == b["test_correct"] else "no"
        print(f"| {a['name']} | {a['seed']} | {a['best_acc'] * 100:.2f} | {b['best_acc'] * 100:.2f} | "
              f"{a['seconds']:.1f} | {b['seconds']:.1f} | {same} | {points} |")
    print("\n| scenario | n | ddr - DD-Ranking (unpaired) | paired by seed | s per training DD-Ranking / ddr |")
    print("| --- | --- | --- | --- | --- |")
    for name in dict.fromkeys(r["name"] for r in runs):
        pa = [(a, b) for a, b in zip(dd, ours) if a["name"] == name]
        x, y = [b["best_acc"] * 100 for _, b in pa], [a["best_acc"] * 100 for a, _ in pa]
        un = "{:+.2f} +- {:.2f}".format(*mean_diff(x, y)) if len(pa) > 1 else f"{x[0] - y[0]:+.2f}"
        pr = "{:+.2f} +- {:.2f}".format(*paired_diff(x, y)) if len(pa) > 1 else "-"
        secs = (sum(a["seconds"] for a, _ in pa) / len(pa), sum(b["seconds"] for _, b in pa) / len(pa))
        print(f"| {name} | {len(pa)} | {un} | {pr} | {secs[0]:.1f} / {secs[1]:.1f} |")
    print(f"\nwall time {wall:.0f} s (both sides at once)")


if __name__ == "__main__":
    main()
