"""Torchvision-style batch transforms and the `sequence` composite: shape, determinism, identities, last_mix."""
import pytest
import torch

from ddr.augment import CutMix, Sequence, build_augmentation
from ddr.augment.transforms import crop_resize, rrc_boxes
from ddr.errors import DDRError

X = torch.randn(5, 3, 16, 16, generator=torch.Generator().manual_seed(0))

SPECS = {
    "rrc": {"name": "rrc", "scale": [0.08, 1.0]},
    "hflip": {"name": "hflip"},
    "random_crop": {"name": "random_crop", "padding": 4},
    "shuffle_patches": {"name": "shuffle_patches", "factor": 2},
    "gaussian_noise": {"name": "gaussian_noise", "sigma": 0.1},
    "sequence": {"name": "sequence", "ops": [{"name": "rrc", "scale": [0.08, 1.0]}, {"name": "hflip"},
                                             {"name": "cutmix", "beta": 1.0}]},
}


def g(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_transform_shape_finite_deterministic(name):
    aug = build_augmentation(SPECS[name])
    a, b, c = aug(X, g(1)), aug(X, g(1)), aug(X, g(2))
    assert a.shape == X.shape and torch.isfinite(a).all()
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a, X)


def test_neutral_parameters_are_identity():
    rrc = build_augmentation({"name": "rrc", "scale": [1, 1], "ratio": [1, 1]})
    assert torch.allclose(rrc(X, g(0)), X, atol=1e-5)
    assert torch.equal(build_augmentation({"name": "hflip", "p": 0})(X, g(0)), X)
    assert torch.equal(build_augmentation({"name": "hflip", "p": 1})(X, g(0)), X.flip(3))
    assert torch.equal(build_augmentation({"name": "random_crop", "padding": 0})(X, g(0)), X)
    assert torch.equal(build_augmentation({"name": "shuffle_patches", "factor": 1})(X, g(0)), X)
    assert torch.equal(build_augmentation({"name": "gaussian_noise", "sigma": 0})(X, g(0)), X)


def test_rrc_boxes_in_range_and_crop_matches_slicing():
    boxes = rrc_boxes(32, 24, 200, g(3), (0.08, 1.0), (3 / 4, 4 / 3))
    top, left, bh, bw = boxes.T
    assert (top >= 0).all() and (left >= 0).all() and (bh >= 1).all() and (bw >= 1).all()
    assert (top + bh <= 32).all() and (left + bw <= 24).all()
    # a crop resized to its own size is plain slicing
    box = torch.tensor([[2, 3, 8, 8]] * len(X))
    assert torch.allclose(crop_resize(X, box, (8, 8)), X[:, :, 2:10, 3:11], atol=1e-5)


def test_rrc_output_size():
    out = build_augmentation({"name": "rrc", "size": 8})(X, g(0))
    assert out.shape == (5, 3, 8, 8)


def test_random_crop_is_a_shift_with_zero_fill():
    out = build_augmentation({"name": "random_crop", "padding": 2})(X, g(4))
    for i in range(len(X)):  # every output is X shifted by (dy, dx) in [-2, 2]^2 with zeros outside
        hits = 0
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                ref = torch.zeros_like(X[i])
                src = X[i][:, max(dy, 0):16 + min(dy, 0), max(dx, 0):16 + min(dx, 0)]
                ref[:, max(-dy, 0):16 + min(-dy, 0), max(-dx, 0):16 + min(-dx, 0)] = src
                hits += torch.equal(out[i], ref)
        assert hits >= 1


def test_shuffle_patches_permutes_pixels():
    out = build_augmentation({"name": "shuffle_patches", "factor": 2})(X, g(5))
    assert torch.equal(out.flatten(1).sort(1).values, X.flatten(1).sort(1).values)


