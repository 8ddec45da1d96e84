"""Plain test accuracy of the distilled set under the method's recipe (DD-Ranking's GeneralEvaluator,
non-functional in v0.2.0: defect 6.1.7): mean and std over rounds, LR searched or the set's own lr."""
from __future__ import annotations

from typing import Any

from ddr import metrics
from ddr.data.distilled import DistilledSet
from ddr.eval.lrs import lr_candidates_for
from ddr.eval.session import EvalSession
from ddr.protocols import Protocol


def count_trainings(protocol: Protocol, grid_size: int, rounds: int) -> int:
    return rounds * grid_size


def run(session: EvalSession, ds: DistilledSet, rounds: int, weight: float) -> dict[str, Any]:
    grid = lr_candidates_for(session.protocol, ds)
    accs = []
    for r in range(rounds):
        accs.append(session.search_labelled(role="syn", round=r, lrs=grid, ds=ds, recipe=session.protocol.train,
                                            is_random=False)["best_acc"])
        if session.tracker is not None:  # the round's accuracy while the evaluation runs
            session.tracker.log_round(r, {"acc": accs[-1]})
    return {"metrics": {"acc": metrics.summarize(accs)}, "accuracies": {"syn": accs}, "random_inputs": []}
