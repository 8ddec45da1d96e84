"""Image-folder data sets: TinyImageNet, ImageNet-1K, the 10-class ImageNet subsets, any ImageFolder.

Every loader reads local files only (never downloads). A set that fits decodes the whole split into memory
at the requested `im_size`, as float32 N x C x H x W in normalised pixel space (the same contract as the
other RealData loaders, so the training engine can slice device tensors).

Memory: 4 * N * C * H * W bytes per split, e.g. TinyImageNet train at 64 px 4.9 GB, Imagenette train
(~9.5k images) at 128 px 1.9 GB, ImageNet-1K train at 224 px ~770 GB. A set whose estimate exceeds
DDR_MAX_DATA_BYTES (default 32 GiB) is streamed instead (ddr.data.streaming): the training split is read
from its files batch by batch, the test split is held as uint8; the numbers are the same either way.

Resizing (ddr.data.image_decode): shorter side to the target, bilinear (PIL, antialiased), then a centre
crop; an image already at the target size is used as is. The ImageNet family's test split (ImageNet-1K and its
10-class subsets) is decoded as every method evaluates it: shorter side to im_size / 0.875 (256 for 224),
then a centre crop of im_size. DD-Ranking squashed ImageNet to exactly 224 x 224 (aspect
ratio lost) while the methods evaluate with Resize -> CenterCrop (reference 2.10, 6.1.13); the
aspect-keeping resize is used here for every folder set.

Fixes against DD-Ranking (reference 6.1.11): the ImageNet subsets relabel correctly (labels 0..9 in
the order of the subset's class list, as MTT's class_map) instead of writing to index 0 of a list;
TinyImageNet's original val layout (val/images + val_annotations.txt) is read directly, where
DD-Ranking required an undocumented re-organisation into class folders.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image

from ddr.data.folder_data import FolderData
from ddr.data.image_decode import read_images
from ddr.data.real_data import DATASETS, RealData
from ddr.errors import DDRError, unknown

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png", ".bmp", ".ppm", ".webp", ".tif", ".tiff")
DEFAULT_MAX_BYTES = 32 * 2**30
# The ImageNet family's test transform in every method's evaluator: Resize(256) + CenterCrop(224), i.e. the
# shorter side to im_size / 0.875, then a centre crop (TinyImageNet keeps its native 64 px).
IMAGENET_TEST_CROP = 0.875

# MTT/DATM's class lists (indices into the sorted 1000 ImageNet wnids), the lists DD-Ranking copied
# (reference 2.10, `data.py:14-34`). Labels follow the list order.
IMAGENET_SUBSETS: dict[str, tuple[int, ...]] = {
    "imagenette": (0, 217, 482, 491, 497, 566, 569, 571, 574, 701),
    "imagewoof": (193, 182, 258, 162, 155, 167, 159, 273, 207, 229),
    "imagemeow": (281, 282, 283, 284, 285, 291, 292, 290, 289, 287),
    "imagesquawk": (84, 130, 88, 144, 145, 22, 96, 9, 100, 89),
    "imagefruit": (953, 954, 949, 950, 951, 957, 952, 945, 943, 948),
    "imageyellow": (309, 986, 954, 951, 987, 779, 599, 291, 72, 11),
}
# The same classes as wnids, where known, in the list order above. They let a 10-class folder
# (fastai's imagenette2 / imagewoof2 downloads: train/<wnid>/...) be used directly, and check that a
# 1000-class folder is the standard ImageNet one.
SUBSET_WNIDS: dict[str, tuple[str, ...]] = {
    "imagenette": ("n01440764", "n02102040", "n02979186", "n03000684", "n03028079", "n03394916",
                   "n03417042", "n03425413", "n03445777", "n03888257"),
    "imagewoof": ("n02096294", "n02093754", "n02111889", "n02088364", "n02086240", "n02089973",
                  "n02087394", "n02115641", "n02099601", "n02105641"),
    "imagemeow": ("n02123045", "n02123159", "n02123394", "n02123597", "n02124075", "n02129165",
                  "n02129604", "n02128925", "n02128757", "n02127052"),
}


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: Path) -> list[Path]:
    """Image files under `folder` (recursively: TinyImageNet keeps them in <class>/images/), sorted."""
    return sorted(p for p in folder.rglob("*") if _is_image(p))


def class_folders(split_dir: Path) -> list[str]:
    return sorted(d.name for d in split_dir.iterdir() if d.is_dir())


def scan_split(split_dir: Path, classes: list[str]) -> tuple[list[Path], list[int]]:
    """(paths, labels) for class folders `split_dir/<class>/...`; label = position in `classes`."""
    paths: list[Path] = []
    labels: list[int] = []
    for label, cls in enumerate(classes):
        d = split_dir / cls
        if not d.is_dir():
            raise DDRError(f"{split_dir}: missing class folder '{cls}'")
        files = list_images(d)
        paths += files
        labels += [label] * len(files)
    return paths, labels


def _max_bytes() -> int:
    raw = os.environ.get("DDR_MAX_DATA_BYTES")
    return int(raw) if raw else DEFAULT_MAX_BYTES


def build_folder_data(name: str, train: tuple[list[Path], list[int]], test: tuple[list[Path], list[int]],
                      num_classes: int, im_size: tuple[int, int], source: str,
                      mean: tuple[float, ...] | None = IMAGENET_MEAN, std: tuple[float, ...] | None = IMAGENET_STD,
                      mode: str = "RGB", test_crop: float = 1.0) -> FolderData:
    """Decode both splits; `mean`/`std` None: the training split's per-channel statistics. `test_crop` < 1:
    the test split is resized to im_size / test_crop and centre-cropped (ImageNet's Resize 256 + CenterCrop
    224). Above the memory cap the training split is streamed from its files (ddr.data.streaming)."""
    from ddr.data.streaming import channel_stats, normalise_uint8, streamed_data

    for split, (paths, _) in (("train", train), ("val", test)):
        if not paths:
            raise DDRError(f"{name}: no images in the {split} split of {source}")
    c = 1 if mode == "L" else 3
    pixels = c * im_size[0] * im_size[1]
    need = 4 * (len(train[0]) + len(test[0])) * pixels
    if need > _max_bytes():
        if len(test[0]) * pixels > _max_bytes():
            raise DDRError(f"{name}: even the {len(test[0])} test images at {im_size[0]}x{im_size[1]} as uint8 need "
                           f"{len(test[0]) * pixels / 2**30:.3g} GiB (limit {_max_bytes() / 2**30:.3g} GiB, "
                           f"DDR_MAX_DATA_BYTES); raise the limit or use a smaller im_size")
        return streamed_data(name, train, test, num_classes, im_size, source, mean, std, mode, test_crop)
    x_tr, x_te = read_images(train[0], im_size, mode), read_images(test[0], im_size, mode, crop_ratio=test_crop)
    if mean is None or std is None:
        mean, std = channel_stats([x_tr])
    return FolderData(name, normalise_uint8(x_tr, mean, std), torch.tensor(train[1], dtype=torch.int64),
                      normalise_uint8(x_te, mean, std), torch.tensor(test[1], dtype=torch.int64), num_classes,
                      tuple(mean), tuple(std), source=source, root=source, train_paths=tuple(train[0]))


def _root(root: str | None, name: str, layout: str) -> Path:
    if root is None:
        raise DDRError(f"data set '{name}' needs --root: {layout}")
    base = Path(root)
    if not (base / "train").is_dir():
        raise DDRError(f"{name}: {base} has no train/ folder (expected {layout})")
    return base


def _size(im_size, default: int | tuple[int, int]) -> tuple[int, int]:
    size = im_size if im_size is not None else default
    size = (size, size) if isinstance(size, int) else tuple(int(v) for v in size)
    if len(size) != 2 or min(size) < 1:
        raise DDRError(f"im_size must be a positive int or (H, W), got {im_size}")
    return size


def load_tinyimagenet(root: str | None = None, im_size: tuple[int, int] | int | None = None) -> RealData:
    """TinyImageNet: root/train/<wnid>/images/*.JPEG (or train/<class>/*), and root/val either with class
    folders or as the original val/images + val_annotations.txt. 64 px by default, ImageNet mean/std."""
    layout = "root/train/<class>/[images/]*, root/val/<class>/* or root/val/val_annotations.txt"
    base = _root(root, "tinyimagenet", layout)
    classes = class_folders(base / "train")
    val = base / "val"
    if not val.is_dir():
        raise DDRError(f"tinyimagenet: {base} has no val/ folder")
    train = scan_split(base / "train", classes)
    ann = val / "val_annotations.txt"
    if any((val / c).is_dir() for c in classes):
        test = scan_split(val, classes)
    elif ann.is_file():
        index = {c: i for i, c in enumerate(classes)}
        img_dir = val / "images" if (val / "images").is_dir() else val
        paths, labels = [], []
        for n, line in enumerate(ann.read_text().splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) < 2 or parts[1] not in index:
                raise DDRError(f"tinyimagenet: {ann}:{n}: unknown class '{parts[1] if len(parts) > 1 else ''}'")
            if not (img_dir / parts[0]).is_file():
                raise DDRError(f"tinyimagenet: {ann}:{n}: missing image {img_dir / parts[0]}")
            paths.append(img_dir / parts[0])
            labels.append(index[parts[1]])
        test = (paths, labels)
    else:
        raise DDRError(f"tinyimagenet: {val} has neither class folders nor val_annotations.txt")
    return build_folder_data("tinyimagenet", train, test, len(classes), _size(im_size, 64), str(base.resolve()))


def _train_val_folders(root: str | None, name: str, im_size, default_size, mean, std,
                       mode: str = "RGB", test_crop: float = 1.0) -> RealData:
    base = _root(root, name, "root/train/<class>/* and root/val/<class>/*")
    if not (base / "val").is_dir():
        raise DDRError(f"{name}: {base} has no val/ folder (class folders; ImageNet's flat val must be sorted "
                       f"into class folders first)")
    classes = class_folders(base / "train")
    extra = sorted(set(class_folders(base / "val")) - set(classes))
    if extra:
        raise DDRError(f"{name}: val/ has class folder '{extra[0]}' that train/ lacks")
    return build_folder_data(name, scan_split(base / "train", classes), scan_split(base / "val", classes),
                             len(classes), _size(im_size, default_size), str(base.resolve()), mean, std, mode,
                             test_crop)


def load_imagenet1k(root: str | None = None, im_size: tuple[int, int] | int | None = None) -> RealData:
    """ImageNet-1K as class folders root/train, root/val; 224 px by default, ImageNet mean/std."""
    return _train_val_folders(root, "imagenet1k", im_size, 224, IMAGENET_MEAN, IMAGENET_STD,
                              test_crop=IMAGENET_TEST_CROP)


def load_imagefolder(root: str | None = None, im_size: tuple[int, int] | int | None = None) -> RealData:
    """Any root/train/<class>, root/val/<class> folder. im_size defaults to the first training image's
    size; grey-scale folders (first image in mode L) load as 1 channel; normalisation uses the training
    split's per-channel mean and std (as the npz loader)."""
    base = _root(root, "imagefolder", "root/train/<class>/* and root/val/<class>/*")
    classes = class_folders(base / "train")
    first = next((p for c in classes for p in list_images(base / "train" / c)), None)
    if first is None:
        raise DDRError(f"imagefolder: no images under {base / 'train'}")
    with Image.open(first) as img:
        mode = "L" if img.mode in ("L", "1", "I", "I;16", "F") else "RGB"
        default = (img.height, img.width)
    return _train_val_folders(root, "imagefolder", im_size, default, None, None, mode)


def subset_wnids(name: str, train_dir: Path) -> list[str]:
    """The subset's class folder names, in label order, for a 1000-class ImageNet folder or a folder
    holding just the subset's wnid folders."""
    present = class_folders(train_dir)
    known = SUBSET_WNIDS.get(name)
    if len(present) == 1000:
        wnids = [present[i] for i in IMAGENET_SUBSETS[name]]
        if known is not None and tuple(wnids) != known:
            raise DDRError(f"{name}: {train_dir} has 1000 class folders but not ImageNet's wnids "
                           f"(class {IMAGENET_SUBSETS[name][0]} is '{wnids[0]}', expected '{known[0]}')")
        return wnids
    if known is not None and set(known) <= set(present):
        return list(known)
    hint = f"or a folder with its 10 wnid folders ({', '.join(known[:2])}, ...)" if known else \
        "(its class list is by ImageNet index, so the full folder is needed)"
    raise DDRError(f"{name}: {train_dir} has {len(present)} class folders; need ImageNet-1K's 1000 {hint}")


def load_imagenet_subset(name: str, root: str | None = None,
                         im_size: tuple[int, int] | int | None = None) -> RealData:
    """One of IMAGENET_SUBSETS from an ImageNet folder (root/train, root/val class folders); 128 px by
    default, ImageNet mean/std, labels 0..9 in the subset list's order."""
    if name not in IMAGENET_SUBSETS:
        raise unknown("ImageNet subset", name, IMAGENET_SUBSETS)
    base = _root(root, name, "an ImageNet folder: root/train/<wnid>/*, root/val/<wnid>/*")
    if not (base / "val").is_dir():
        raise DDRError(f"{name}: {base} has no val/ folder (class folders)")
    wnids = subset_wnids(name, base / "train")
    return build_folder_data(name, scan_split(base / "train", wnids), scan_split(base / "val", wnids), 10,
                             _size(im_size, 128), str(base.resolve()), test_crop=IMAGENET_TEST_CROP)


def _subset_loader(name: str):
    def load(root: str | None = None, im_size: tuple[int, int] | int | None = None) -> RealData:
        return load_imagenet_subset(name, root, im_size)
    load.__name__ = f"load_{name}"
    load.__doc__ = f"{name}: see load_imagenet_subset."
    return load


FOLDER_DATASETS = {
    "tinyimagenet": load_tinyimagenet,
    "imagenet1k": load_imagenet1k,
    "imagefolder": load_imagefolder,
    **{name: _subset_loader(name) for name in IMAGENET_SUBSETS},
}
for _name, _loader in FOLDER_DATASETS.items():
    DATASETS.register(_name, _loader)
