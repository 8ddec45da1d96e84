"""Each loss against a hand computation on small tensors."""
import math

import pytest
import torch

from ddr.errors import DDRError
from ddr.losses import build_loss, mix_hard_targets

S = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
T = torch.tensor([[0.5, 0.0, 2.0], [1.0, 1.0, 1.0]])
Y = torch.tensor([1, 2])


def _softmax(row, temp=1.0):
    e = [math.exp(v / temp) for v in row]
    return [v / sum(e) for v in e]


def test_ce_hard_matches_hand():
    expected = sum(-math.log(_softmax(S[i].tolist())[Y[i]]) for i in range(2)) / 2
    assert build_loss("ce")(S, Y, Y).item() == pytest.approx(expected, rel=1e-6)


def test_ce_soft_vectors_use_soft_ce():
    p = torch.tensor([[0.2, 0.8, 0.0], [0.0, 0.5, 0.5]])
    expected = 0.0
    for i in range(2):
        q = _softmax(S[i].tolist())
        expected -= sum(p[i, c].item() * math.log(q[c]) for c in range(3))
    assert build_loss("ce")(S, p, Y).item() == pytest.approx(expected / 2, rel=1e-6)


@pytest.mark.parametrize("scale", [False, True])
def test_kl_matches_hand(scale):
    temp = 1.2
    expected = 0.0
    for i in range(2):
        p, q = _softmax(T[i].tolist(), temp), _softmax(S[i].tolist(), temp)
        expected += sum(pc * (math.log(pc) - math.log(qc)) for pc, qc in zip(p, q))
    expected /= 2
    if scale:
        expected *= temp * temp
    assert build_loss("kl", temperature=temp, scale_t2=scale)(S, T, Y).item() == pytest.approx(expected, rel=1e-5)


def test_kl_zero_when_equal():
    assert build_loss("kl", temperature=2.0)(S, S.clone(), Y).item() == pytest.approx(0.0, abs=1e-7)


def test_sce_matches_hand_and_teacher_detached():
    temp = 1.2
    expected = 0.0
    for i in range(2):
        p, q = _softmax(T[i].tolist(), temp), _softmax(S[i].tolist(), temp)
        expected -= sum(pc * math.log(qc) for pc, qc in zip(p, q))
    expected /= 2
    s, t = S.clone().requires_grad_(), T.clone().requires_grad_()
    loss = build_loss("sce", temperature=temp, scale_t2=True)(s, t, Y)
    assert loss.item() == pytest.approx(expected * temp * temp, rel=1e-5)
    loss.backward()
    assert t.grad is None and s.grad is not None  # reference 6.1.17: no gradient into the teacher


def test_mse_gt_matches_hand():
    mse = ((S - T) ** 2).mean().item()
    ce = build_loss("ce")(S, Y, Y).item()
    loss = build_loss("mse_gt", mse_weight=0.7, ce_weight=0.3)(S, T, Y)
    assert loss.item() == pytest.approx(0.7 * mse + 0.3 * ce, rel=1e-6)
    assert build_loss("mse_gt")(S, T, Y).item() == pytest.approx(mse, rel=1e-6)


def test_mse_gt_refuses_soft_hard_targets():
    with pytest.raises(DDRError, match="integer class labels"):
        build_loss("mse_gt", ce_weight=1.0)(S, T, T)


def test_unknown_loss_and_bad_temperature():
    with pytest.raises(DDRError, match="unknown loss 'kld'"):
        build_loss("kld")
    with pytest.raises(DDRError, match="temperature"):
        build_loss("kl", temperature=0)


def test_mixed_hard_targets_equal_weighted_ce():
    perm, lam = torch.tensor([1, 0]), 0.3
    mixed = mix_hard_targets(Y, 3, perm, lam)
    ce = build_loss("ce")
    expected = lam * ce(S, Y, Y) + (1 - lam) * ce(S, Y[perm], Y[perm])
    assert ce(S, mixed, Y).item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("name", ["kl", "sce", "mse_gt"])
def test_soft_losses_refuse_hard_targets(name):
    with pytest.raises(DDRError, match="needs soft targets"):
        build_loss(name)(S, Y, Y)
