import pytest
import torch

from ddr.data import random_baseline
from ddr.errors import DDRError
from ddr.models import build_model, list_models
from ddr.protocols import TrainRecipe, list_protocols, load_protocol
from ddr.seeds import derive_seed
from ddr.train import train_student
from ddr.train.optim import lr_factor


@pytest.mark.parametrize("name", ["ConvNet-1", "ConvNet-2", "ConvNet-3", "ConvNet-3-BN", "ConvNet-2-LN", "ConvNet-2-NN", "MLP", "LeNet"])
def test_models_fit_8x8_and_32x32(name):
    for shape in ((1, 8, 8), (3, 32, 32)):
        net = build_model(name, shape[0], 10, shape[1:])
        out = net(torch.randn(4, *shape))
        assert out.shape == (4, 10)
        out.sum().backward()


def test_convnet_variants_and_errors():
    net = build_model("ConvNet-2", 1, 10, (8, 8), width=16, act="leakyrelu", pool="maxpooling")
    assert net.classifier.in_features == 16 * 2 * 2
    with pytest.raises(DDRError, match="at most 3 pooled layers"):
        build_model("ConvNet-4", 1, 10, (8, 8))
    with pytest.raises(DDRError, match="did you mean 'ConvNet-3'"):
        build_model("Convnet-3", 1, 10, (8, 8))
    with pytest.raises(DDRError, match="unknown act 'gelu'"):
        build_model("ConvNet-2", 1, 10, (8, 8), act="gelu")
    assert "ConvNet-3-BN" in list_models()


def test_seeds_are_derived_and_order_free():
    a = derive_seed(protocol="p@1", dataset="digits", ipc=10, role="syn", round=0, lr=0.01)
    assert a == derive_seed(lr=0.01, round=0, role="syn", ipc=10, dataset="digits", protocol="p@1")
    assert a != derive_seed(protocol="p@1", dataset="digits", ipc=10, role="random", round=0, lr=0.01)
    assert 0 <= a < 2**31


def test_schedules():
    step = TrainRecipe(epochs=10, batch_size=8, scheduler="step", step_size=5)
    assert [lr_factor(step, e) for e in (0, 4, 5, 9)] == [1, 1, pytest.approx(0.1), pytest.approx(0.1)]
    full = TrainRecipe(epochs=10, batch_size=8, scheduler="cosineannealing")
    assert lr_factor(full, 0) == 1 and lr_factor(full, 5) == pytest.approx(0.5)
    quarter = TrainRecipe(epochs=10, batch_size=8, scheduler="cosine")  # DD-Ranking's: ends near 0.5
    assert lr_factor(quarter, 10) == pytest.approx(0.5)
    with pytest.raises(DDRError, match="needs step_size"):
        TrainRecipe(epochs=10, batch_size=8, scheduler="step")


def test_training_is_bit_for_bit_deterministic_and_tests_every_interval(digits):
    rb = random_baseline(digits, 5, 0)
    recipe = TrainRecipe(epochs=12, batch_size=16, scheduler="step", step_size=6, test_interval=5)
    kw = dict(model="ConvNet-2", model_args={"width": 8}, x=rb.images, y=rb.labels, x_test=digits.x_test,
              y_test=digits.y_test, num_classes=10, recipe=recipe, lr=0.05)
    a, b = train_student(seed=3, **kw), train_student(seed=3, **kw)
    assert a.history == b.history and a.best_acc == b.best_acc
    assert [e for e, _ in a.history] == [5, 10, 12]  # every 5 epochs and the last one
    assert a.best_acc == max(acc for _, acc in a.history)
    c = train_student(seed=4, **kw)
    assert c.history != a.history


def test_training_learns(digits):
    rb = random_baseline(digits, 10, 0)
    recipe = TrainRecipe(epochs=30, batch_size=256, scheduler="step", step_size=15, test_interval=10)
    res = train_student(model="ConvNet-2", model_args={"width": 16}, x=rb.images, y=rb.labels, x_test=digits.x_test,
                        y_test=digits.y_test, num_classes=10, recipe=recipe, lr=0.05, seed=0)
    assert res.best_acc > 0.7  # 100 real digits -> well above chance (0.1)


def test_shipped_protocols_load():
    for name in list_protocols():
        p = load_protocol(name)
        assert p.version >= 1 and p.lr_grid and p.real.lr


@pytest.mark.parametrize("yaml_text, message", [
    ("name: x\nversion: 1\n", "missing required field 'dataset'"),
    ("name: x\nversion: 1\ndataset: digits\nmodel: MLP\ntrain: {epochs: 1, batch_size: 1}\nreal: {epochs: 1, batch_size: 1, lr: 0.1}\nlr_grid: [0.1]\nepochs: 3\n", "unknown field 'epochs'"),
    ("name: x\nversion: 1\ndataset: digits\nmodel: MLP\ntrain: {epochs: 1, batch_size: 1, scheduler: constant, optimiser: sgd}\nreal: {epochs: 1, batch_size: 1, lr: 0.1, scheduler: constant}\nlr_grid: [0.1]\n", "unknown field 'optimiser'"),
    ("name: x\nversion: 1\ndataset: digits\nmodel: MLP\ntrain: {epochs: 1, batch_size: 1, scheduler: constant}\nreal: {epochs: 1, batch_size: 1, scheduler: constant}\nlr_grid: [0.1]\n", "real needs a fixed lr"),
    ("name: x\nversion: 1\ndataset: digits\nmodel: MLP\ntrain: {epochs: 1, batch_size: 1}\nreal: {epochs: 1, batch_size: 1, lr: 0.1}\nlr_grid: [0.1]\n", "train: scheduler 'step' needs step_size"),
    ("[unclosed", "invalid YAML"),
])
def test_bad_protocols(tmp_path, yaml_text, message):
    p = tmp_path / "p.yaml"
    p.write_text(yaml_text)
    with pytest.raises(DDRError, match=message):
        load_protocol(str(p))


def test_unknown_protocol_suggests():
    with pytest.raises(DDRError, match="did you mean 'digits-lrs-hard'"):
        load_protocol("digits-lrs-hrd")
