"""How much paired rounds cut the std of IOR over 5 rounds on digits (herding, IPC 10).

Unpaired and paired variants of digits-lrs-hard share their random students (seeded from the recipe's
content), so only the synthetic side differs: in the paired variant it gets the random student's seed
(initialisation, batch order). Fixed LR (0.05): the pairing is exact. Three seed bases give three
independent 5-round stds per variant.
    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/paired_rounds.py
"""
from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import torch

torch.set_num_threads(1)


def main() -> None:
    from ddr.eval.api import evaluate
    from ddr.protocols.golden import golden_set
    from ddr.protocols import load_protocol

    ds = golden_set(load_protocol("digits-lrs-hard"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for base in (0, 100, 200):
            stds = {}
            for paired in (False, True):
                p = Path(tmp) / f"p{base}{paired}.yaml"
                p.write_text(f"name: paired-bench\nversion: 1\ninclude: digits-lrs-hard\nlr_grid: [0.05]\n"
                             f"seed_base: {base}\npaired: {str(paired).lower()}\n")
                res = evaluate("lrs", distilled=ds, dataset="digits", ipc=10, protocol=str(p), track=False,
                               cache_dir=Path(tmp) / "cache")
                stds[paired] = res.metrics["ior"]["std"]
                print(f"seed_base {base} paired={paired}: IOR {res.metrics['ior']['mean']:.4f} "
                      f"± {res.metrics['ior']['std']:.4f} per round {res.metrics['ior']['per_round']}", flush=True)
            rows.append(stds)
    un = statistics.mean(r[False] for r in rows)
    pa = statistics.mean(r[True] for r in rows)
    print(f"mean std of IOR over 5 rounds: unpaired {un:.4f}, paired {pa:.4f} (ratio {pa / un:.2f})")


if __name__ == "__main__":
    main()
