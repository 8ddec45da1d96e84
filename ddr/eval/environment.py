"""What a result records about where it was computed."""
from __future__ import annotations

import platform
import sys
from pathlib import Path

import torch

import ddr
from ddr.data.digest import file_md5
from ddr.kernel.git import git_commit


def environment(device: torch.device) -> dict:
    lock = Path.cwd() / "dvc.lock"
    hardware = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    return {
        "ddr": ddr.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": __import__("numpy").__version__,
        "device": device.type,
        "hardware": hardware,
        "torch_threads": torch.get_num_threads(),
        # CPU kernels differ by instruction set (ddr.kernel.cpu_isa): part of where a CPU number came from
        "cpu_capability": torch.backends.cpu.get_cpu_capability() if device.type == "cpu" else None,
        "platform": platform.platform(),
        "git_commit": git_commit(),
        "dvc_lock_md5": file_md5(lock) if lock.is_file() else None,
        "argv": sys.argv[1:] if Path(sys.argv[0]).name == "ddr" else None,
    }
