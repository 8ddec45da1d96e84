"""A DD-Ranking behaviour that is no recipe field, as a trainer the correction ledger passes to an evaluation.

`ddr.eval.api.run_evaluation(request, trainer=...)` trains every student through a trainer with
`train_student`'s keywords. The ledger's "undone" side of this correction wraps `train_student` so that it
trains as DD-Ranking 0.2.0 did; it is no protocol field or edition rule, and the ledger runs such an
evaluation without the training cache (its cache keys are ddr's: a result of this trainer must never be
stored under them).

- `teachers_not_frozen` (defect 6.1.17, reference 2.1-2.3): the teachers relabel each batch with
  requires_grad on, outside no_grad, and SCE / MSE-GT do not detach the teacher's logits, so every student
  step back-propagates into the teachers (their .grad accumulates; no optimiser steps them). As in
  DD-Ranking's `train_one_epoch`, the teachers stay in eval mode: BatchNorm teachers keep their running
  statistics. KL computed its target without gradient in DD-Ranking too (reference 2.2), so under KL only
  the teachers' graph is built.

(JPEG-re-encoded CIFAR random baselines, reference 2.5, are an edition rule: jpeg-random-baselines.)
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from ddr.losses import LossFn, build_loss
from ddr.train.engine import train_student
from ddr.train.epochs import TrainingResult

Trainer = Callable[..., TrainingResult]


class UnfrozenEnsemble(nn.Module):
    """DD-Ranking's teacher ensemble: copies of the members with requires_grad, run with gradient, the mean
    of their logits (in the members' order, as ddr's ensemble adds them), always in eval mode."""

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(copy.deepcopy(m) for m in members)
        for p in self.members.parameters():
            p.requires_grad_(True)
        self.train(False)

    def train(self, mode: bool = True) -> UnfrozenEnsemble:
        # DD-Ranking's train_one_epoch put every teacher in eval mode (reference 2.1)
        return super().train(False)

    def forward(self, x: Tensor) -> Tensor:
        out = self.members[0](x)
        for m in self.members[1:]:
            out = out + m(x)
        return out / len(self.members)


def undetached_loss(name: str, loss_args: dict[str, Any]) -> LossFn:
    """DD-Ranking's SCE and MSE-GT, whose gradient reaches the teacher's logits (reference 2.2); any other
    loss as ddr builds it (KL's target was computed without gradient in DD-Ranking too)."""
    T = float(loss_args.get("temperature", 1.0))
    factor = T * T if loss_args.get("scale_t2") else 1.0
    if name == "sce":
        def sce(student: Tensor, targets: Tensor, hard_targets: Tensor) -> Tensor:
            p = F.softmax(targets.float() / T, dim=1)
            return -(p * F.log_softmax(student.float() / T, dim=1)).sum(dim=1).mean() * factor
        return sce
    if name == "mse_gt":
        mse_w, ce_w = float(loss_args.get("mse_weight", 1.0)), float(loss_args.get("ce_weight", 0.0))

        def mse_gt(student: Tensor, targets: Tensor, hard_targets: Tensor) -> Tensor:
            loss = mse_w * F.mse_loss(student, targets.to(student.dtype))
            return loss + ce_w * F.cross_entropy(student, hard_targets) if ce_w else loss
        return mse_gt
    return build_loss(name, **loss_args)


def teachers_not_frozen(**kw: Any) -> TrainingResult:
    """`train_student` with DD-Ranking's teachers (6.1.17): unfrozen copies run with gradient, SCE / MSE-GT
    not detached. A training without a teacher is ddr's."""
    teacher = kw.get("teacher")
    if teacher is not None:
        recipe = kw["recipe"]
        kw = {**kw, "teacher": UnfrozenEnsemble(teacher.members),
              "loss_fn": undetached_loss(recipe.loss, dict(recipe.loss_args))}
    return train_student(**kw)


__all__ = ["UnfrozenEnsemble", "teachers_not_frozen", "undetached_loss"]
