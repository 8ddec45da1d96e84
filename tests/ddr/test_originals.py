"""Random baselines of an image folder from their originals: `ddr data random` lists the original files with
their sha256s (a pure function of data set, ipc and seed), and the random side's per-image train transforms
crop from the full-resolution files, not from the stored 224 px centre crops. On an ImageNet-shaped folder
written here: three classes of 300 x 260 PNGs whose left and right 15 px are pure red, a colour the
Resize(224) + CenterCrop(224) decode never keeps (it cuts about 20 px off each side)."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ddr.data import load_dataset, random_baseline
from ddr.data.folders import IMAGENET_MEAN, IMAGENET_STD
from ddr.data.originals import OriginalImages, original_images
from ddr.data.streaming import StreamedData
from ddr.kernel.digests import sha256_file
from ddr.protocols import load_protocol

STRIP = 15  # px of red at the left and right edge of every original


def bordered_folder(root: Path, classes: int = 3, train: int = 4, val: int = 1) -> Path:
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("val", val)):
        for c in range(classes):
            d = root / split / f"n{c:08d}"
            d.mkdir(parents=True, exist_ok=True)
            for j in range(n):
                arr = np.clip(rng.normal((40, 90 + 30 * c, 200), 20, (260, 300, 3)), 0, 255).astype(np.uint8)
                arr[:, :STRIP] = arr[:, -STRIP:] = (255, 0, 0)
                Image.fromarray(arr).save(d / f"{j}.png")
    return root


def red_fraction(x: torch.Tensor) -> torch.Tensor:
    """Per image: the fraction of pixels that are (close to) pure red, from normalised ImageNet pixels."""
    rgb = x * torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) + torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    red = (rgb[:, 0] > 0.8) & (rgb[:, 1] < 0.2) & (rgb[:, 2] < 0.2)
    return red.float().mean(dim=(1, 2))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return bordered_folder(tmp_path_factory.mktemp("bordered"))


@pytest.fixture
def loaded(folder, monkeypatch):
    def load(cap: int | None = None):
        if cap is None:
            monkeypatch.delenv("DDR_MAX_DATA_BYTES", raising=False)
        else:
            monkeypatch.setenv("DDR_MAX_DATA_BYTES", str(cap))
        load_dataset.cache_clear()
        return load_dataset("imagenet1k", str(folder))
    yield load
    load_dataset.cache_clear()


def test_ddr_data_random_lists_the_originals_as_a_pure_function_of_dataset_ipc_seed(folder, loaded, tmp_path,
                                                                                     ddr_cli, monkeypatch):
    def draw(out, seed, cap=None):
        if cap is None:
            monkeypatch.delenv("DDR_MAX_DATA_BYTES", raising=False)
        else:
            monkeypatch.setenv("DDR_MAX_DATA_BYTES", str(cap))
        load_dataset.cache_clear()
        code, stdout, err = ddr_cli("data", "random", "--dataset", "imagenet1k", "--root", str(folder), "--ipc", "2",
                                    "--seed", str(seed), "--out", str(tmp_path / out))
        assert code == 0, err
        assert "6 original files listed" in stdout
        return (tmp_path / out / "files.json").read_text()

    first, again, other = draw("a", 3), draw("b", 3), draw("c", 4)
    streamed = draw("d", 3, cap=1_000_000)  # the streamed path lists the same files
    assert first == again == streamed and first != other
    assert torch.equal(torch.load(tmp_path / "a" / "images.pt"), torch.load(tmp_path / "b" / "images.pt"))
    files = json.loads(first)
    indices = json.loads((tmp_path / "a" / "indices.json").read_text())
    data = loaded()
    flat = [i for per_class in indices for i in per_class]
    assert [f["path"] for f in files] == data.train_relpaths(flat)  # relative to the data set's root
    assert [f["label"] for f in files] == [0, 0, 1, 1, 2, 2]
    assert all(f["path"].startswith(f"train/n0000000{f['label']}/") for f in files)
    assert all(f["sha256"] == sha256_file(folder / f["path"]) for f in files)


@pytest.mark.parametrize("cap", [None, 1_000_000], ids=["resident", "streamed"])
def test_the_random_sides_crops_come_from_the_full_resolution_originals(loaded, cap):
    data = loaded(cap)
    assert isinstance(data, StreamedData) == (cap is not None)
    stored = data.x_train[:]
    assert red_fraction(stored).max() == 0  # the stored centre crops never show the red edges
    ds = random_baseline(data, 2, 0)
    spec = load_protocol("sre2l-imagenet1k").train.augmentation  # RRC(0.08-1) + flip, then CutMix
    x = original_images(data, ds, spec)
    assert isinstance(x, OriginalImages) and x.batch_spec == {"name": "cutmix", "beta": 1.0}
    assert [s["name"] for s in x.per_image] == ["rrc", "hflip"]
    gen = torch.Generator().manual_seed(0)
    batches = [b for _ in range(5) for b in x.batches(torch.randperm(6, generator=gen), 3, workers=0, gen=gen)]
    assert all(b.shape == (3, 3, 224, 224) for b in batches)
    crops = torch.cat(batches)
    red = red_fraction(crops)
    assert (red > 0).sum() >= 3  # crops reach into the edges that only the originals have
    assert (red < 1).all()  # and a crop is resized from an image, not a red strip alone


def test_the_draws_are_a_function_of_the_seed_whatever_the_workers(loaded):
    data = loaded()
    x = original_images(data, random_baseline(data, 2, 1), load_protocol("rded-imagenet1k-ipc1").train.augmentation)
    assert [s["name"] for s in x.per_image] == ["shuffle_patches", "rrc", "hflip"]
    perm = torch.arange(6)
    in_process = list(x.batches(perm, 4, workers=0, gen=torch.Generator().manual_seed(7)))
    by_worker = list(x.batches(perm, 4, workers=1, gen=torch.Generator().manual_seed(7)))
    assert len(in_process) == 2 and all(torch.equal(a, b) for a, b in zip(in_process, by_worker))
    other = list(x.batches(perm, 4, workers=0, gen=torch.Generator().manual_seed(8)))
    assert not torch.equal(in_process[0], other[0])


def test_only_folder_sets_with_a_per_image_crop_train_from_originals(loaded, digits):
    data = loaded()
    ds = random_baseline(data, 1, 0)
    assert original_images(data, ds, {"name": "sequence", "ops": [{"name": "hflip"}, {"name": "cutmix"}]}) is None
    assert original_images(data, ds, None) is None
    assert original_images(data, ds, {"name": "dsa"}) is None
    rrc = load_protocol("d4m-cifar10").train.augmentation  # RRC + flip + CutMix, on tensor data
    assert original_images(digits, random_baseline(digits, 1, 0), rrc) is None
    assert random_baseline(digits, 1, 0).files is None  # digits: tensors only, as before
