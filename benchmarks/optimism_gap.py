"""The optimism gap of test-set model selection on digits: the same distilled sets evaluated under
digits-lrs-hard (epoch and LR chosen on the test set, DD-Ranking's rule) and digits-lrs-hard-val
(chosen on a 20% validation split of the training set), and the gap each val run records.

Run:  OMP_NUM_THREADS=1 python benchmarks/optimism_gap.py [--ipc 10] [--methods herding random] [--rounds 5]
"""
from __future__ import annotations

import argparse
import tempfile
import time

import torch

import ddr
from ddr.data.real import load_dataset
from ddr.distill import distill


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipc", type=int, default=10)
    ap.add_argument("--methods", nargs="+", default=["herding", "random"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--protocol", default="digits-lrs-hard")
    ap.add_argument("--cache-dir", default=None, help="training cache (default: a fresh temporary folder)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = load_dataset("digits")
    cache = args.cache_dir or tempfile.mkdtemp(prefix="ddr-optimism-")
    for method in args.methods:
        ds = distill(method, data, args.ipc, seed=1000)
        row = {}
        for proto in (args.protocol, f"{args.protocol}-val"):
            t0 = time.perf_counter()
            r = ddr.evaluate("lrs", distilled=ds, dataset="digits", ipc=args.ipc, protocol=proto, rounds=args.rounds,
                             method=method, track=False, cache_dir=cache)
            row[proto] = r
            acc = r.accuracies
            print(f"{method:8s} {proto:22s} syn {sum(acc['syn']) / len(acc['syn']):.4f}  random "
                  f"{sum(acc['random']) / len(acc['random']):.4f}  real {acc['real']:.4f}  "
                  f"LRS {r.metrics['lrs']['mean']:.4f}  IOR {r.metrics['ior']['mean']:.4f}  "
                  f"({time.perf_counter() - t0:.0f} s)")
        gap = row[f"{args.protocol}-val"].selection["optimism_gap"]
        by_role = "  ".join(f"{k} {v:+.4f}" for k, v in gap["by_role"].items())
        print(f"{method:8s} optimism gap (test max - val-selected test acc): mean {gap['mean']:+.4f}  {by_role}")


if __name__ == "__main__":
    main()
