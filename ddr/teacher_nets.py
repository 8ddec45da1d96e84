"""Teacher networks for soft labels: load a checkpoint into a named architecture; average an ensemble.

DD-Ranking (reference 2.3) loaded `{teacher_dir}/{dataset}/{model}/ckpt_best.pt` as a plain state dict
(weights_only=True), but never froze the teachers, ran them without no_grad, let SCE/MSE-GT
back-propagate into them (6.1.17) and, for names outside its own families, silently downloaded
ImageNet weights instead of reading the checkpoint. Here a teacher is always the given checkpoint
in a ddr architecture, loaded strictly, in eval mode, with requires_grad False, and the ensemble
runs under torch.no_grad.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ddr.errors import DDRError
from ddr.models import build_model


def _short(keys: Sequence[str], n: int = 4) -> str:
    keys = list(keys)
    more = f" (+{len(keys) - n} more)" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def _state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DDRError(f"teacher checkpoint not found: {path}") from None
    except Exception as exc:  # pickle errors, truncated files, non-tensor objects refused by weights_only
        raise DDRError(f"teacher checkpoint {path} is not a loadable state dict "
                       f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise DDRError(f"teacher checkpoint {path} is not a plain state dict (name -> tensor)")
    if sd and all(k.startswith("module.") for k in sd):  # saved from a DataParallel/DDP wrapper
        sd = {k[len("module."):]: v for k, v in sd.items()}
    return sd


def load_teacher(path: str | Path, model: str, channels: int, num_classes: int, im_size: tuple[int, int],
                 model_args: dict[str, Any] | None = None) -> nn.Module:
    """Build `model` and load the plain state dict at `path` strictly; returns it frozen, in eval mode.
    A checkpoint that does not fit raises a one-line DDRError naming missing/unexpected keys or the
    first shape mismatch."""
    path = Path(path)
    net = build_model(model, channels, num_classes, tuple(im_size), **(model_args or {}))
    sd = _state_dict(path)
    own = net.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys: {_short(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {_short(unexpected)}")
        raise DDRError(f"teacher checkpoint {path} does not fit {model}: {'; '.join(parts)}")
    for k, v in own.items():
        if sd[k].shape != v.shape:
            raise DDRError(f"teacher checkpoint {path} does not fit {model} "
                           f"({channels} ch, {num_classes} classes, {im_size[0]}x{im_size[1]}): "
                           f"shape mismatch for {k}: checkpoint {tuple(sd[k].shape)}, model {tuple(v.shape)}")
    net.load_state_dict(sd, strict=True)
    return freeze(net)


def freeze(net: nn.Module) -> nn.Module:
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


class TeacherEnsemble(nn.Module):
    """Mean of the members' logits (DD-Ranking's ensemble), frozen, always in eval mode, without grad."""

    def __init__(self, models: Sequence[nn.Module]):
        super().__init__()
        if not models:
            raise DDRError("teacher ensemble needs at least one teacher")
        self.members = nn.ModuleList(freeze(m) for m in models)

    def train(self, mode: bool = True) -> TeacherEnsemble:
        # a student loop's model.train() must not put BN teachers into batch-statistics mode
        return super().train(False)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.members[0](x)
        for m in self.members[1:]:
            out = out + m(x)
        return out / len(self.members)


def state_digest(net: nn.Module) -> str:
    """sha256 over a network's state dict (sorted keys): the teacher's identity in cache keys and results."""
    import hashlib

    h = hashlib.sha256()
    for k, v in sorted(net.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def train_teacher(spec, data, seed: int, device=None):
    """Train a teacher on the real training set with its spec's recipe; returns (frozen net, TrainingResult)."""
    from ddr.augment import build_augmentation
    from ddr.train.engine import train_student

    # the recipe's augmentation counts: a CIFAR teacher trained without crop + flip is several points
    # weaker than the checkpoints DD-Ranking's leaderboard was produced with
    res = train_student(model=spec.model, model_args=spec.model_args, x=data.x_train, y=data.y_train,
                        x_test=data.x_test, y_test=data.y_test, num_classes=data.num_classes, recipe=spec.train,
                        lr=float(spec.train.lr), seed=seed, device=device, keep_model=True,
                        augment=build_augmentation(spec.train.augmentation))
    return freeze(res.model), res
