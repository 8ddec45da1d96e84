"""`ddr eval ... --plan`: an evaluation's plan of trainings with their cache hits, nothing trained."""
from __future__ import annotations

from typing import Any

from ddr.eval.api import keyed_plan
from ddr.eval.request import EvalRequest


def describe(request: EvalRequest) -> dict[str, Any]:
    """The plan as one JSON-ready document: checked and set up as the evaluation would be (its inputs are
    refused the same way), then each training with its role, round, LR, seed and whether the cache holds
    it (null where its key needs teachers not trained yet)."""
    kp = keyed_plan(request)
    opened, specs, hits = kp.opened, kp.specs, kp.cached
    rounds = opened.rounds
    trainings = [{"n": n, **spec.as_dict(), "key": key, "cached": hit}
                 for n, (spec, key, hit) in enumerate(zip(specs, kp.keys, hits), 1)]
    proto = opened.protocol
    return {"kind": request.kind, "protocol": proto.ref, "edition": proto.edition, "dataset": opened.data.name,
            "ipc": request.ipc, "rounds": rounds, "engine": request.engine, "count": len(specs),
            "cached": sum(1 for h in hits if h), "unknown": sum(1 for h in hits if h is None),
            "trainings": trainings}


def text(doc: dict[str, Any]) -> str:
    """The plan for a person: one line per training, as the evaluation's progress lines name them."""
    todo = doc["count"] - doc["cached"]
    edition = "" if doc["edition"] == "ddr" else f" ({doc['edition']} edition)"
    head = (f"plan: {doc['kind']} of {doc['dataset']} ipc {doc['ipc']} under {doc['protocol']}{edition}, "
            f"{doc['rounds']} round(s): {doc['count']} trainings, {doc['cached']} cached, {todo} to train")
    lines = [head]
    for t in doc["trainings"]:
        state = {True: "cached", False: "to train", None: "to train (key known once the teachers are)"}[t["cached"]]
        if t.get("engine") == "checkpoint":
            state = "checkpoint tested"
        elif t.get("engine") == "constant":
            state = "DD-Ranking's cached accuracy, nothing trained"
        lines.append(f"  [{t['n']}/{doc['count']}] {t['role']:<13} round {t['round']} lr {t['lr']:<6g} "
                     f"seed {t['seed']:<10d} {state}")
    return "\n".join(lines)


__all__ = ["describe", "text"]
