"""One x86 instruction set for CPU numbers that must match across machines.

oneDNN and ATen choose their kernels by the CPU's instruction set, and the AVX-512 kernels add in
another order than the AVX2 ones: on digits, one training in fifty then ends one test image apart, so
a golden record made on one machine fails on the next. Golden records, and the tests that compare with
them, therefore run with both capped at AVX2, which every x86-64 CPU of the last decade has. Both
variables are read when torch loads: call `pin_cpu_isa()` before `import torch`.
"""
from __future__ import annotations

import os
import platform
import sys
from collections.abc import MutableMapping

PINNED = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


def pin_cpu_isa(env: MutableMapping[str, str] = os.environ) -> None:
    """Cap oneDNN and ATen at AVX2 on x86-64 (elsewhere: nothing to pin); a value already set wins."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return
    if env is os.environ and "torch" in sys.modules:
        raise RuntimeError("pin_cpu_isa() must run before torch is imported (torch reads these variables once)")
    for name, value in PINNED.items():
        env.setdefault(name, value)
