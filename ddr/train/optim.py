"""Optimisers and per-epoch LR schedules, with DD-Ranking's names (reference 2.1)."""
from __future__ import annotations

import math

import torch
from torch import nn

from ddr.protocols import TrainRecipe


def build_optimizer(model: nn.Module, recipe: TrainRecipe, lr: float) -> torch.optim.Optimizer:
    params = model.parameters()
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay)
    cls = torch.optim.Adam if recipe.optimizer == "adam" else torch.optim.AdamW
    return cls(params, lr=lr, betas=tuple(recipe.betas), weight_decay=recipe.weight_decay)


def lr_factor(recipe: TrainRecipe, epoch: int) -> float:
    """The LR multiplier in force during `epoch` (0-based). One definition for every schedule, so the
    plain and the batched engines cannot drift apart. A cosine's horizon is `schedule_epochs` where set
    (torch's closed forms beyond it, as DD-Ranking 0.2.0's schedulers ran), else the epochs trained."""
    e, n = epoch, recipe.schedule_epochs or recipe.epochs
    if recipe.scheduler == "step":
        return recipe.gamma ** (e // recipe.step_size)
    if recipe.scheduler == "cosineannealing":  # true cosine to 0 over the run (CosineAnnealingLR's closed form)
        return 0.5 * (1.0 + math.cos(math.pi * e / n))
    if recipe.scheduler == "cosine":
        # DD-Ranking v0.2.0's 'cosine' (copied from RDED): a quarter period, ending at 0.5x the LR, and 0 past
        # its horizon. Kept under its name for compatibility; protocols that mean the methods' own schedule
        # use 'cosineannealing' (reference defect 6.1.15).
        return 0.5 * (1.0 + math.cos(math.pi * e / (2 * n))) if e <= n else 0.0
    return 1.0


def batch_lr_factor(recipe: TrainRecipe, epoch: int, batch: int) -> float:
    """The LR multiplier batch `batch` (0-based) of `epoch` (0-based) trains at: the epoch's, except that
    under `scheduler_per_batch` (DD-Ranking 0.1.x: scheduler.step(epoch) after every batch) the first batch
    of every epoch after the first still runs at the previous epoch's."""
    if recipe.scheduler_per_batch and batch == 0 and epoch > 0:
        return lr_factor(recipe, epoch - 1)
    return lr_factor(recipe, epoch)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
