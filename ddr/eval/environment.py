"""What a result records about where it was computed."""
from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import torch

import ddr
from ddr.data.digest import file_md5


def git_commit(cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd or Path.cwd(), capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


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
        "platform": platform.platform(),
        "git_commit": git_commit(),
        "dvc_lock_md5": file_md5(lock) if lock.is_file() else None,
        "argv": sys.argv[1:] if Path(sys.argv[0]).name == "ddr" else None,
    }
