"""Plain test accuracy of the distilled set under the method's recipe (DD-Ranking's GeneralEvaluator,
non-functional in v0.2.0: defect 6.1.7): mean and std over rounds, LR searched or the set's own lr.
The trainings are stated in ddr.eval.plan; this module scores what they finished."""
from __future__ import annotations

from typing import Any

from ddr import metrics
from ddr.eval.finished import Finished
from ddr.protocols import Protocol


def round_scores(finished: Finished, protocol: Protocol, r: int, weight: float) -> dict[str, float]:
    """Round r's accuracy (logged while the evaluation runs)."""
    return {"acc": finished.acc("syn", r)}


def score(finished: Finished, protocol: Protocol, rounds: int, weight: float) -> dict[str, Any]:
    """result.json's `metrics` and `accuracies`."""
    accs = [finished.acc("syn", r) for r in range(rounds)]
    return {"metrics": {"acc": metrics.summarize(accs)}, "accuracies": {"syn": accs}}
