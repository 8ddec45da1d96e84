"""scikit-learn's digits written as a CIFAR-10 python-pickle folder: a CIFAR-format data set small enough for
one CPU core (tests/compat's conformance runs against DD-Ranking and the correction ledger's CIFAR rows)."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np


def write_digits_cifar(root: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """scikit-learn's digits, upsampled 8x8 -> 32x32 (nearest), grey -> RGB, pixels 0..16 -> 0..255, in
    the CIFAR-10 python-pickle layout (data_batch_1..5, test_batch, batches.meta). Every fifth image is a
    test image. Returns the folder and the train/test labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    px = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)  # N x 8 x 8
    px = np.kron(px, np.ones((1, 4, 4), dtype=np.uint8))  # N x 32 x 32
    rows = np.repeat(px[:, None], 3, axis=1).reshape(len(px), 3072)  # channel-major, as CIFAR stores it
    labels = digits.target.astype(np.int64)
    test = np.arange(len(px)) % 5 == 0
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    train_rows, train_labels = rows[~test], labels[~test]
    for k, part in enumerate(np.array_split(np.arange(len(train_rows)), 5), start=1):
        _dump(folder / f"data_batch_{k}", {"data": train_rows[part], "labels": train_labels[part].tolist()})
    _dump(folder / "test_batch", {"data": rows[test], "labels": labels[test].tolist()})
    _dump(folder / "batches.meta", {"label_names": [str(c) for c in range(10)], "num_cases_per_batch": 0})
    return folder, train_labels, labels[test]


def _dump(path: Path, obj: dict) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f)
