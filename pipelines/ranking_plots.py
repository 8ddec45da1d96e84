"""The ranking as DVC plots data: one small file per ranking table, so `dvc plots show` draws each table
on its own and `dvc plots diff v0.1.0 v0.2.0` overlays two releases' versions of it.

ranking/plots/scores/<table>.json: one row per method (method, mean, std, rank), drawn as bars.
ranking/plots/rounds/<table>.json: one row per method and round (method, round, score), drawn as curves.
<table> is the table's key, <dataset>-ipc<ipc>-<label>-<score>[-<selection>][-<student>][-<edition>], named
through the one confining function. dvc.yaml declares
both folders and how to draw them (its top-level plots; the curves' template is dvc_plots/rounds.json).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ddr.checks import check_name, confined
from ddr.kernel.atomic import atomic_folder

PLOTS_DIR = "plots"
KINDS = ("scores", "rounds")  # the order plot_rows returns them in


def table_name(table: dict[str, Any]) -> str:
    """The table's key (data set, ipc, label, score, and its selection, student or edition where it has one)
    as a file name: tables that differ only in those never share a file."""
    from registry.ranking import table_key

    return table_key(table).replace("/", "-")


def plot_rows(table: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A ranking table as (score rows, per-round rows)."""
    scores = [{"method": r["method"], "mean": r["mean"], "std": r["std"], "rank": r["rank"]} for r in table["rows"]]
    rounds = [{"method": r["method"], "round": i, "score": v}
              for r in table["rows"] for i, v in enumerate(r["per_round"], start=1)]
    return scores, rounds


def write_plots(ranking: dict[str, Any], folder: str | Path) -> Path:
    """folder/plots/{scores,rounds}/<table>.json for every table of `ranking`, replacing the folder whole
    (a table that is gone leaves no file behind). Returns folder/plots."""
    target = Path(folder) / PLOTS_DIR
    names: list[str] = []
    for table in ranking["tables"]:  # every name checked before anything is written
        names.append(check_name(table_name(table) + ".json", "ranking table", taken=names))
    with atomic_folder(target) as tmp:
        for kind in KINDS:
            confined(tmp, kind).mkdir()
        for name, table in zip(names, ranking["tables"]):
            for kind, rows in zip(KINDS, plot_rows(table)):
                confined(tmp, kind, name, what="ranking table").write_text(json.dumps(rows, indent=1) + "\n")
    return target
