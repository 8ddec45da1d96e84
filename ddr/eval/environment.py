"""What a result records about where it was computed."""
from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import torch

from ddr.data.digest import file_md5
from ddr.kernel.git import git_commit
from ddr.version import __version__


def _cpu_model() -> str | None:
    """The CPU's model name on Linux (platform.processor() is empty there); it tells Intel from AMD."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    except OSError:
        return None


def _inductor_simdlen(engine: str, device: torch.device) -> int | None:
    """The vector width (bits) of the compiled engine's generated CPU code, as ddr.kernel.cpu_isa pins it;
    None when nothing was compiled for a CPU."""
    if device.type != "cpu" or "compile" not in engine:
        return None
    from ddr.kernel.cpu_isa import pin_inductor_simd

    return pin_inductor_simd()


def environment(device: torch.device, engine: str = "plain") -> dict:
    """`engine`: the canonical name of the engine that trained the evaluation's students (each training
    record names its own when it is not 'plain')."""
    lock = Path.cwd() / "dvc.lock"
    hardware = torch.cuda.get_device_name(device) if device.type == "cuda" else (
        platform.processor() or _cpu_model() or platform.machine())
    return {
        "ddr": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": __import__("numpy").__version__,
        "device": device.type,
        "hardware": hardware,
        "torch_threads": torch.get_num_threads(),
        # CPU kernels differ by instruction set (ddr.kernel.cpu_isa): part of where a CPU number came from
        "cpu_capability": torch.backends.cpu.get_cpu_capability() if device.type == "cpu" else None,
        # MKL's sgemm branch: unset, it follows the CPU's vendor (hardware); COMPATIBLE is one for all
        "mkl_cbwr": os.environ.get("MKL_CBWR") if device.type == "cpu" else None,
        "engine": engine,
        # the compiled engine's generated C++ code: its vector width, pinned like oneDNN's and ATen's
        "inductor_simdlen": _inductor_simdlen(engine, device),
        "platform": platform.platform(),
        "git_commit": git_commit(),
        "dvc_lock_md5": file_md5(lock) if lock.is_file() else None,
        "argv": sys.argv[1:] if Path(sys.argv[0]).name == "ddr" else None,
    }
