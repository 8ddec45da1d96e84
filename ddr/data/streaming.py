"""Image-folder data sets larger than the memory cap: the training split stays on disk and is decoded batch
by batch; the test split is decoded once and held as uint8.

`build_folder_data` (ddr.data.folders) estimates the float32 size of both splits; above the cap
(DDR_MAX_DATA_BYTES) it returns a `StreamedData` instead of a resident RealData. A StreamedData has the
same fields, but
- `x_train` is a `FolderImages`: it holds file paths, never pixels. `x_train[idx]` decodes exactly those
  images (a random baseline reads only its own files), and the training engine pulls whole epochs through
  `batches(perm, batch_size)`, decoded ahead by DataLoader worker processes (DDR_DATA_WORKERS, default
  min(8, CPUs)). Memory stays flat in the number of training images (benchmarks/bench_data.py).
- `x_test` is a `Uint8Images`: the decoded test split as uint8 (a quarter of float32), normalised slice by
  slice on the device it lives on.
The decode and the normalisation are the resident path's own operations in the same order, so both paths
give bit-identical tensors and therefore identical numbers (tests/ddr/test_streaming.py); only the data's
digest differs (it is computed over files, not tensors), hence so do cache keys.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ddr.data.folder_data import FolderData
from ddr.data.image_decode import read_images
from ddr.kernel.atomic import write_text_atomic
from ddr.kernel.digests import sha256_bytes, sha256_file

# Part of a streamed data set's digest: bump when decoding (resize, crop, normalisation) changes.
DECODE_VERSION = 1


def normalise_uint8(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 pixels -> float32 in the normalised space: /255, - mean, / std (one fixed order of operations,
    shared by the resident and the streamed path so that both give the same bits)."""
    out = x.float().div_(255.0)
    shape = (1, -1, 1, 1) if out.ndim == 4 else (-1, 1, 1)
    out.sub_(torch.tensor(mean, device=out.device).view(shape)).div_(torch.tensor(std, device=out.device).view(shape))
    return out


