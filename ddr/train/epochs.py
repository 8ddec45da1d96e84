"""The epoch-loop rule every engine keeps (plain, compiled, batched, DDP): which epochs are test points,
which test point is the best, and what a training returns.

- Test points: TrainRecipe.tests_at (every test_interval epochs and the last one, after test_after);
  `epochs_tested` lists them.
- The best point: the highest accuracy; strictly greater wins, so ties keep the earlier epoch. The same
  rule picks the best validation point (ddr.eval.selection).
- A training's result: its (epoch, accuracy) history in epoch order, the best point, the wall time.
Torch-free, so that code which only reads results can use the rule.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from ddr.protocols import TrainRecipe


def epochs_tested(recipe: TrainRecipe) -> list[int]:
    """Every test point (1-based epoch) of a training under `recipe`, in order."""
    return [e for e in range(1, recipe.epochs + 1) if recipe.tests_at(e)]


def best_point(history: Iterable[Sequence[Any]]) -> tuple[int, float]:
    """(epoch, accuracy) of the best point of an (epoch, accuracy) history in epoch order: strictly greater
    wins, so ties keep the earlier epoch. (0, -1.0) for an empty history."""
    best_epoch, best_acc = 0, -1.0
    for epoch, acc in history:
        if acc > best_acc:
            best_epoch, best_acc = int(epoch), float(acc)
    return best_epoch, best_acc


@dataclass
class TrainingResult:
    best_acc: float  # fraction of the test set, max over test points
    best_epoch: int  # 1-based epoch of the best test point
    history: list[tuple[int, float]] = field(default_factory=list)  # (epoch, test accuracy)
    val_history: list[tuple[int, float]] | None = None  # (epoch, validation accuracy), when a split was given
    # predicted class per test image (test order) at the epochs a selection rule can report: the best test
    # point, the last one and, with a validation split, the best validation point
    predictions: dict[int, list[int]] = field(default_factory=dict)
    seconds: float = 0.0
    model: nn.Module | None = None  # the trained network, when asked for (teachers)

    @classmethod
    def from_history(cls, history: Iterable[tuple[int, float]], **fields: Any) -> TrainingResult:
        """A result whose best point is `history`'s under the rule above."""
        history = [(int(e), float(a)) for e, a in history]
        best_epoch, best_acc = best_point(history)
        return cls(best_acc=best_acc, best_epoch=best_epoch, history=history, **fields)


def accuracy_history(epochs: Sequence[int], counts: Sequence[int], total: int) -> list[tuple[int, float]]:
    """(epoch, accuracy) pairs from correct-counts out of `total` images at the test points `epochs`."""
    return [(int(e), int(c) / total) for e, c in zip(epochs, counts)]
