"""Simulated coverage of P(beats the next): the per-method percentile bootstrap ddr used before against the
paired Student-t draws of registry.certainty, and the memory of each at a large round count.

Two methods with equal true means and independent normal noise, n rounds: a calibrated P(A beats B) leaves
[0.025, 0.975] in 5% of tables. Run:  OMP_NUM_THREADS=1 python benchmarks/rank_coverage.py [--tables 2000]
"""
from __future__ import annotations

import argparse
import tracemalloc

import numpy as np

from registry.certainty import rank_certainty


def old_bootstrap_p(per_round: list[list[float]], rng: np.random.Generator, resamples: int) -> float:
    """The estimator ddr shipped before (baseline): each method's rounds resampled on their own."""
    means = np.empty((resamples, len(per_round)))
    for j, rounds in enumerate(per_round):
        vals = np.asarray(rounds, dtype=np.float64)
        idx = rng.integers(0, len(vals), size=(resamples, len(vals)))
        means[:, j] = vals[idx].mean(axis=1)
    a, b = means[:, 0], means[:, 1]
    return float((np.count_nonzero(a > b) + 0.5 * np.count_nonzero(a == b)) / resamples)


def outside_rate(ps: list[float]) -> float:
    p = np.asarray(ps)
    return float(np.mean((p < 0.025) | (p > 0.975)))


def coverage(tables: int, rounds: int, draws: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    old, paired, unpaired = [], [], []
    for i in range(tables):
        x = 0.5 + 0.01 * rng.standard_normal((2, rounds))
        per = [list(x[0]), list(x[1])]
        if np.mean(per[1]) > np.mean(per[0]):  # the ranking orders by mean, best first
            per = per[::-1]
        old.append(old_bootstrap_p(per, np.random.default_rng([seed, i]), draws))
        paired.append(rank_certainty(per, seed=seed, draws=draws, key=str(i), paired=True)["p_beats_next"][0])
        unpaired.append(rank_certainty(per, seed=seed, draws=draws, key=str(i), paired=False)["p_beats_next"][0])
    return {"old": outside_rate(old), "paired": outside_rate(paired), "unpaired": outside_rate(unpaired)}


def peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", type=int, default=2000)
    ap.add_argument("--draws", type=int, default=2000)
    args = ap.parse_args()
    print(f"P(beats next) outside [0.025, 0.975], equal true means, {args.tables} tables, {args.draws} draws "
          "(nominal 0.05):")
    for n in (3, 5, 10):
        c = coverage(args.tables, n, args.draws)
        print(f"  n={n:2d}  old per-method bootstrap {c['old']:.3f}   paired t {c['paired']:.3f}   "
              f"unpaired t {c['unpaired']:.3f}   old/new {c['old'] / max(c['paired'], 1e-9):.2f}x")
    rng = np.random.default_rng(1)
    per = [list(0.5 + 0.01 * rng.standard_normal(20000)) for _ in range(4)]
    old = peak_mib(lambda: old_bootstrap_p(per, np.random.default_rng(0), 1000))
    new = peak_mib(lambda: rank_certainty(per, seed=0, draws=1000, key="k", paired=True))
    new10 = peak_mib(lambda: rank_certainty(per, seed=0, draws=10000, key="k", paired=True))
    print(f"peak traced memory, 4 methods x 20000 rounds: old bootstrap (1000 resamples) {old:.1f} MiB; "
          f"paired t 1000 draws {new:.1f} MiB, 10000 draws {new10:.1f} MiB; old/new {old / new:.1f}x")


if __name__ == "__main__":
    main()
