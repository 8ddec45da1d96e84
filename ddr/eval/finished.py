"""What walking a plan leaves behind, and all the metric modules read: every training's record in plan
order and each LR search's reported record (its selection applied)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Finished:
    trainings: list[dict[str, Any]] = field(default_factory=list)
    reported: dict[str, dict[str, Any]] = field(default_factory=dict)  # group (role/round) -> reported record
    selection_log: list[dict[str, Any]] = field(default_factory=list)  # per selected training: test max vs reported
    predictions: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> {epoch: encoded predictions}

    def acc(self, role: str, round: int = 0) -> float:
        """The accuracy an LR search reports (its selected training at its selected checkpoint)."""
        return self.reported[f"{role}/{round}"]["best_acc"]

    def has(self, role: str, round: int = 0) -> bool:
        return f"{role}/{round}" in self.reported


__all__ = ["Finished"]
