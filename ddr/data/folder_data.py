"""A real data set decoded from an image folder, which remembers its training files.

The decoded tensors are what every training reads, except the random side's per-image train transforms:
they act on the original files, as DD-Ranking's ImageFolder path did (ddr.data.originals). So a folder data
set keeps the path of every training image, resident (this class) or streamed (ddr.data.streaming).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ddr.data.real_data import RealData
from ddr.kernel.digests import sha256_file


@dataclass(frozen=True, eq=False)
class FolderData(RealData):
    """A RealData whose training image i was decoded from `train_paths[i]` (under `root`)."""

    root: str = ""
    train_paths: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if len(self.train_paths) != len(self.y_train):  # a subset of the tensors must subset the paths too
            raise ValueError(f"{self.name}: {len(self.train_paths)} training paths for {len(self.y_train)} images")

    def train_relpaths(self, idx: Sequence[int] | None = None) -> list[str]:
        paths = self.train_paths if idx is None else [self.train_paths[i] for i in idx]
        base = Path(self.root)
        return [p.relative_to(base).as_posix() if p.is_relative_to(base) else str(p) for p in paths]

    def train_sha256s(self, idx: Sequence[int]) -> list[str]:
        return [sha256_file(self.train_paths[i]) for i in idx]

    def train_files(self, idx: Sequence[int]) -> list[dict[str, object]]:
        """The original files behind training indices `idx`: path (relative to the root), sha256, label."""
        return [{"path": p, "sha256": s, "label": int(self.y_train[i])}
                for i, p, s in zip(idx, self.train_relpaths(idx), self.train_sha256s(idx))]
