"""Shared by tests/compat and benchmarks/bench_ddranking_conformance.py: the digits data set written as a
CIFAR-10 python-pickle folder (ddr.data.digits_cifar), the same trainings run through DD-Ranking 0.2.0 (a
subprocess in its own environment, ddranking_side.py) and through ddr's eager engine
(ddr.train.engine.train_student), and the comparison statistics."""
from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from ddr.data.digits_cifar import write_digits_cifar

ROOT = Path(__file__).resolve().parents[2]
DDRANKING_PYTHON = ROOT / ".ddranking-venv" / "bin" / "python"
SIDE_SCRIPT = Path(__file__).with_name("ddranking_side.py")
# DD-Ranking's DSA-std parameters (every eval config; reference 2.13)
DSA_STD = {"scale": 1.2, "rotate": 15.0, "flip": 0.5, "brightness": 1.0, "saturation": 2.0, "contrast": 0.5,
           "crop": 0.125, "cutout": 0.5}


def ddranking_available() -> str | None:
    """None when the authors' environment is usable, else why not (the reason a test skips with)."""
    if not DDRANKING_PYTHON.exists():
        return f"{DDRANKING_PYTHON.parent.parent} missing: run tools/ddranking-env.sh (needs PyPI)"
    return None


def subset_indices(train_labels: np.ndarray, ipc: int, seed: int) -> list[int]:
    """A fixed class-major subset, ipc images per class: the stand-in for a distilled set."""
    rng = np.random.default_rng(seed)
    return [int(i) for c in range(10) for i in sorted(rng.choice(np.flatnonzero(train_labels == c), ipc,
                                                                 replace=False))]


def run_ddranking(job: dict, workdir: Path, timeout: float = 1800) -> dict:
    """The job's trainings through DD-Ranking 0.2.0 (ddranking_side.py in .ddranking-venv)."""
    spec = workdir / "ddranking-job.json"
    spec.write_text(json.dumps(job))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore", "PYTHONPATH": ""}
    proc = subprocess.run([str(DDRANKING_PYTHON), str(SIDE_SCRIPT), str(spec)], capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ddranking side failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sha256(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


def run_ddr(spec: dict, data, teachers: dict | None = None) -> dict:
    """The same training through ddr's eager engine; `data` is ddr's load_dataset('cifar10', root)."""
    from ddr.augment import build_augmentation
    from ddr.losses import build_loss
    from ddr.protocols import TrainRecipe
    from ddr.teacher_nets import state_digest
    from ddr.train.engine import train_student

    if spec["train"] == "all":
        x, y = data.x_train, data.y_train
    else:
        x, y = data.x_train[spec["train"]], data.y_train[spec["train"]]
    recipe = TrainRecipe(epochs=spec["epochs"], batch_size=spec["batch_size"], optimizer="sgd",
                         momentum=spec.get("momentum", 0.9), weight_decay=spec.get("weight_decay", 5e-4),
                         scheduler="step", step_size=spec["step_size"], test_interval=spec["test_interval"])
    teacher = (teachers or {}).get(spec.get("teacher"))
    res = train_student(model="ConvNet-3", model_args={"width": spec["width"]}, x=x, y=y, x_test=data.x_test,
                        y_test=data.y_test, num_classes=10, recipe=recipe, lr=spec["lr"], seed=spec["seed"],
                        device="cpu", keep_model=True,
                        augment=build_augmentation({"name": "dsa", "params": spec["dsa"]}) if spec.get("dsa") else None,
                        teacher=teacher, loss_fn=build_loss("kl", temperature=spec["temperature"]) if teacher else None)
    return {"name": spec["name"], "seed": spec["seed"], "history": [[e, a * 100.0] for e, a in res.history],
            "best_acc": res.best_acc, "seconds": res.seconds, "state_sha256": state_digest(res.model),
            "test_correct": [round(a * len(data.x_test)) for _, a in res.history],
            "train_sha256": None if spec["train"] == "all" else sha256(x)}


def mean_diff(a: list[float], b: list[float]) -> tuple[float, float]:
    """mean(a) - mean(b) and its standard error (unpaired; sample variances)."""
    va, vb = np.var(a, ddof=1), np.var(b, ddof=1)
    return float(np.mean(a) - np.mean(b)), math.sqrt(va / len(a) + vb / len(b))


def paired_diff(a: list[float], b: list[float]) -> tuple[float, float]:
    d = np.asarray(a) - np.asarray(b)
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))


if __name__ == "__main__":  # pragma: no cover - a hand check: write the folder
    print(write_digits_cifar(Path(sys.argv[1]))[0])
