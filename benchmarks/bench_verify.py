#!/usr/bin/env python
"""What the trust checks cost: verifying a registry of N releases, in one process.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/bench_verify.py [--releases 10] [--repeat 5]

Builds N releases (4 methods x LRS, 100 resamples each) in a temporary folder, then times, best of
--repeat: (a) verify_chain (signatures, digests, chain: what `verify` did before timestamps),
(b) verify_registry with a trusted state (a + keyring history, timestamp, state, attestations),
(c) the standalone verifier in-process (its main(), state in a temporary file), and (d) the standalone
verifier as a subprocess (what a user runs; includes interpreter start and imports). Prints each
figure and its ratio to (a).
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from registry.keyring import Keyring, generate_key
from registry.ranking import load_results
from registry.release import publish
from registry.trust_state import TrustState
from registry.verify import verify_chain, verify_registry
from tests.registry.helpers import DEFAULT_METHODS, write_results

STANDALONE = Path(__file__).resolve().parents[1] / "verifier" / "ddr_verify.py"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--releases", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        key, _ = generate_key(tmp / "k.key")
        ring = Keyring(path=tmp / "keyring.json")
        ring.add(key.public_key())
        ring.save()
        rel = tmp / "releases"
        for i in range(a.releases):
            src = write_results(tmp / f"r{i}", DEFAULT_METHODS, seed=i)
            publish(load_results([src]), rel, f"1.{i}.0", [key], keyring=ring, resamples=100, repo=tmp)
        spec = importlib.util.spec_from_file_location("ddr_verify", STANDALONE)
        standalone = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(standalone)
        state = TrustState(tmp / "state.json")
        args = [str(rel), "--keyring", str(ring.path), "--state", str(tmp / "state2.json")]

        def quiet_main():
            import contextlib
            import io

            with contextlib.redirect_stdout(io.StringIO()):
                assert standalone.main(args) == 0

        figures = {
            "verify_chain (before: signatures, digests, chain)": best(lambda: verify_chain(rel, ring), a.repeat),
            "verify_registry (+ keyring history, timestamp, state)":
                best(lambda: verify_registry(rel, ring, state=state, keyring_path=ring.path), a.repeat),
            "standalone verifier, in-process": best(quiet_main, a.repeat),
            "standalone verifier, subprocess": best(lambda: subprocess.run([sys.executable, str(STANDALONE), *args],
                                                                          check=True, capture_output=True), a.repeat),
        }
    base = next(iter(figures.values()))
    print(f"{a.releases} releases, best of {a.repeat}:")
    for name, t in figures.items():
        print(f"  {name:<55} {t * 1000:8.1f} ms   x{t / base:5.2f}")


if __name__ == "__main__":
    main()
