"""DSA ops, mixup/cutmix and ZCA: shape, finiteness, determinism under a seed, identities, label math."""
import pytest
import torch

from ddr.augment import ZCA, CutMix, Mixup, build_augmentation, dsa
from ddr.errors import DDRError
from ddr.losses import mix_hard_targets

X = torch.randn(6, 3, 16, 16, generator=torch.Generator().manual_seed(0))

RAND_OPS = {
    "scale": (dsa.rand_scale, 1.2, 1.0),
    "rotate": (dsa.rand_rotate, 15.0, 0.0),
    "flip": (dsa.rand_flip, 0.5, 0.0),
    "brightness": (dsa.rand_brightness, 1.0, 0.0),
    "saturation": (dsa.rand_saturation, 2.0, None),
    "contrast": (dsa.rand_contrast, 0.5, None),
    "crop": (dsa.rand_crop, 0.125, 0.0),
    "cutout": (dsa.rand_cutout, 0.5, 0.0),
}


def g(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", sorted(RAND_OPS))
def test_dsa_op_shape_finite_deterministic(name):
    op, ratio, _ = RAND_OPS[name]
    a, b, c = op(X, g(1), ratio), op(X, g(1), ratio), op(X, g(2), ratio)
    assert a.shape == X.shape and torch.isfinite(a).all()
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a, X)


@pytest.mark.parametrize("name", [n for n, v in RAND_OPS.items() if v[2] is not None])
def test_dsa_op_neutral_ratio_is_identity(name):
    op, _, neutral = RAND_OPS[name]
    assert torch.allclose(op(X, g(3), neutral), X, atol=1e-5)


def test_dsa_kernels_identity_at_neutral_parameters():
    n = len(X)
    one, zero, izero = torch.ones(n), torch.zeros(n), torch.zeros(n, dtype=torch.long)
    assert torch.allclose(dsa.scale(X, one, one), X, atol=1e-5)
    assert torch.allclose(dsa.rotate(X, zero), X, atol=1e-5)
    assert torch.equal(dsa.flip(X, torch.zeros(n, dtype=torch.bool)), X)
    assert torch.equal(dsa.brightness(X, zero), X)
    assert torch.allclose(dsa.saturation(X, one), X, atol=1e-6)
    assert torch.allclose(dsa.contrast(X, one), X, atol=1e-6)
    assert torch.equal(dsa.crop(X, izero, izero), X)
    assert torch.equal(dsa.cutout(X, izero + 5, izero + 5, (0, 0)), X)


def test_dsa_kernel_semantics():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    shifted = dsa.crop(x, torch.tensor([1]), torch.tensor([0]))  # out[h] = x[h + 1], zero past the edge
    assert torch.equal(shifted[0, 0, :3], x[0, 0, 1:]) and torch.equal(shifted[0, 0, 3], torch.zeros(4))
    assert torch.equal(dsa.flip(x, torch.tensor([True])), x.flip(3))
    cut = dsa.cutout(torch.ones(1, 1, 4, 4), torch.tensor([0]), torch.tensor([0]), (2, 2))
    assert cut.sum() == 15 and cut[0, 0, 0, 0] == 0  # box rows/cols -1..0, clipped at the border
    assert torch.allclose(dsa.rotate(x, torch.tensor([torch.pi])), x.flip(2).flip(3), atol=1e-4)


def test_individual_ops_registry_defaults():
    for name, op in dsa.OPS.items():
        out = op(X, g(4))
        assert out.shape == X.shape and torch.equal(out, op(X, g(4))), name


def test_dsa_group_draw_and_determinism():
    aug = build_augmentation({"name": "dsa", "params": {}})
    assert torch.equal(aug(X, g(5)), aug(X, g(5)))
    outs = {tuple(aug(X, g(s)).flatten()[:8].tolist()) for s in range(12)}
    assert len(outs) > 3
    only_flip = build_augmentation({"name": "dsa", "params": {"strategy": "flip", "flip": 1.0}})
    assert torch.equal(only_flip(X, g(0)), X.flip(3))


def test_bad_specs_name_valid_keys():
    with pytest.raises(DDRError, match="valid: scale, rotate, flip"):
        build_augmentation({"name": "dsa", "params": {"prob_flip": 0.5}})  # reference 6.1.10
    with pytest.raises(DDRError, match="valid: name, lambda, mix_labels"):
        build_augmentation({"name": "mixup", "mixup_p": 1.0})
    with pytest.raises(DDRError, match="unknown augmentation 'mixupp'; valid: dsa, mixup, cutmix"):
        build_augmentation({"name": "mixupp"})
    with pytest.raises(DDRError, match="strategy"):
        build_augmentation({"name": "dsa", "params": {"strategy": "color_warp"}})
    assert build_augmentation(None) is None


