"""`RealData`, the in-memory form of a real data set, and `DATASETS`, the registry of the loaders that
build one by name. The loaders register themselves (ddr/data/real.py, ddr/data/folders.py);
`ddr.data.real.load_dataset` is the one way to load a set by name.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ddr.data.digest import tensors_sha256
from ddr.kernel.registry import Registry


@dataclass(frozen=True, eq=False)
class RealData:
    """A labelled train/test pair in normalised pixel space."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str
    _digest: list = field(default_factory=list, repr=False)

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def im_size(self) -> tuple[int, int]:
        return int(self.x_train.shape[2]), int(self.x_train.shape[3])

    @property
    def digest(self) -> str:
        """sha256 over the exact tensors (train and test): the data's identity in cache keys."""
        if not self._digest:
            self._digest.append(tensors_sha256(self.x_train, self.y_train, self.x_test, self.y_test))
        return self._digest[0]

    def class_indices(self) -> list[np.ndarray]:
        y = self.y_train.numpy()
        return [np.flatnonzero(y == c) for c in range(self.num_classes)]

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.mean).view(1, -1, 1, 1)
        std = torch.tensor(self.std).view(1, -1, 1, 1)
        return x * std + mean

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.mean).view(1, -1, 1, 1)
        std = torch.tensor(self.std).view(1, -1, 1, 1)
        return (x - mean) / std


def normalise_splits(x_train: np.ndarray, x_test: np.ndarray, mean: Sequence[float],
                     std: Sequence[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Both splits (N x C x H x W, pixels in [0, 1]) in the normalised space: (x - mean) / std per channel."""
    m = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
    s = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
    return (
        torch.from_numpy(((x_train - m) / s).astype(np.float32)),
        torch.from_numpy(((x_test - m) / s).astype(np.float32)),
    )


# name -> loader(root, [im_size]) -> RealData; the image-folder sets also take im_size (RESIZABLE in ddr.data.real)
DATASETS: Registry[Callable[..., RealData]] = Registry("data set")
