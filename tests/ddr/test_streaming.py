"""Streamed image folders (above DDR_MAX_DATA_BYTES): the same tensors and the same training numbers as the
resident path, on JPEG folders written here; the ImageNet test transform; the versioned file list."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ddr.data import load_dataset
from ddr.data.folders import IMAGENET_MEAN, IMAGENET_STD, load_imagefolder, load_imagenet1k
from ddr.data.streaming import FolderImages, StreamedData, Uint8Images, channel_stats
from ddr.errors import DDRError
from ddr.kernel.digests import sha256_file
from ddr.protocols import TrainRecipe
from ddr.train.engine import train_student


def image_folder(root: Path, classes: int = 3, train: int = 5, val: int = 2, seed: int = 0) -> Path:
    """JPEGs of random sizes 224..320 px (noise over a class colour), ImageNet's class-folder layout."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", train), ("val", val)):
        for c in range(classes):
            d = root / split / f"n{c:08d}"
            d.mkdir(parents=True, exist_ok=True)
            for j in range(n):
                w, h = (int(v) for v in rng.integers(224, 321, 2))
                arr = np.clip(rng.normal(60 + 70 * c, 40, (h, w, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(arr).save(d / f"{j}.JPEG", quality=85)
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return image_folder(tmp_path_factory.mktemp("in"))


def both(loader, root, monkeypatch, cap=200_000, **kw):
    monkeypatch.delenv("DDR_MAX_DATA_BYTES", raising=False)
    resident = loader(str(root), **kw)
    monkeypatch.setenv("DDR_MAX_DATA_BYTES", str(cap))  # smaller than the data as float32
    streamed = loader(str(root), **kw)
    assert isinstance(streamed, StreamedData) and not isinstance(resident, StreamedData)
    assert isinstance(streamed.x_train, FolderImages) and isinstance(streamed.x_test, Uint8Images)
    return resident, streamed


@pytest.mark.parametrize("loader", [load_imagenet1k, load_imagefolder])
def test_streamed_and_resident_give_the_same_tensors_and_numbers(folder, monkeypatch, loader):
    resident, streamed = both(loader, folder, monkeypatch, im_size=32)
    assert streamed.mean == resident.mean and streamed.std == resident.std  # imagefolder: from the files
    assert streamed.x_train.shape == resident.x_train.shape and streamed.im_size == (32, 32)
    assert torch.equal(streamed.x_train[:], resident.x_train)
    assert torch.equal(streamed.x_test[:], resident.x_test)
    assert torch.equal(streamed.y_train, resident.y_train) and torch.equal(streamed.y_test, resident.y_test)
    recipe = TrainRecipe(optimizer="sgd", lr=0.05, momentum=0.9, scheduler="constant", epochs=3, batch_size=4,
                         test_interval=1)
    out = []
    for d in (resident, streamed):  # the streamed one is read by DataLoader worker processes
        out.append(train_student(model="ConvNet-2", model_args={"width": 8}, x=d.x_train, y=d.y_train,
                                 x_test=d.x_test, y_test=d.y_test, num_classes=3, recipe=recipe, lr=0.05, seed=3,
                                 keep_model=True))
    assert out[0].history == out[1].history
    for (k, a), (_, b) in zip(out[0].model.state_dict().items(), out[1].model.state_dict().items()):
        assert torch.equal(a, b), k  # bit for bit: same batches, same pixels, same order of operations


def test_streamed_digest_names_the_files(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("DDR_MAX_DATA_BYTES", "200000")
    a = load_imagenet1k(str(folder), im_size=32)
    assert len(a.digest) == 64 and a.digest == load_imagenet1k(str(folder), im_size=32).digest
    assert a.digest != load_imagenet1k(str(folder), im_size=40).digest  # the decode size is part of it
    files = a.train_files([0, 6])
    assert files[0]["path"] == "train/n00000000/0.JPEG" and files[1]["label"] == 1
    assert files[1]["sha256"] == sha256_file(folder / files[1]["path"])
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(folder, copy)
    Image.new("RGB", (230, 230), (9, 9, 9)).save(copy / "train" / "n00000001" / "0.JPEG")  # one file changed
    assert load_imagenet1k(str(copy), im_size=32).digest != a.digest


def test_imagenet_test_split_is_resize_256_centre_crop_224(tmp_path, monkeypatch):
    import torchvision.transforms as T

    image_folder(tmp_path, classes=2, train=1, val=2, seed=5)
    reference = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    for d in both(load_imagenet1k, tmp_path, monkeypatch, cap=1_000_000):
        paths = sorted((tmp_path / "val").rglob("*.JPEG"))
        want = torch.stack([reference(Image.open(p).convert("RGB")) for p in paths])
        assert d.x_test.shape == (4, 3, 224, 224)
        assert torch.allclose(d.x_test[:], want, atol=1e-5)  # the methods' test transform, pixel for pixel


def test_channel_stats_do_not_depend_on_chunking():
    x = torch.randint(0, 256, (10, 3, 5, 7), dtype=torch.uint8)
    mean, std = channel_stats([x])
    assert (mean, std) == channel_stats([x[:3], x[3:4], x[4:]])
    f = x.double() / 255
    assert np.allclose(mean, f.mean(dim=(0, 2, 3)).numpy()) and np.allclose(std, f.std(dim=(0, 2, 3), unbiased=False).numpy())


def test_test_split_above_the_cap_is_refused(folder, monkeypatch):
    monkeypatch.setenv("DDR_MAX_DATA_BYTES", "1000")
    with pytest.raises(DDRError, match="test images .* as uint8 need"):
        load_imagenet1k(str(folder), im_size=32)


def test_random_baseline_of_a_streamed_set_lists_its_original_files(folder, tmp_path, monkeypatch, ddr_cli):
    monkeypatch.setenv("DDR_MAX_DATA_BYTES", "1000000")  # 224 px: 12.6 MB as float32, the test split 0.9 MB
    load_dataset.cache_clear()
    try:
        code, out, err = ddr_cli("data", "random", "--dataset", "imagenet1k", "--root", str(folder), "--ipc", "2",
                                 "--seed", "4", "--out", str(tmp_path / "rb"))
        data = load_dataset("imagenet1k", str(folder))
    finally:
        load_dataset.cache_clear()
    assert code == 0, err
    files = json.loads((tmp_path / "rb" / "files.json").read_text())
    indices = json.loads((tmp_path / "rb" / "indices.json").read_text())
    flat = [i for per_class in indices for i in per_class]
    assert [f["path"] for f in files] == data.train_relpaths(flat)
    assert all(f["sha256"] == sha256_file(folder / f["path"]) for f in files)
    images = torch.load(tmp_path / "rb" / "images.pt")
    assert torch.equal(images, data.x_train[flat])  # the tensors, decoded from exactly those files


def test_a_real_checkpoint_that_does_not_fit_and_distilling_a_streamed_set_are_refused(folder, tmp_path, monkeypatch):
    from ddr.distill import distill
    from ddr.eval.reference import load_reference
    from ddr.models import build_model
    from ddr.protocols import load_protocol

    monkeypatch.setenv("DDR_MAX_DATA_BYTES", "200000")
    data = load_imagenet1k(str(folder), im_size=32)
    with pytest.raises(DDRError, match="distillers need the training split in memory"):
        distill("herding", data, 1)
    assert len(distill("random", data, 1).images) == 3  # a random subset reads only its own files
    torch.save(build_model("ConvNet-2", 3, 5, (32, 32), width=8).state_dict(), tmp_path / "five.pth")  # 5 classes
    proto = load_protocol("digits-lrs-hard")
    with pytest.raises(DDRError, match="--real-checkpoint: .*five.pth does not fit"):
        load_reference(tmp_path / "five.pth", proto, data)


def test_file_digests_are_remembered_by_size_and_mtime(folder, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("DDR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DDR_MAX_DATA_BYTES", "200000")
    copy = shutil.copytree(folder, tmp_path / "copy")
    first = load_imagenet1k(str(copy), im_size=32)
    assert len(first.digest) == 64  # computed on first use, not at load
    (store,) = (tmp_path / "cache" / "files").iterdir()
    remembered = json.loads(store.read_text())
    assert remembered["train/n00000000/0.JPEG"][2] == sha256_file(copy / "train/n00000000/0.JPEG")
    target = copy / "train" / "n00000002" / "1.JPEG"
    Image.new("RGB", (240, 240), (1, 2, 3)).save(target)  # changed: new size and mtime, so it is reread
    second = load_imagenet1k(str(copy), im_size=32)
    assert second.digest != first.digest
    assert json.loads(store.read_text())["train/n00000002/1.JPEG"][2] == sha256_file(target)
    # an unchanged file is not reread: a planted entry with its size and mtime is taken as it is
    planted = json.loads(store.read_text())
    planted["train/n00000000/0.JPEG"][2] = "0" * 64
    store.write_text(json.dumps(planted))
    third = load_imagenet1k(str(copy), im_size=32)
    assert third.train_sha256s()[0] == "0" * 64
