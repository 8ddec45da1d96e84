"""Training losses by name, with one call signature: `loss(student_logits, targets, hard_targets)`.

`targets` is what the student is trained towards: integer classes (hard labels), a batch of soft
label vectors (stored soft labels, mode S) or teacher logits (mode M). `hard_targets` are the
integer classes of the batch when they exist (the loader's labels), else the same as `targets`.

Fixes against DD-Ranking v0.2.0 (reference 2.2, 6.1):
- 6.1.17: SCE and MSE-GT back-propagated into the teacher graph; here every teacher-side tensor is
  detached, so no gradient (and no graph) reaches a teacher.
- 6.1.18: MSE-GT computed cross-entropy against soft vectors in mode S; here its CE term needs
  integer classes and refuses anything else with a DDRError instead of producing a number.
"""
from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor

from ddr.errors import DDRError
from ddr.kernel.registry import Registry

LossFn = Callable[[Tensor, Tensor, Tensor], Tensor]


def _is_soft(t: Tensor) -> bool:
    return t.dim() == 2 and t.is_floating_point()


def soft_cross_entropy(logits: Tensor, probs: Tensor) -> Tensor:
    """mean_i sum_c -p_ic log softmax(s_i)_c; `probs` rows are probability (e.g. mixed one-hot) vectors."""
    return -(probs.detach() * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def _ce(student: Tensor, targets: Tensor, hard_targets: Tensor) -> Tensor:
    if _is_soft(targets):  # mixed / soft probability vectors: soft CE against them
        return soft_cross_entropy(student, targets)
    hard = hard_targets if hard_targets is not None else targets
    return F.cross_entropy(student, hard.long())


# name -> make(T, factor, mse_weight, ce_weight) -> LossFn, where factor is T^2 or 1 (scale_t2)
LOSSES: Registry[Callable[[float, float, float, float], LossFn]] = Registry("loss")


def build_loss(name: str, temperature: float = 1.0, scale_t2: bool = False, mse_weight: float = 1.0,
               ce_weight: float = 0.0) -> LossFn:
    """The loss called `name`: 'ce', 'kl', 'sce' or 'mse_gt' (reference 2.2).

    kl:     (1/B) sum_i KL(softmax(t_i/T) || softmax(s_i/T)), times T^2 if `scale_t2`.
    sce:    (1/B) sum_i sum_c -softmax(t_i/T)_c log softmax(s_i/T)_c, times T^2 if `scale_t2`.
    mse_gt: mse_weight * mean((s - t)^2) + ce_weight * CE(s, hard_targets) (EDC's loss).
    For kl/sce, `targets` are logits (teacher outputs or DATM-style learned labels), as in DD-Ranking.
    DD-Ranking's defaults are T = 1.2 for kl and sce; the protocol must state T explicitly.
    """
    make = LOSSES.get(name)
    if temperature <= 0:
        raise DDRError(f"loss {name}: temperature must be positive, got {temperature}")
    T = float(temperature)
    return make(T, T * T if scale_t2 else 1.0, mse_weight, ce_weight)


def _soft_only(name: str, targets: Tensor) -> None:
    if not _is_soft(targets):
        raise DDRError(f"loss {name} needs soft targets (teacher logits or soft-label vectors, B x C float); "
                       f"got {tuple(targets.shape)} {targets.dtype} - use 'ce' for hard labels")


@LOSSES.register("ce")
def _make_ce(T: float, factor: float, mse_weight: float, ce_weight: float) -> LossFn:
    return _ce


@LOSSES.register("kl")
def _make_kl(T: float, factor: float, mse_weight: float, ce_weight: float) -> LossFn:
    def kl(student: Tensor, targets: Tensor, hard_targets: Tensor) -> Tensor:
        _soft_only("kl", targets)
        p_log = F.log_softmax(targets.detach().float() / T, dim=1)
        q_log = F.log_softmax(student.float() / T, dim=1)
        # log_target form: exact at p = 0 and no log(softmax) round trip
        return F.kl_div(q_log, p_log, reduction="batchmean", log_target=True) * factor
    return kl


@LOSSES.register("sce")
def _make_sce(T: float, factor: float, mse_weight: float, ce_weight: float) -> LossFn:
    def sce(student: Tensor, targets: Tensor, hard_targets: Tensor) -> Tensor:
        _soft_only("sce", targets)
        p = F.softmax(targets.detach().float() / T, dim=1)  # detached: fixes 6.1.17
        return -(p * F.log_softmax(student.float() / T, dim=1)).sum(dim=1).mean() * factor
    return sce


@LOSSES.register("mse_gt")
def _make_mse_gt(T: float, factor: float, mse_weight: float, ce_weight: float) -> LossFn:
    def mse_gt(student: Tensor, targets: Tensor, hard_targets: Tensor) -> Tensor:
        _soft_only("mse_gt", targets)
        loss = mse_weight * F.mse_loss(student, targets.detach().to(student.dtype))
        if ce_weight:
            if hard_targets is None or hard_targets.is_floating_point() or hard_targets.dim() != 1:
                # 6.1.18: DD-Ranking fed the stored soft labels here in mode S
                raise DDRError("loss mse_gt with ce_weight > 0 needs integer class labels as hard_targets "
                               "(got soft vectors); set ce_weight 0 for soft-label-only sets")
            loss = loss + ce_weight * F.cross_entropy(student, hard_targets)
        return loss
    return mse_gt


def mix_hard_targets(hard_targets: Tensor, num_classes: int, perm: Tensor, lam: float) -> Tensor:
    """Mixed one-hot vectors lam*onehot(y) + (1-lam)*onehot(y[perm]) for mixup/cutmix label mixing.
    With the 'ce' loss this equals lam*CE(s, y) + (1-lam)*CE(s, y[perm])."""
    onehot = F.one_hot(hard_targets.long(), num_classes).float()
    return lam * onehot + (1.0 - lam) * onehot[perm.to(onehot.device)]

