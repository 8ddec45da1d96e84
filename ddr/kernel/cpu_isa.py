"""One x86 code path for CPU numbers that must match across machines.

Three libraries choose their kernels by the CPU, and each choice adds in its own order: on digits, one
training in fifty then ends one test image apart, so a golden record made on one machine fails on the
next. oneDNN (convolutions) and ATen (elementwise ops, norms, pooling) choose by instruction set: both
are capped at AVX2, which every x86-64 CPU of the last decade has. MKL (sgemm: the classifier's linear
layer, forward and backward) chooses by instruction set and by vendor: on AMD its default branch runs
Zen-only sgemm kernels, on Intel its AVX2/AVX-512 ones, and no MKL_ENABLE_INSTRUCTIONS or MKL_CBWR=AVX2
makes an Intel CPU run the AMD kernels or the reverse. MKL_CBWR=COMPATIBLE is the one branch MKL keeps
bitwise the same on Intel and AMD CPUs (SSE2 kernels; the digits models are small, so it costs little).
All three variables are read when torch loads: call `pin_cpu_isa()` before `import torch`.

The compiled engine (ddr.train.compiled) adds a fourth code generator: Inductor writes C++ loops whose
vector width it picks by the CPU (512 bits where AVX-512 exists). `INDUCTOR_SIMDLEN` caps it at 256 bits
(AVX2), the width oneDNN and ATen are capped at; `pin_inductor_simd()` sets it, after torch is imported.
"""
from __future__ import annotations

import os
import platform
import sys
from collections.abc import MutableMapping

PINNED = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "COMPATIBLE"}
INDUCTOR_SIMDLEN = 256  # bits: AVX2's vector width


def is_x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def pin_cpu_isa(env: MutableMapping[str, str] = os.environ) -> None:
    """Cap oneDNN and ATen at AVX2 and fix MKL's vendor-neutral branch on x86-64 (elsewhere: nothing to
    pin); a value already set wins."""
    if not is_x86():
        return
    if env is os.environ and "torch" in sys.modules:
        raise RuntimeError("pin_cpu_isa() must run before torch is imported (torch reads these variables once)")
    for name, value in PINNED.items():
        env.setdefault(name, value)


def pin_inductor_simd() -> int | None:
    """Cap the vector width of Inductor's generated CPU code at INDUCTOR_SIMDLEN bits on x86-64 (a width
    already set wins); returns the width in force (None: Inductor's own choice, off x86-64)."""
    from torch._inductor import config

    if is_x86() and config.cpp.simdlen is None:
        config.cpp.simdlen = INDUCTOR_SIMDLEN
    return config.cpp.simdlen
