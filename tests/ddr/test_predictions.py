"""Per-test-image predictions: kept at the reported checkpoint, bundled with a sha256, per-class accuracy."""
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

import ddr
from ddr.data.random_baseline import random_baseline
from ddr.data.real import load_dataset
from ddr.eval.predictions import decode, encode, mcnemar, read_bundle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_codec_roundtrip_and_mcnemar():
    for preds in ([0, 9, 3, 255], [0, 999, 5]):
        assert decode(encode(preds)).tolist() == preds
    a = np.array([True] * 10 + [False] * 0 + [True] * 80 + [False] * 10)
    b = np.array([False] * 10 + [True] * 80 + [False] * 10)
    m = mcnemar(a, b)
    assert (m["only_a"], m["only_b"], m["pairs"]) == (10, 0, 100)
    assert m["p_value"] == pytest.approx(2 * 0.5 ** 10, abs=1e-6)  # exact two-sided binomial
    assert mcnemar(a, a)["p_value"] == 1.0


@pytest.mark.slow
def test_predictions_match_reported_accuracies(tmp_path):
    torch.set_num_threads(1)
    data = load_dataset("digits")
    syn = random_baseline(data, 3, seed=100)
    kw = dict(distilled=syn, dataset="digits", ipc=3, protocol=str(FIXTURES / "tiny-lrs.yaml"), track=False,
              cache_dir=tmp_path / "cache")
    res = ddr.evaluate("lrs", out=tmp_path / "a", **kw)
    info = res.predictions
    path = tmp_path / "a" / info["file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"] and info["missing"] == 0
    bundle = read_bundle(path)
    y = bundle.pop("y_test")
    assert y.tolist() == data.y_test.tolist()
    assert sorted(bundle) == ["random/round0", "random/round1", "real/round0", "syn/round0", "syn/round1"]
    for t in res.trainings:  # each kept prediction reproduces the accuracy the result reports
        if t["selected"]:
            assert float((bundle[f"{t['role']}/round{t['round']}"] == y).mean()) == pytest.approx(t["best_acc"])
    pc = res.per_class_accuracy
    assert len(pc["syn"]) == 10 and all(0 <= v <= 1 for v in pc["syn"])
    # overall accuracy is the class-size-weighted mean of the per-class accuracies
    sizes = np.bincount(y, minlength=10)
    assert float(np.dot(pc["syn"], sizes) / sizes.sum()) == pytest.approx(np.mean(res.accuracies["syn"]))
    again = ddr.evaluate("lrs", out=tmp_path / "b", **kw)  # served from the cache, predictions included
    assert all(t["cached"] for t in again.trainings) and again.predictions["sha256"] == info["sha256"]