def test_mixup_math_and_determinism():
    aug = build_augmentation({"name": "mixup", "lambda": 0.8})
    assert isinstance(aug, Mixup) and aug.mix_labels is False
    out = aug(X, g(7))
    perm, lam = aug.last_mix
    assert 0 < lam < 1 and torch.allclose(out, lam * X + (1 - lam) * X[perm])
    assert torch.equal(Mixup(0.8)(X, g(7)), out)
    assert not torch.equal(Mixup(0.8)(X, g(8)), out)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    mixed = mix_hard_targets(y, 3, perm, lam)
    assert torch.allclose(mixed.sum(1), torch.ones(6))
    assert torch.allclose(mixed, aug.last_mix.mix(torch.nn.functional.one_hot(y, 3).float()))


def test_cutmix_box_area_and_determinism():
    aug = build_augmentation({"name": "cutmix", "beta": 1.0, "mix_labels": True})
    assert isinstance(aug, CutMix) and aug.mix_labels
    x = X.clone()
    out = aug(x, g(11))
    assert torch.equal(x, X)  # input untouched (DD-Ranking pasted in place)
    perm, lam = aug.last_mix.perm, aug.last_mix.lam
    pasted = (out != X).any(1)  # positions taken from the partner image
    from_partner = (out == X[perm]).all(1)
    assert torch.all(from_partner | ~pasted)
    assert 0.0 <= lam <= 1.0
    assert torch.equal(CutMix(1.0)(X, g(11)), out)
    assert not torch.equal(CutMix(1.0)(X, g(12)), out)


def test_cutmix_lam_is_area_fraction():
    x = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 1, 10, 10).contiguous()  # constant, distinct images
    aug = CutMix(1.0)
    for seed in range(5):
        out = aug(x, g(seed))
        perm, lam = aug.last_mix.perm, aug.last_mix.lam
        for i in range(4):
            if perm[i] != i:
                assert (out[i] == x[i]).float().mean().item() == pytest.approx(lam)


def test_zca_whitens_known_covariance():
    gen = g(0)
    a = torch.tensor([[2.0, 0.0, 0.0], [1.5, 0.5, 0.0], [0.3, -0.2, 0.1]], dtype=torch.float64)
    z = torch.randn(20000, 3, generator=gen, dtype=torch.float64) @ a.T + 5.0  # cov = a a^T
    x = z.float().view(-1, 3, 1, 1)
    zca = ZCA().fit(x, eps=1e-8)
    w = zca.transform(x).reshape(-1, 3).double()
    cov = torch.cov(w.T)
    assert torch.allclose(cov, torch.eye(3, dtype=torch.float64), atol=2e-2)
    assert torch.allclose(w.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-3)
    # W is symmetric (ZCA, not PCA) and the inverse round-trips
    assert torch.allclose(zca.matrix, zca.matrix.T, atol=1e-4)
    assert torch.allclose(zca.inverse_transform(zca.transform(x)), x, atol=1e-3)


def test_zca_eps_matches_formula():
    x = torch.randn(50, 2, 2, 2, generator=g(1))
    flat = x.reshape(50, -1).double()
    c = flat - flat.mean(0)
    s, u = torch.linalg.eigh(c.T @ c / 49)
    w = (u * (s + 0.1).rsqrt()) @ u.T
    expected = (c @ w).float().reshape(x.shape)
    assert torch.allclose(ZCA().fit(x, eps=0.1).transform(x), expected, atol=1e-5)


def test_zca_errors():
    with pytest.raises(DDRError, match="fit"):
        ZCA().transform(X)
    with pytest.raises(DDRError, match="features"):
        ZCA().fit(X).transform(torch.zeros(2, 3, 8, 8))
    with pytest.raises(DDRError, match="data-set transform"):
        build_augmentation({"name": "zca"})


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("spec", [{"name": "dsa", "params": {}}, {"name": "mixup"}, {"name": "cutmix"}])
def test_same_draws_on_cuda(spec):
    # parameters come from the CPU generator, so the device changes nothing but rounding
    aug = build_augmentation(spec)
    for seed in range(6):
        cpu = aug(X, g(seed))
        gpu = aug(X.cuda(), g(seed))
        assert gpu.device.type == "cuda" and torch.allclose(gpu.cpu(), cpu, atol=1e-4)
