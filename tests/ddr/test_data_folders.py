"""Folder loaders on tiny PNG/JPEG folders written here: layouts, labels, sizes, normalisation, errors."""
from pathlib import Path

import pytest
import torch
from PIL import Image

from ddr.data import load_dataset
from ddr.data.folders import (IMAGENET_MEAN, IMAGENET_STD, IMAGENET_SUBSETS, SUBSET_WNIDS, load_imagefolder,
                              load_imagenet1k, load_imagenet_subset, load_tinyimagenet)
from ddr.errors import DDRError

COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]


def write(path: Path, color, size=(8, 8), mode="RGB", fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path, format=fmt)


def expected_pixel(color):
    return torch.tensor([(c / 255 - m) / s for c, m, s in zip(color, IMAGENET_MEAN, IMAGENET_STD)])


def test_tinyimagenet_original_layout(tmp_path):
    wnids = ["n01443537", "n01629819", "n01641577"]
    for k, w in enumerate(wnids):
        for j in range(2):
            write(tmp_path / "train" / w / "images" / f"{w}_{j}.JPEG", COLORS[k], fmt="JPEG")
    lines = []
    for j, k in enumerate([2, 0, 1, 2]):
        write(tmp_path / "val" / "images" / f"val_{j}.JPEG", COLORS[k], fmt="JPEG")
        lines.append(f"val_{j}.JPEG\t{wnids[k]}\t0\t0\t8\t8")
    (tmp_path / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    d = load_tinyimagenet(str(tmp_path), im_size=8)
    assert d.x_train.shape == (6, 3, 8, 8) and d.x_test.shape == (4, 3, 8, 8)
    assert d.y_train.tolist() == [0, 0, 1, 1, 2, 2] and d.y_test.tolist() == [2, 0, 1, 2]
    assert d.num_classes == 3 and d.mean == IMAGENET_MEAN
    assert torch.allclose(d.x_test[0, :, 4, 4], expected_pixel(COLORS[2]), atol=0.05)  # JPEG is lossy
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64


def test_tinyimagenet_class_folder_layout_and_default_size(tmp_path):
    for k, w in enumerate(["a", "b"]):
        write(tmp_path / "train" / w / "0.png", COLORS[k], size=(64, 64))
        write(tmp_path / "val" / w / "0.png", COLORS[k], size=(64, 64))
    d = load_tinyimagenet(str(tmp_path))
    assert d.im_size == (64, 64) and d.y_test.tolist() == [0, 1]
    assert torch.allclose(d.x_train[1, :, 0, 0], expected_pixel(COLORS[1]), atol=1e-5)  # PNG is exact


def test_imagenet1k_resize_keeps_aspect_and_centre_crops(tmp_path):
    # 24 x 12 image: left third red, middle green, right third blue; to 8x8: resize to 16x8, crop 8 wide
    img = Image.new("RGB", (24, 12))
    for x in range(24):
        for y in range(12):
            img.putpixel((x, y), COLORS[x // 8])
    for split in ("train", "val"):
        (tmp_path / split / "n0").mkdir(parents=True)
        img.save(tmp_path / split / "n0" / "a.png")
        write(tmp_path / split / "n1" / "b.png", COLORS[3], size=(5, 5))
    d = load_imagenet1k(str(tmp_path), im_size=(8, 8))
    assert d.x_train.shape == (2, 3, 8, 8) and d.num_classes == 2
    assert torch.allclose(d.x_train[0, :, 4, 4], expected_pixel(COLORS[1]), atol=1e-5)  # centre is green
    assert torch.allclose(d.x_train[1, :, 0, 0], expected_pixel(COLORS[3]), atol=1e-5)  # upscaled solid


def test_imagefolder_greyscale_default_size_and_own_stats(tmp_path):
    for k, v in enumerate([0, 255]):
        for j in range(3):
            write(tmp_path / "train" / f"c{k}" / f"{j}.png", v, size=(6, 6), mode="L")
        write(tmp_path / "val" / f"c{k}" / "x.png", v, size=(6, 6), mode="L")
    d = load_imagefolder(str(tmp_path))
    assert d.x_train.shape == (6, 1, 6, 6) and d.channels == 1
    assert d.mean == pytest.approx((0.5,)) and d.std == pytest.approx((0.5,))
    assert torch.allclose(d.x_test[:, 0, 0, 0], torch.tensor([-1.0, 1.0]))
    same = load_dataset("imagefolder", str(tmp_path), (4, 4))
    assert same.im_size == (4, 4)


def test_imagenette_from_ten_wnid_folders_uses_list_order(tmp_path):
    wnids = SUBSET_WNIDS["imagenette"]
    for k, w in enumerate(reversed(wnids)):  # creation order must not matter
        write(tmp_path / "train" / w / "0.png", (k, k, k))
        write(tmp_path / "val" / w / "0.png", (k, k, k))
    write(tmp_path / "train" / "n09999999" / "0.png", (0, 0, 0))  # an extra class is ignored
    d = load_imagenet_subset("imagenette", str(tmp_path), im_size=8)
    assert d.num_classes == 10 and d.y_train.tolist() == list(range(10))
    # label 0 is tench (n01440764), written last with value 9
    assert torch.allclose(d.x_train[0, :, 0, 0], expected_pixel((9, 9, 9)), atol=1e-5)


def test_subset_from_full_imagenet_folder_by_index(tmp_path):
    names = [f"n{i:08d}" for i in range(1000)]
    for n in names:
        (tmp_path / "train" / n).mkdir(parents=True)
    idx = IMAGENET_SUBSETS["imagesquawk"]
    for label, i in enumerate(idx):
        write(tmp_path / "train" / names[i] / "a.png", (label, 0, 0))
        write(tmp_path / "val" / names[i] / "a.png", (label, 0, 0))
    d = load_dataset("imagesquawk", str(tmp_path), (8, 8))
    assert d.y_train.tolist() == list(range(10))
    assert torch.allclose(d.x_train[:, 0, 0, 0], expected_pixel((0, 0, 0))[0] + torch.arange(10) / 255 / 0.229,
                          atol=1e-5)
    with pytest.raises(DDRError, match="not ImageNet's wnids"):
        load_imagenet_subset("imagewoof", str(tmp_path))


def test_folder_errors(tmp_path):
    with pytest.raises(DDRError, match="needs --root"):
        load_tinyimagenet(None)
    with pytest.raises(DDRError, match="no train/"):
        load_imagenet1k(str(tmp_path))
    write(tmp_path / "train" / "a" / "0.png", (1, 2, 3))
    with pytest.raises(DDRError, match="no val/"):
        load_imagenet1k(str(tmp_path))
    write(tmp_path / "val" / "z" / "0.png", (1, 2, 3))
    with pytest.raises(DDRError, match="'z' that train/ lacks"):
        load_imagefolder(str(tmp_path))
    with pytest.raises(DDRError, match="need ImageNet-1K's 1000"):
        load_imagenet_subset("imagefruit", str(tmp_path))
    with pytest.raises(DDRError, match="fixed image size"):
        load_dataset("digits", None, (8, 8))
    with pytest.raises(DDRError, match="unknown ImageNet subset"):
        load_imagenet_subset("imagebark", str(tmp_path))


def test_memory_guard_refuses_before_decoding(tmp_path, monkeypatch):
    for split in ("train", "val"):
        write(tmp_path / split / "a" / "0.png", (1, 2, 3))
    monkeypatch.setenv("DDR_MAX_DATA_BYTES", "1000")  # above it the training split streams; the test split must fit
    with pytest.raises(DDRError, match="test images at 64x64 as uint8 need"):
        load_imagenet1k(str(tmp_path), im_size=(64, 64))


def test_unreadable_image(tmp_path):
    for split in ("train", "val"):
        (tmp_path / split / "a").mkdir(parents=True)
        (tmp_path / split / "a" / "0.png").write_bytes(b"not an image")
    with pytest.raises(DDRError, match="cannot read image"):
        load_imagenet1k(str(tmp_path), im_size=4)
