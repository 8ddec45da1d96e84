"""Data that tries to run code, escape its folder or silently move a number."""
import json
import os
import pickle

import numpy as np
import pytest
import yaml

import ddr
from ddr.checks import confined
from ddr.data import load_dataset, random_baseline
from ddr.data.safe_pickle import load_data_pickle
from ddr.errors import DDRError
from ddr.protocols import load_protocol
from ddr.train.cache import TrainingCache
from tests.ddr.test_data import write_cifar10

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")


class _Payload:
    """Unpickling this calls os.system: what a hostile CIFAR batch would hold."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_cifar_batch_cannot_run_code(tmp_path):
    folder = write_cifar10(tmp_path)
    marker = tmp_path / "owned"
    with open(folder / "data_batch_3", "wb") as f:
        pickle.dump({"data": np.zeros((20, 3072), np.uint8), "labels": [0] * 20, "x": _Payload(marker)}, f)
    with pytest.raises(DDRError, match="refusing to load posix.system|refusing to load os.system"):
        load_dataset("cifar10", str(tmp_path))
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_plain_cifar_batches_still_load_under_every_pickle_protocol(tmp_path, protocol):
    d = {"batch_label": b"training batch 1 of 5", "data": np.arange(3072 * 2, dtype=np.uint8).reshape(2, 3072),
         "labels": [3, 7], "filenames": [b"a.png", "b.png"], "scale": np.float64(1.5)}
    with open(tmp_path / "batch", "wb") as f:
        pickle.dump(d, f, protocol=protocol)
    back = load_data_pickle(tmp_path / "batch")
    assert np.array_equal(back["data"], d["data"]) and back["labels"] == [3, 7] and back["scale"] == 1.5


def test_object_arrays_are_refused(tmp_path):
    with open(tmp_path / "batch", "wb") as f:
        pickle.dump({"data": np.array([{"a": 1}], dtype=object)}, f)
    with pytest.raises(DDRError, match="not a plain-data pickle"):
        load_data_pickle(tmp_path / "batch")


@pytest.mark.parametrize("name", ["../../../tmp/x", "/etc/cron.d/x", "..", "a/../../b", "", " "])
def test_paths_built_from_names_stay_in_their_base(tmp_path, name):
    with pytest.raises(DDRError):
        confined(tmp_path / "runs", "digits-ipc1", name)


def test_plain_names_are_kept(tmp_path):
    assert confined(tmp_path / "runs", "digits-ipc1", "dm v2") == tmp_path / "runs" / "digits-ipc1" / "dm v2"


def _protocol(tmp_path, edit):
    raw = yaml.safe_load(open(os.path.join(FIXTURES, "tiny-lrs.yaml")))
    edit(raw)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.update(lr_grid=[float("nan")]), "lr_grid values must be finite"),
    (lambda r: r.update(lr_grid=[0.01, float("inf")]), "lr_grid values must be finite"),
    (lambda r: r["real"].update(lr=float("nan")), "lr must be finite"),
    (lambda r: r["train"].update(weight_decay=float("nan")), "weight_decay must be finite"),
    (lambda r: r["train"].update(momentum=float("nan")), "momentum must be finite"),
    (lambda r: r["train"].update(momentum=-0.5), "momentum must be >= 0"),
    (lambda r: r["real"].update(lr=-0.01), "lr must be > 0"),
    (lambda r: r["train"].update(step_size=-3), "step_size must be >= 1"),
    (lambda r: r["train"].update(gamma=float("nan")), "gamma must be finite"),
    (lambda r: r.update(weight=float("nan")), "weight must be finite"),
    (lambda r: r.update(version="one"), "version must be a whole number"),
    (lambda r: r["train"].update(epochs="20"), "epochs must be a whole number"),
    (lambda r: r.update(seed_base="0"), "seed_base must be a whole number"),
    (lambda r: r.update(lr_grid="0.01"), "lr_grid must list"),
    (lambda r: r.update(lr_grid=["1e-2"]), "lr_grid values must be a number"),
    (lambda r: r.update(rounds=2.5), "rounds must be a whole number"),
    (lambda r: r["train"].update(loss="kl"), "label 'hard' trains with cross-entropy"),
    (lambda r: r["train"].update(betas=0.9), "betas must be two numbers"),
])
def test_every_numeric_protocol_field_is_checked(tmp_path, edit, message):
    with pytest.raises(DDRError) as exc:
        load_protocol(_protocol(tmp_path, edit))
    assert message in str(exc.value)


def test_nan_lr_grid_no_longer_evaluates(tmp_path, digits):
    with pytest.raises(DDRError, match="finite"):
        ddr.evaluate("lrs", distilled=random_baseline(digits, 1, 0), dataset="digits", ipc=1, track=False,
                     protocol=_protocol(tmp_path, lambda r: r.update(lr_grid=[float("nan")])), use_cache=False)


def _entry_files(root):
    return sorted(p for p in root.rglob("*.json") if not p.name.startswith("."))


@pytest.mark.parametrize("damage", ["nan", "empty-dict", "list", "string", "directory", "edited", "other-key",
                                    "unsealed"])
def test_a_damaged_cache_entry_is_retrained_not_trusted(tmp_path, digits, damage):
    cache = tmp_path / "cache"
    common = dict(distilled=random_baseline(digits, 1, 3), dataset="digits", ipc=1, track=False, rounds=1,
                  protocol=os.path.join(FIXTURES, "tiny-lrs.yaml"), cache_dir=cache)
    first = ddr.evaluate("lrs", **common)
    syn = next(t for t in first.trainings if t["role"] == "syn" and t["selected"])
    path = next(p for p in _entry_files(cache) if p.stem == syn["key"])
    entry = json.loads(path.read_text())
    if damage == "nan":
        entry["record"]["best_acc"] = float("nan")
        entry["sha256"] = __import__("ddr.train.cache_entry", fromlist=["x"]).record_digest(entry["record"])
        path.write_text(json.dumps(entry))
    elif damage == "empty-dict":
        path.write_text("{}")
    elif damage == "list":
        path.write_text("[]")
    elif damage == "string":
        path.write_text('"best_acc"')
    elif damage == "directory":
        path.unlink()
        path.mkdir()
    elif damage == "edited":
        entry["record"]["best_acc"] = 0.999  # a hand-edited accuracy, digest left as it was
        path.write_text(json.dumps(entry))
    elif damage == "other-key":
        other = next(p for p in _entry_files(cache) if p != path)
        path.write_text(other.read_text())
    elif damage == "unsealed":
        path.write_text(json.dumps(entry["record"]))
    again = ddr.evaluate("lrs", **common)
    retrained = [t for t in again.trainings if t["key"] == syn["key"]]
    assert [t["cached"] for t in retrained] == [False]
    assert again.metrics == first.metrics
    assert all(t["cached"] for t in again.trainings if t["key"] != syn["key"])


def test_cache_get_refuses_entries_of_the_wrong_shape(tmp_path):
    cache = TrainingCache(tmp_path)
    key = "ab" + "0" * 62
    record = {"best_acc": 0.5, "best_epoch": 3, "history": [[3, 0.5]], "seconds": 0.1, "finished_at": "x"}
    cache.put(key, record)
    assert cache.get(key) == record
    for bad in ({"best_acc": 1.5}, {"history": [[1, float("inf")]]}, {"best_epoch": "3"}, {"seconds": -1}):
        cache.put(key, {**record, **bad})
        assert cache.get(key) is None, bad
