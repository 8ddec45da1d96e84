"""The compiled engine: the plain engine's loop (ddr.train.engine.train_student with compile=True) whose
student is torch.compile'd, compiled once per (model, shape) in a process and cached on disk across them.

Why it pays: a DC ConvNet step on a small set is many small ATen kernels; Inductor fuses the elementwise
work around the convolutions (norms, activations, pooling and their gradients) into generated C++ loops.
benchmarks/RESULTS.md has the measured step times, compile times and speed-ups.

- In a process: one network per key (model, its arguments, classes, image shape, dtype, device, memory
  format) is compiled once; every later student of that key is initialised as the plain engine
  initialises it (same seed, same build_model draws), then copied into the compiled network's parameters,
  so the compiled code is reused as is (a new batch size recompiles once, with a dynamic batch dimension).
- Across processes: Inductor's FX graph cache and AOTAutograd cache live in <ddr cache>/inductor
  (TORCHINDUCTOR_CACHE_DIR, unless already set), so a second worker or a later run loads the generated
  code instead of generating and compiling it again (Dynamo still traces the model: a few seconds).
- Repeatable numbers: the generated code's vector width is pinned to AVX2's 256 bits on x86-64
  (ddr.kernel.cpu_isa.pin_inductor_simd), as oneDNN's and ATen's kernels are.

The numbers match the plain engine within the tolerance the batched engine keeps (0.5 pp of best accuracy
on average; tests/ddr/test_compiled_engine.py), not bit for bit: fused loops sum in another order. Hence a
compiled result is cached under its own engine name ('compiled'); golden records and the DD-Ranking
conformance check stay on the eager plain engine.
"""
from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ddr.kernel.cpu_isa import pin_inductor_simd
from ddr.paths import default_cache_dir

INDUCTOR_DIR = "inductor"  # under ddr's cache folder


@dataclass
class _Compiled:
    net: nn.Module  # the network whose parameters the compiled code reads
    fwd: Callable[[torch.Tensor], torch.Tensor]


_STUDENTS: dict[tuple, _Compiled] = {}  # this process's compiled students, by student_key
_configured: dict[str, str] = {}  # "dir": the Inductor cache folder configure_inductor last set


def inductor_cache_dir() -> Path:
    """Where Inductor keeps generated code across processes: TORCHINDUCTOR_CACHE_DIR when the user set it,
    else <ddr cache>/inductor (ddr.paths.default_cache_dir: DDR_CACHE_DIR, else .ddr/cache)."""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir as torch_default

    given = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    # torch writes its default into the variable once it has used it, and so does configure_inductor
    if given and given not in (_configured.get("dir"), os.path.abspath(torch_default())):
        return Path(given)
    return (default_cache_dir() / INDUCTOR_DIR).resolve()


def configure_inductor() -> Path:
    """Before compiling: point Inductor's on-disk caches at inductor_cache_dir() and pin the generated
    code's vector width. Returns the cache folder."""
    from torch._functorch import config as functorch_config
    from torch._inductor import config

    path = inductor_cache_dir()
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = _configured["dir"] = str(path)  # Inductor reads it at every access
    config.fx_graph_cache = True
    functorch_config.enable_autograd_cache = True  # the backward graph's cache entry too
    pin_inductor_simd()
    return path


def student_key(model: str, model_args: dict, num_classes: int, x: torch.Tensor, device: torch.device,
                channels_last: bool) -> tuple:
    """What a compiled student is reused for: the same network on inputs of the same image shape and dtype."""
    return (model, json.dumps(model_args, sort_keys=True, default=str), num_classes, tuple(int(s) for s in x.shape[1:]),
            str(x.dtype), str(device), channels_last)


def compiled_student(net: nn.Module, key: tuple) -> tuple[nn.Module, Callable[[torch.Tensor], torch.Tensor]]:
    """(network, compiled forward) for a freshly initialised `net`: on the first call for `key`, `net`
    itself compiled; later, the network compiled then, holding a copy of `net`'s parameters and buffers
    (its gradients cleared), so the optimiser built over it trains `net`'s initialisation."""
    entry = _STUDENTS.get(key)
    if entry is None:
        configure_inductor()
        entry = _STUDENTS[key] = _Compiled(net, torch.compile(net))
    else:
        with torch.no_grad():
            entry.net.load_state_dict(net.state_dict())
        for p in entry.net.parameters():
            p.grad = None
    return entry.net, entry.fwd


def detached_copy(net: nn.Module) -> nn.Module:
    """The trained network as a standalone module (the compiled one is reused by the next student)."""
    return copy.deepcopy(net)


def compiled_count() -> int:
    """How many students this process has compiled (one per key)."""
    return len(_STUDENTS)
