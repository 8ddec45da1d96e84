"""Digits figures for the fidelity fixes: LRS, HLR, IOR (mean/std over rounds) of a herding set.

Run against two checkouts (before/after a fix) to get the numbers a fix moved:
    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/fidelity_digits.py OUT.json [PROTOCOL ...]
Each evaluation uses a fresh cache, so nothing is shared between the runs compared.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time

import torch

torch.set_num_threads(1)


def main(out: str, protocols: list[str]) -> None:
    from ddr.data import load_dataset
    from ddr.distill import distill
    from ddr.eval.api import evaluate

    data = load_dataset("digits")
    ds = distill("herding", data, 10, seed=0)
    ds.meta["method"] = "herding"
    figures = {}
    for proto in protocols or ["digits-lrs-hard", "digits-lrs-soft"]:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as cache:
            res = evaluate("lrs", distilled=ds, dataset="digits", ipc=10, protocol=proto, track=False,
                           cache_dir=cache)
        figures[proto] = {"metrics": res.metrics, "accuracies": res.accuracies,
                          "seconds": round(time.perf_counter() - t0, 1)}
        m = res.metrics
        print(f"{proto}: LRS {m['lrs']['mean']:.4f}±{m['lrs']['std']:.4f} HLR {m['hlr']['mean']:.4f}±{m['hlr']['std']:.4f} "
              f"IOR {m['ior']['mean']:.4f}±{m['ior']['std']:.4f} ({figures[proto]['seconds']} s)", flush=True)
    with open(out, "w") as fh:
        json.dump(figures, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
