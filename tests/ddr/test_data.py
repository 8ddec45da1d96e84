import json
import pickle

import numpy as np
import pytest
import torch

from ddr.data import DistilledSet, load_dataset, random_baseline, random_indices, read_distilled, validate, write_distilled
from ddr.data.digest import dvc_md5
from ddr.data.real import load_digits
from ddr.errors import DDRError


def test_digits_split_is_fixed_stratified_and_normalised(digits):
    again = load_digits()
    assert torch.equal(digits.x_train, again.x_train) and torch.equal(digits.y_test, again.y_test)
    assert digits.x_train.shape[1:] == (1, 8, 8) and len(digits.x_train) + len(digits.x_test) == 1797
    train_frac = np.bincount(digits.y_train.numpy()) / len(digits.y_train)
    test_frac = np.bincount(digits.y_test.numpy()) / len(digits.y_test)
    assert np.abs(train_frac - test_frac).max() < 0.01  # stratified
    assert abs(float(digits.x_train.mean())) < 1e-5 and abs(float(digits.x_train.std()) - 1) < 1e-3
    assert digits.digest == again.digest


def write_cifar10(root, n_per_batch=20):
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        d = {"data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
             "labels": [int(v) for v in rng.integers(0, 10, n_per_batch)]}
        with open(folder / name, "wb") as f:
            pickle.dump(d, f)
    return folder


def test_cifar10_pickle_loader(tmp_path):
    folder = write_cifar10(tmp_path)
    data = load_dataset("cifar10", str(tmp_path))
    assert data.x_train.shape == (100, 3, 32, 32) and data.x_test.shape == (20, 3, 32, 32)
    with open(folder / "data_batch_1", "rb") as f:
        raw = pickle.load(f)
    first = raw["data"][0].reshape(3, 32, 32).astype(np.float32) / 255
    expect = (first - np.array([0.4914, 0.4822, 0.4465])[:, None, None]) / np.array([0.2023, 0.1994, 0.2010])[:, None, None]
    assert np.allclose(data.x_train[0].numpy(), expect, atol=1e-5)
    assert data.y_train[0] == raw["labels"][0]


def test_cifar100_pickle_loader(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name, n in (("train", 50), ("test", 10)):
        with open(folder / name, "wb") as f:
            pickle.dump({"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         "fine_labels": [int(v) for v in rng.integers(0, 100, n)]}, f)
    data = load_dataset("cifar100", str(folder))
    assert data.num_classes == 100 and data.x_train.shape == (50, 3, 32, 32)


def test_cifar_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(DDRError, match="not a CIFAR python-pickle folder"):
        load_dataset("cifar10", str(tmp_path))
    with pytest.raises(DDRError, match="needs --root"):
        load_dataset("cifar10", None)


def test_npz_loader_nhwc_uint8(tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "small.npz"
    np.savez(path, x_train=rng.integers(0, 256, (30, 6, 6, 3), dtype=np.uint8), y_train=np.arange(30) % 3,
             x_test=rng.integers(0, 256, (9, 6, 6, 3), dtype=np.uint8), y_test=np.arange(9) % 3)
    data = load_dataset("npz", str(path))
    assert data.x_train.shape == (30, 3, 6, 6) and data.num_classes == 3
    assert np.allclose(data.x_train.mean(dim=(0, 2, 3)).numpy(), 0, atol=1e-5)
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((3, 4, 4)), y_train=np.zeros(3))
    with pytest.raises(DDRError, match="lacks x_test, y_test"):
        load_dataset("npz", str(tmp_path / "bad.npz"))


def test_unknown_dataset_suggests():
    with pytest.raises(DDRError, match="did you mean 'cifar10'"):
        load_dataset("cifar-10")


def test_random_baseline_is_a_pure_function_of_dataset_ipc_seed(digits):
    a, b, c = random_indices(digits, 10, 0), random_indices(digits, 10, 0), random_indices(digits, 10, 1)
    assert a == b and a != c
    rb = random_baseline(digits, 10, 0)
    assert rb.images.shape == (100, 1, 8, 8)
    assert rb.labels.tolist() == [c for c in range(10) for _ in range(10)]  # class-major
    flat = [i for per in a for i in per]
    assert torch.equal(rb.images, digits.x_train[flat])
    validate(rb, digits, 10)


def test_write_read_roundtrip_and_digest(tmp_path, digits):
    rb = random_baseline(digits, 2, 5)
    out = write_distilled(tmp_path / "rb", rb)
    back = read_distilled(out)
    assert torch.equal(back.images, rb.images) and torch.equal(back.labels, rb.labels)
    assert back.meta["seed"] == 5 and back.indices == rb.indices
    assert json.loads((out / "indices.json").read_text()) == rb.indices
    assert back.digest() == dvc_md5(out) and back.digest().endswith(".dir")
    with pytest.raises(DDRError, match="exists"):
        write_distilled(tmp_path / "rb", rb)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_ddranking_format_folder_reads_as_is(tmp_path, digits):
    folder = tmp_path / "ddranking"
    folder.mkdir()
    x = digits.x_train[:20].clone()
    torch.save(x, folder / "images.pt")
    torch.save(torch.randn(20, 10), folder / "labels.pt")  # soft labels (N x K)
    torch.save(torch.tensor(0.01), folder / "lr.pt")
    ds = read_distilled(folder)
    assert ds.lr == pytest.approx(0.01) and ds.label_kind == "soft" and ds.meta == {}
    validate(ds, digits, 2)
    assert ds.hard_labels(10).tolist() == [c for c in range(10) for _ in range(2)]


def test_image_folder_reads_in_normalised_space(tmp_path, digits):
    from PIL import Image

    for c in range(10):
        (tmp_path / "imgs" / f"{c:02d}").mkdir(parents=True)
        arr = np.full((8, 8), 16 * c, dtype=np.uint8)
        Image.fromarray(arr, mode="L").save(tmp_path / "imgs" / f"{c:02d}" / "0.png")
    ds = read_distilled(tmp_path / "imgs", digits)
    assert ds.images.shape == (10, 1, 8, 8) and ds.labels.tolist() == list(range(10))
    expect = (16 * 3 / 255 - digits.mean[0]) / digits.std[0]
    assert float(ds.images[3, 0, 0, 0]) == pytest.approx(expect, abs=1e-5)


@pytest.mark.parametrize("mutate, message", [
    (lambda x, lab: (x[:, :, :4], lab), "images are 4x8"),
    (lambda x, lab: (x.repeat(1, 3, 1, 1), lab), "3 channels"),
    (lambda x, lab: (x[0], lab), "expected N x C x H x W"),
    (lambda x, lab: (x[:90], None), "90 images for 10 classes is 9 per class, but ipc is 10"),
    (lambda x, lab: (x.index_fill(0, torch.tensor([3]), float("nan")), lab), "NaN or Inf"),
    (lambda x, lab: (x, lab[:50]), "labels hold 50 entries for 100 images"),
    (lambda x, lab: (x, torch.randn(100, 7)), "soft labels have 7 classes"),
    (lambda x, lab: (x, torch.zeros(100, dtype=torch.long)), "images per class"),
])
def test_validation_refuses_bad_sets(digits, mutate, message):
    rb = random_baseline(digits, 10, 0)
    x, lab = mutate(rb.images, rb.labels)
    with pytest.raises(DDRError, match=message.replace("(", r"\(")):
        validate(DistilledSet(x, lab), digits, 10)
