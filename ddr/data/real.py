"""Real data sets as tensors resident in memory, already in the normalised pixel space.

Every loader reads local files only (no download): `digits` ships with scikit-learn, the others
take a `root` path. Images are float32 N x C x H x W, labels int64. The loaders here and the image-folder
loaders (ddr.data.folders) register themselves in DATASETS; `load_dataset` loads any of them by name.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ddr.data.folders import FOLDER_DATASETS
from ddr.data.real_data import DATASETS, RealData, normalise_splits
from ddr.errors import DDRError

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)  # the DC/DD-Ranking constants (reference 2.10)
DIGITS_SPLIT_SEED = 0  # fixed: changing it changes every digits number, so it is part of the data's identity
DIGITS_TEST_FRACTION = 0.25


@DATASETS.register("digits")
def load_digits(root: str | None = None) -> RealData:
    """scikit-learn's 8x8 digits (1,797 images, 10 classes), split 75/25, stratified, seed 0.
    Pixels 0..16 are scaled to [0, 1], then normalised with the training split's mean and std."""
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[:, None]
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=DIGITS_TEST_FRACTION, stratify=y, random_state=DIGITS_SPLIT_SEED
    )
    # Sort the training split by class, then index: class-major like a distilled set, and stable.
    order = np.lexsort((np.arange(len(y_tr)), y_tr))
    x_tr, y_tr = x_tr[order], y_tr[order]
    mean, std = (float(x_tr.mean()),), (float(x_tr.std()),)
    xt, xe = normalise_splits(x_tr, x_te, mean, std)
    return RealData("digits", xt, torch.from_numpy(y_tr), xe, torch.from_numpy(y_te), 10, mean, std,
                    source="sklearn.datasets.load_digits")


def _unpickle(path: Path) -> dict:
    from ddr.data.safe_pickle import load_data_pickle

    d = load_data_pickle(path)  # never pickle.load: a batch file must not run code
    if not isinstance(d, dict):
        raise DDRError(f"{path}: not a CIFAR batch (a pickled {type(d).__name__}, not a dict)")
    return d


def _cifar(root: str | None, name: str, folder: str, train_files: list[str], test_file: str,
           label_key: str, num_classes: int) -> RealData:
    if root is None:
        raise DDRError(f"data set '{name}' needs --root: the folder holding '{folder}' (python-pickle format)")
    base = Path(root)
    if (base / folder).is_dir():
        base = base / folder
    missing = [f for f in [*train_files, test_file] if not (base / f).is_file()]
    if missing:
        raise DDRError(f"{name}: {base} is not a CIFAR python-pickle folder (missing {', '.join(missing)})")

    def read(files):
        xs, ys = [], []
        for f in files:
            d = _unpickle(base / f)
            xs.append(np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            ys.append(np.asarray(d[label_key], dtype=np.int64))
        return np.concatenate(xs).astype(np.float32) / 255.0, np.concatenate(ys)

    x_tr, y_tr = read(train_files)
    x_te, y_te = read([test_file])
    xt, xe = normalise_splits(x_tr, x_te, CIFAR_MEAN, CIFAR_STD)
    return RealData(name, xt, torch.from_numpy(y_tr), xe, torch.from_numpy(y_te), num_classes,
                    CIFAR_MEAN, CIFAR_STD, source=str(base))


@DATASETS.register("cifar10")
def load_cifar10(root: str | None = None) -> RealData:
    return _cifar(root, "cifar10", "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)],
                  "test_batch", "labels", 10)


@DATASETS.register("cifar100")
def load_cifar100(root: str | None = None) -> RealData:
    return _cifar(root, "cifar100", "cifar-100-python", ["train"], "test", "fine_labels", 100)


def _to_nchw(x: np.ndarray, what: str) -> np.ndarray:
    if x.ndim == 3:
        return x[:, None]
    if x.ndim == 4:
        if x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
            return np.transpose(x, (0, 3, 1, 2))
        return x
    raise DDRError(f"npz: {what} has shape {x.shape}; expected N x H x W, N x H x W x C or N x C x H x W")


@DATASETS.register("npz")
def load_npz(root: str | None = None) -> RealData:
    """Arrays x_train, y_train, x_test, y_test in one .npz file. uint8 pixels are scaled by 1/255;
    normalisation uses the training split's per-channel mean and std."""
    if root is None:
        raise DDRError("data set 'npz' needs --root: the path of a .npz file with x_train, y_train, x_test, y_test")
    path = Path(root)
    if not path.is_file():
        raise DDRError(f"npz: no such file: {path}")
    with np.load(path) as z:
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in z.files]
        if missing:
            raise DDRError(f"npz: {path} lacks {', '.join(missing)}")
        arrays = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    scale = 255.0 if arrays["x_train"].dtype == np.uint8 else 1.0
    x_tr = _to_nchw(arrays["x_train"], "x_train").astype(np.float32) / scale
    x_te = _to_nchw(arrays["x_test"], "x_test").astype(np.float32) / scale
    if x_tr.shape[1:] != x_te.shape[1:]:
        raise DDRError(f"npz: x_train images {x_tr.shape[1:]} and x_test images {x_te.shape[1:]} differ")
    y_tr, y_te = arrays["y_train"].astype(np.int64).ravel(), arrays["y_test"].astype(np.int64).ravel()
    if len(y_tr) != len(x_tr) or len(y_te) != len(x_te):
        raise DDRError("npz: label and image counts differ")
    num_classes = int(max(y_tr.max(), y_te.max())) + 1
    mean = tuple(float(v) for v in x_tr.mean(axis=(0, 2, 3)))
    std = tuple(float(v) for v in x_tr.std(axis=(0, 2, 3)))
    xt, xe = normalise_splits(x_tr, x_te, mean, std)
    return RealData("npz", xt, torch.from_numpy(y_tr), xe, torch.from_numpy(y_te), num_classes, mean, std,
                    source=str(path.resolve()))


# Image-folder sets (TinyImageNet, ImageNet-1K, ImageNet subsets, any ImageFolder) decode at a chosen size.
RESIZABLE = frozenset(FOLDER_DATASETS)


@lru_cache(maxsize=4)
def load_dataset(name: str, root: str | None = None, im_size: tuple[int, int] | None = None) -> RealData:
    """Load a real data set by name (see DATASETS). Cached per process: tensors are read-only by contract.
    `im_size` (H, W) applies to the folder data sets only; None takes the set's default size."""
    loader = DATASETS.get(name)
    if im_size is None:
        return loader(root)
    if name not in RESIZABLE:
        raise DDRError(f"data set '{name}' has a fixed image size; im_size applies to: {', '.join(sorted(RESIZABLE))}")
    return loader(root, im_size=tuple(im_size))
