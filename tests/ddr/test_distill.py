"""Reference distillers: valid folders, determinism, and that DM and DC beat random selection on digits."""
from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from ddr.data import random_baseline, read_distilled, validate, write_distilled
from ddr.distill import DISTILLERS, distill
from ddr.distill.dc import gradient_distance
from ddr.errors import DDRError
from ddr.protocols import load_protocol
from ddr.train.engine import train_student
from pipelines.distill_cmd import distill_cmd

# Small budgets: the properties under test (validity, determinism) do not need converged images.
QUICK = {"random": {}, "herding": {}, "kcenter": {}, "dm": {"iterations": 10}, "dc": {"iterations": 2}}
SEEDS = (0, 1, 2)


@pytest.mark.parametrize("method", sorted(DISTILLERS))
def test_distiller_writes_valid_deterministic_folder(method, digits, tmp_path):
    ipc = 2
    a = distill(method, digits, ipc, seed=3, device="cpu", **QUICK[method])
    b = distill(method, digits, ipc, seed=3, device="cpu", **QUICK[method])
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert a.meta == b.meta
    out = write_distilled(tmp_path / method, a)
    back = read_distilled(out)
    validate(back, digits, ipc)
    assert torch.equal(back.images, a.images)
    assert back.labels.tolist() == torch.arange(10).repeat_interleave(ipc).tolist()  # class-major, hard
    meta = json.loads((out / "meta.json").read_text())
    assert (meta["method"], meta["dataset"], meta["ipc"], meta["seed"]) == (method, "digits", ipc, 3)
    assert meta["source"] == digits.source
    for key, value in QUICK[method].items():
        assert meta["params"][key] == value
    if method in ("herding", "kcenter"):
        assert meta["feature_space"] == "convnet-random-init:ConvNet-2:w64:seed3"
    if method in ("dm", "dc"):
        assert not torch.equal(a.images, random_baseline(digits, ipc, 3).images)  # the pixels moved
        assert meta["init_indices"] == random_baseline(digits, ipc, 3).indices


def test_seed_changes_synthesis(digits):
    assert not torch.equal(distill("dm", digits, 1, seed=0, iterations=5).images,
                           distill("dm", digits, 1, seed=1, iterations=5).images)


@pytest.mark.parametrize("method", ["herding", "kcenter"])
@pytest.mark.parametrize("space", ["convnet", "pixels"])
def test_selection_picks_distinct_indices_of_the_class(method, space, digits):
    ds = distill(method, digits, 10, feature_space=space)
    assert ds.meta["feature_space"] == ("pixels" if space == "pixels" else "convnet-random-init:ConvNet-2:w64:seed0")
    for c, idx in enumerate(ds.indices):
        assert len(set(idx)) == 10
        assert all(int(digits.y_train[i]) == c for i in idx)
    flat = [i for per_class in ds.indices for i in per_class]
    assert torch.equal(ds.images, digits.x_train[flat])


def test_kcenter_never_repeats_on_duplicates():
    from ddr.distill.kcenter import kcenter_indices
    feats = torch.tensor([[0.0], [0.0], [0.0], [1.0]], dtype=torch.float64)
    assert sorted(kcenter_indices(feats, 4)) == [0, 1, 2, 3]


def test_selections_differ(digits):
    # at IPC 1 both pick the image nearest the class mean; from the second pick on they diverge
    h, k = distill("herding", digits, 5), distill("kcenter", digits, 5)
    assert h.indices != k.indices


def test_gradient_distance_is_dc_layerwise():
    g = [torch.randn(4, 3, 3, 3), torch.randn(4), torch.randn(10, 8)]
    assert float(gradient_distance(g, g)) == pytest.approx(0.0, abs=1e-5)
    opposite = gradient_distance(g, [-t for t in g])
    assert float(opposite) == pytest.approx(2.0 * (4 + 10), rel=1e-4)  # 1 - cos = 2 per output channel
    g2 = [g[0], torch.randn(4), g[2]]
    assert float(gradient_distance(g, g2)) == pytest.approx(0.0, abs=1e-5)  # 1-D tensors are skipped


def test_registry_refuses_bad_names(digits):
    with pytest.raises(DDRError, match="did you mean 'dm'"):
        distill("dmm", digits, 1)
    with pytest.raises(DDRError, match="unknown parameter 'lr'"):
        distill("dm", digits, 1, lr=0.1)
    with pytest.raises(DDRError, match="feature_space"):
        distill("herding", digits, 1, feature_space="nope")
    with pytest.raises(DDRError, match="too large"):
        distill("kcenter", digits, 1000)


def test_cli_writes_folder(digits, tmp_path):
    out = tmp_path / "kc"
    args = ["kcenter", "--dataset", "digits", "--ipc", "3", "--seed", "1", "--out", str(out),
            "--param", "feature_space=pixels"]
    res = CliRunner().invoke(distill_cmd, args)
    assert res.exit_code == 0, res.output
    ds = read_distilled(out)
    validate(ds, digits, 3)
    assert ds.meta["params"]["feature_space"] == "pixels" and ds.meta["seed"] == 1
    assert "ddr distill dm" in CliRunner().invoke(distill_cmd, ["--help"]).output
    bad = CliRunner().invoke(distill_cmd, ["dm", "--dataset", "digits", "--ipc", "1", "--out", str(tmp_path / "x"),
                                           "--param", "novalue"])
    assert isinstance(bad.exception, DDRError)


def _mean_best_acc(sets, digits) -> float:
    proto = load_protocol("digits-lrs-hard")
    accs = [train_student(model=proto.model, model_args=proto.model_args, x=ds.images,
                          y=ds.hard_labels(digits.num_classes), x_test=digits.x_test, y_test=digits.y_test,
                          num_classes=digits.num_classes, recipe=proto.train, lr=0.01, seed=s, device="cpu").best_acc
            for s, ds in zip(SEEDS, sets)]
    return sum(accs) / len(accs)


@pytest.fixture(scope="module")
def random_ipc1_acc(digits) -> float:
    return _mean_best_acc([random_baseline(digits, 1, s) for s in SEEDS], digits)


@pytest.mark.parametrize("method,params", [("dm", {"iterations": 200}),
                                           pytest.param("dc", {"iterations": 100}, marks=pytest.mark.slow),
                                           ("herding", {}), ("kcenter", {})])
def test_beats_random_selection_at_ipc1(method, params, digits, random_ipc1_acc):
    # Measured (3 seeds, lr 0.01): random 0.63; DM 0.88, DC 0.88, herding/k-center 0.85. DM and DC start
    # from the random baseline of the same seed, so the gain is the synthesis alone.
    acc = _mean_best_acc([distill(method, digits, 1, seed=s, **params) for s in SEEDS], digits)
    assert acc > random_ipc1_acc + 0.1, (method, acc, random_ipc1_acc)


@pytest.mark.parametrize("method,params", [("dm", {"iterations": 3}), ("dc", {"iterations": 1})])
def test_dsa_option_is_seeded(method, params, digits):
    a = distill(method, digits, 1, seed=5, dsa=True, **params)
    assert torch.equal(a.images, distill(method, digits, 1, seed=5, dsa=True, **params).images)
    assert a.meta["params"]["dsa"] is True and torch.isfinite(a.images).all()
    assert not torch.equal(a.images, distill(method, digits, 1, seed=5, **params).images)
