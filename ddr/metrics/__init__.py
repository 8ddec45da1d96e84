"""DD-Ranking's scores, on fractions (accuracy 0.93, not 93).

DD-Ranking v0.2.0 fed percentage points into the exponential (reference 1.5, defect 6.1.1), so its LRS
saturated at -0.1565 or exploded; here every input is a fraction and LRS/ARS lie in [0, 1] as the paper says.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

_E, _INV_E = math.e, math.exp(-1.0)


def _check_fraction(name: str, value: float) -> None:
    if not (math.isfinite(value) and -1.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a fraction in [-1, 1] (accuracy 0.93, not 93); got {value}")


def _check_weight(name: str, w: float) -> None:
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1]; got {w}")


def exp_normalise(a: float) -> float:
    """(e^a - e^-1) / (e - e^-1): maps a in [-1, 1] onto [0, 1], monotonically."""
    return (math.exp(a) - _INV_E) / (_E - _INV_E)


def hlr(real_acc: float, syn_hard_acc: float) -> float:
    """Hard label recovery: Acc(real, hard) - Acc(syn, hard). Lower is better."""
    return real_acc - syn_hard_acc


def ior(syn_acc: float, random_acc: float) -> float:
    """Improvement over random: Acc(syn, recipe) - Acc(random, recipe). Higher is better."""
    return syn_acc - random_acc


def lrs(hlr: float, ior: float, weight: float = 0.5) -> float:
    """Label-robust score: exp-normalised weight*IOR - (1-weight)*HLR. Fractions in, fraction in [0, 1] out."""
    _check_fraction("hlr", hlr)
    _check_fraction("ior", ior)
    _check_weight("weight", weight)
    return exp_normalise(weight * ior - (1.0 - weight) * hlr)


def ars(delta_aug: float, delta_noaug: float, weight: float = 0.5) -> float:
    """Augmentation-robust score: exp-normalised weight*(syn-rdm with aug) + (1-weight)*(syn-rdm without)."""
    _check_fraction("delta_aug", delta_aug)
    _check_fraction("delta_noaug", delta_noaug)
    _check_weight("weight", weight)
    return exp_normalise(weight * delta_aug + (1.0 - weight) * delta_noaug)


def summarize(per_round: Sequence[float]) -> dict:
    """Mean and population standard deviation (ddof 0, as DD-Ranking reports) plus the raw values."""
    vals = [float(v) for v in per_round]
    if not vals:
        raise ValueError("no rounds to summarise")
    mean = math.fsum(vals) / len(vals)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / len(vals))
    return {"mean": mean, "std": std, "per_round": vals}


__all__ = ["ars", "exp_normalise", "hlr", "ior", "lrs", "summarize"]