def test_sequence_exposes_last_mix():
    seq = build_augmentation({"name": "sequence", "ops": [{"name": "hflip"},
                                                           {"name": "cutmix", "beta": 1.0, "mix_labels": True}]})
    assert isinstance(seq, Sequence) and seq.mix_labels
    assert seq.last_mix is None
    seq(X, g(6))
    perm, lam = seq.last_mix
    assert isinstance(seq.ops[-1], CutMix) and seq.last_mix is seq.ops[-1].last_mix
    assert sorted(perm.tolist()) == list(range(len(X))) and 0 <= lam <= 1
    plain = build_augmentation({"name": "sequence", "ops": [{"name": "rrc"}, {"name": "hflip"}]})
    plain(X, g(0))
    assert plain.last_mix is None and not plain.mix_labels


def test_sequence_matches_ops_applied_in_order():
    seq = build_augmentation(SPECS["sequence"])
    a = seq(X, g(7))
    gen = g(7)
    ops = [build_augmentation(s) for s in SPECS["sequence"]["ops"]]
    b = X
    for op in ops:
        b = op(b, gen)
    assert torch.equal(a, b)


@pytest.mark.parametrize("spec,msg", [
    ({"name": "rrc", "scal": [0.5, 1]}, "unknown key 'scal'"),
    ({"name": "blur"}, "unknown augmentation 'blur'"),
    ({"name": "sequence", "ops": [{"name": "hflip", "prob": 0.5}]}, "valid: name, p"),
    ({"name": "sequence", "ops": []}, "non-empty list"),
    ({"name": "rrc", "scale": [0.5, 2.0]}, "scale must lie in"),
    ({"name": "sequence", "ops": [{"name": "mixup", "mix_labels": True}, {"name": "cutmix", "mix_labels": True}]},
     "at most one mixing op"),
])
def test_bad_specs_refused(spec, msg):
    with pytest.raises(DDRError, match=msg):
        build_augmentation(spec)


def test_unknown_op_lists_valid_names():
    with pytest.raises(DDRError) as err:
        build_augmentation({"name": "sequence", "ops": [{"name": "colorjitter"}]})
    for name in ("rrc", "hflip", "random_crop", "shuffle_patches", "gaussian_noise", "dsa", "cutmix"):
        assert name in str(err.value)


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("size", [16, 15])
def test_shuffle_patches_matches_strip_reference(size, dim):
    """Equal strips (vectorised path) and unequal ones (per-sample path) give the same strip permutation."""
    from ddr.augment.transforms import shuffle_axis

    x = torch.randn(4, 3, size, size, generator=g(8))
    out = shuffle_axis(x, 2, g(9), dim)
    perms = torch.argsort(torch.rand(4, 2, generator=g(9)), dim=1)
    half = size // 2
    strips = [(0, half), (half, size)]
    for i in range(4):
        ref = torch.cat([x[i].narrow(dim - 1, a, b - a) for a, b in (strips[int(j)] for j in perms[i])], dim=dim - 1)
        assert torch.equal(out[i], ref)


def test_engine_trains_with_a_sequence(digits):
    """The engine's label mixing goes through the sequence's last_mix; runs repeat bit for bit."""
    from ddr.protocols import TrainRecipe
    from ddr.train.engine import train_student

    spec = {"name": "sequence", "ops": [{"name": "random_crop", "padding": 1}, {"name": "hflip"},
                                         {"name": "cutmix", "beta": 1.0, "mix_labels": True}]}
    recipe = TrainRecipe(epochs=4, batch_size=128, scheduler="cosineannealing", test_interval=2, augmentation=spec)
    x, y = digits.x_train[:400], digits.y_train[:400]

    def run():
        return train_student(model="ConvNet-2", model_args={"width": 8}, x=x, y=y, x_test=digits.x_test,
                             y_test=digits.y_test, num_classes=10, recipe=recipe, lr=0.05, seed=3,
                             augment=build_augmentation(spec))

    a, b = run(), run()
    assert a.history == b.history and a.best_acc > 0.2
