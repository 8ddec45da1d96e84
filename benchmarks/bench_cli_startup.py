"""Start-up of the `ddr` command against a bare `import torch`, each in a fresh interpreter.

    python benchmarks/bench_cli_startup.py [--repeats 5]

Prints the median wall and CPU (user + sys) seconds of `ddr --help`, `ddr protocols ls` and
`python -c "import torch"`, and the ratios. Commands that train nothing import neither torch nor mlflow.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = {
    "ddr --help": [sys.executable, "-m", "pipelines.cli", "--help"],
    "ddr protocols ls": [sys.executable, "-m", "pipelines.cli", "protocols", "ls"],
    "import torch": [sys.executable, "-c", "import torch"],
}


def run(cmd: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; median of {args.repeats}, "
          "the cases alternating")
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in CASES}
    for _ in range(args.repeats):
        for name, cmd in CASES.items():
            times[name].append(run(cmd))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    base = med["import torch"]
    for name, (wall, cpu) in med.items():
        print(f"{name:<18} wall {wall:6.2f} s  cpu {cpu:6.2f} s   vs import torch: wall {wall / base[0]:.2f}x, "
              f"cpu {cpu / base[1]:.2f}x")


if __name__ == "__main__":
    main()