def channel_stats(chunks: Iterator[torch.Tensor] | Sequence[torch.Tensor]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (population) std of uint8 N x C x H x W chunks, in [0, 1] units. Computed from
    exact per-value counts, so the result does not depend on how the images are split into chunks."""
    counts = None
    for x in chunks:
        c = x.shape[1]
        part = torch.stack([torch.bincount(x[:, k].reshape(-1).long(), minlength=256) for k in range(c)])
        counts = part if counts is None else counts + part
    assert counts is not None, "channel_stats needs at least one chunk"
    v = np.arange(256, dtype=np.float64) / 255.0
    mean, std = [], []
    for row in counts.numpy().astype(np.float64):
        n = row.sum()
        m = float((row * v).sum() / n)
        mean.append(m)
        std.append(max(float(np.sqrt((row * (v - m) ** 2).sum() / n)), 1e-8))
    return tuple(mean), tuple(std)


def data_workers() -> int:
    raw = os.environ.get("DDR_DATA_WORKERS")
    return int(raw) if raw else min(8, os.cpu_count() or 1)


class _BatchDecoder(torch.utils.data.Dataset):
    """A DataLoader dataset whose items are whole batches: item = a list of image indices."""

    def __init__(self, images: FolderImages):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, item) -> torch.Tensor:
        return self.images.decode_item(item, threads=1)  # one process per batch already; no nested thread pool


class FolderImages:
    """A training split as image files: decoded (resized, centre-cropped, normalised) only when indexed."""

    dtype = torch.float32

    def __init__(self, paths: Sequence[Path], size: tuple[int, int], mode: str, mean: Sequence[float],
                 std: Sequence[float]):
        self.paths = [Path(p) for p in paths]
        self.size, self.mode = tuple(size), mode
        self.mean, self.std = tuple(mean), tuple(std)
        self.channels = 1 if mode == "L" else 3

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self.paths), self.channels, *self.size))

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def to(self, *args, **kwargs) -> FolderImages:
        return self  # files stay where they are; batches are moved by whoever consumes them

    def decode_uint8(self, idx: Sequence[int], threads: int | None = None) -> torch.Tensor:
        return read_images([self.paths[i] for i in idx], self.size, self.mode, threads=threads)

    def decode(self, idx: Sequence[int], threads: int | None = None) -> torch.Tensor:
        return normalise_uint8(self.decode_uint8(idx, threads), self.mean, self.std)

    def decode_item(self, item: Sequence[int], threads: int | None = None) -> torch.Tensor:
        """One batch of `stream`'s order (here: its image indices)."""
        return self.decode(item, threads)

    def __getitem__(self, idx) -> torch.Tensor:
        if isinstance(idx, slice):
            idx = range(len(self))[idx]
        elif isinstance(idx, torch.Tensor):
            idx = idx.reshape(-1).tolist()
        elif isinstance(idx, (int, np.integer)):
            return self.decode([int(idx)])[0]
        return self.decode([int(i) for i in idx])

    def batches(self, perm: torch.Tensor, batch_size: int, workers: int | None = None,
                pin_memory: bool = False, gen: torch.Generator | None = None) -> Iterator[torch.Tensor]:
        """The images of perm[0:bs], perm[bs:2bs], ... in that order, decoded ahead by worker processes. `gen`
        is for images decoded with random transforms (ddr.data.originals); these draw nothing from it."""
        return self.stream([perm[i:i + batch_size].tolist() for i in range(0, len(perm), batch_size)], workers,
                           pin_memory)

    def stream(self, order: list, workers: int | None = None, pin_memory: bool = False) -> Iterator[torch.Tensor]:
        """One decoded batch per item of `order` (decode_item's argument), in that order (DataLoader workers
        decode ahead)."""
        workers = data_workers() if workers is None else workers
        if workers == 0:
            return (self.decode_item(b) for b in order)
        loader = torch.utils.data.DataLoader(_BatchDecoder(self), sampler=order, batch_size=None,
                                             num_workers=min(workers, len(order)), pin_memory=pin_memory,
                                             prefetch_factor=2)
        return iter(loader)

    def chunks_uint8(self, chunk: int = 256) -> Iterator[torch.Tensor]:
        for i in range(0, len(self), chunk):
            yield self.decode_uint8(range(i, min(i + chunk, len(self))))


class Uint8Images:
    """A decoded split held as uint8 and normalised per slice (the test split of a streamed data set)."""

    dtype = torch.float32

    def __init__(self, pixels: torch.Tensor, mean: Sequence[float], std: Sequence[float]):
        self.pixels, self.mean, self.std = pixels, tuple(mean), tuple(std)

    def __len__(self) -> int:
        return len(self.pixels)

    @property
    def shape(self) -> torch.Size:
        return self.pixels.shape

    @property
    def device(self) -> torch.device:
        return self.pixels.device

    def to(self, device=None, non_blocking: bool = False, **kwargs) -> Uint8Images:
        return Uint8Images(self.pixels.to(device, non_blocking=non_blocking), self.mean, self.std)

    def contiguous(self, memory_format=None) -> Uint8Images:
        return self  # slices are normalised into fresh tensors; their layout is the consumer's choice

    def __getitem__(self, idx) -> torch.Tensor:
        return normalise_uint8(self.pixels[idx], self.mean, self.std)

    def float(self) -> torch.Tensor:
        return normalise_uint8(self.pixels, self.mean, self.std)


@dataclass(frozen=True, eq=False)
class StreamedData(FolderData):
    """A FolderData whose training split is read from files (FolderImages) and whose test split is uint8
    (Uint8Images). Its digest covers the training files' bytes, the decoded test pixels and how both are
    decoded, so it names the same data as long as the files are the same."""

    @property
    def digest(self) -> str:
        if not self._digest:
            x = self.x_train
            h = hashlib.sha256()
            h.update(repr((DECODE_VERSION, x.size, x.mode, self.mean, self.std)).encode())
            h.update(self.y_train.numpy().tobytes())
            for name, sha in zip(self.train_relpaths(), self.train_sha256s()):
                h.update(f"{name}\0{sha}\n".encode())
            h.update(str(tuple(self.x_test.pixels.shape)).encode())
            h.update(self.x_test.pixels.contiguous().numpy().tobytes())
            h.update(self.y_test.numpy().tobytes())
            self._digest.append(h.hexdigest())
        return self._digest[0]

    def train_sha256s(self, idx: Sequence[int] | None = None) -> list[str]:
        """sha256 of the training files (all, or `idx`). The full list is read in threads once per process and
        remembered in the cache folder by (size, mtime), as DVC's state database does, so a later process
        rereads only files that changed (ImageNet-1K's train split is ~140 GB)."""
        if idx is None:
            if not hasattr(self, "_file_digests"):
                object.__setattr__(self, "_file_digests", self._all_sha256s())
            return list(self._file_digests)
        return super().train_sha256s(idx)

    def _all_sha256s(self) -> list[str]:
        from ddr.paths import default_cache_dir

        names = self.train_relpaths()
        store = default_cache_dir() / "files" / f"{sha256_bytes(self.root.encode())[:32]}.json"
        try:
            known = json.loads(store.read_text())
        except (OSError, ValueError):
            known = {}
        stats = [p.stat() for p in self.x_train.paths]

        def digest(i: int) -> str:
            entry = known.get(names[i])
            if isinstance(entry, list) and entry[:2] == [stats[i].st_size, stats[i].st_mtime_ns]:
                return entry[2]
            return sha256_file(self.x_train.paths[i])

        with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
            out = list(pool.map(digest, range(len(names))))
        fresh = {n: [s.st_size, s.st_mtime_ns, d] for n, s, d in zip(names, stats, out)}
        if fresh != known:
            try:
                write_text_atomic(store, json.dumps(fresh))
            except OSError:
                pass  # a read-only cache only costs the next process a re-read
        return out


def streamed_data(name: str, train: tuple[list[Path], list[int]], test: tuple[list[Path], list[int]],
                  num_classes: int, im_size: tuple[int, int], source: str, mean, std, mode: str,
                  test_crop: float = 1.0) -> StreamedData:
    """The streamed counterpart of folders.build_folder_data (same arguments): decodes the test split once
    (uint8) and, where `mean`/`std` are None, makes one pass over the training files for their statistics."""
    x_te = read_images(test[0], im_size, mode, crop_ratio=test_crop)
    if mean is None or std is None:
        mean, std = channel_stats(FolderImages(train[0], im_size, mode, (0.0,), (1.0,)).chunks_uint8())
    return StreamedData(name, FolderImages(train[0], im_size, mode, mean, std),
                        torch.tensor(train[1], dtype=torch.int64), Uint8Images(x_te, mean, std),
                        torch.tensor(test[1], dtype=torch.int64), num_classes, tuple(mean), tuple(std),
                        source=source, root=source, train_paths=tuple(Path(p) for p in train[0]))
