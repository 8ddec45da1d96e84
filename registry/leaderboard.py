"""DD-Ranking's leaderboard beside ddr's numbers: read its CSV, compare it with a release, write a release
in its format.

The leaderboard CSV has the columns `method, method_reference, verified, date, dataset, ipc, label_type,
hlr, ior`, HLR and IOR in percentage points; ddr works in fractions, so they are divided by 100 and the
LRS is computed from them with ddr's formula at the chosen weight (DD-Ranking's v0.2.0 exponent on
percentage points is the defect ddr corrects). A leaderboard row states one HLR and one IOR (means over
rounds), so its LRS is the LRS of the means; ddr's score is the mean of per-round LRS: the two differ
by a second-order term even for identical accuracies.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from ddr import metrics
from ddr.errors import DDRError
from registry.csv_text import csv_text

COLUMNS = ("method", "method_reference", "verified", "date", "dataset", "ipc", "label_type", "hlr", "ior")
_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "tinyimagenet": "tinyimagenet", "tiny": "tinyimagenet",
             "imagenet1k": "imagenet1k", "imagenet": "imagenet1k"}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def dataset_name(text: str) -> str:
    """DD-Ranking's display names (CIFAR-10, Tiny-ImageNet, ImageNet-1K) to ddr's data set names."""
    k = _key(text)
    return _DATASETS.get(k, k)


def read_leaderboard(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a DD-Ranking leaderboard CSV, with `hlr` and `ior` as fractions."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DDRError(f"no such leaderboard CSV: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DDRError(f"cannot read leaderboard CSV {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DDRError(f"{path}: not a DD-Ranking leaderboard CSV: missing column '{missing[0]}' "
                       f"(expected {', '.join(COLUMNS)})")
    rows, lines = [], {}
    for line, raw in enumerate(reader, start=2):
        raw = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        where = f"{path}:{line}"
        try:
            ipc = int(raw["ipc"])
            hlr_pp, ior_pp = float(raw["hlr"]), float(raw["ior"])
        except ValueError:
            raise DDRError(f"{where}: ipc must be an integer and hlr, ior numbers (percentage points)") from None
        if ipc < 1 or not (-100 <= hlr_pp <= 100 and -100 <= ior_pp <= 100):
            raise DDRError(f"{where}: ipc must be positive and hlr, ior within [-100, 100] percentage points")
        label = raw["label_type"].lower()
        if label not in ("hard", "soft"):
            raise DDRError(f"{where}: label_type must be 'hard' or 'soft', got '{raw['label_type']}'")
        if not raw["method"]:
            raise DDRError(f"{where}: empty method")
        if not dataset_name(raw["dataset"]):
            raise DDRError(f"{where}: empty data set")
        cell = cell_key(raw["dataset"], ipc, label, raw["method"])
        if cell in lines:  # which of two rows for one cell is meant cannot be guessed: neither wins
            raise DDRError(f"{path}: rows {lines[cell]} and {line} both give {dataset_name(raw['dataset'])} IPC {ipc} "
                           f"{label} {raw['method']!r}; keep one")
        lines[cell] = line
        rows.append({"method": raw["method"], "method_reference": raw["method_reference"],
                     "verified": raw["verified"], "date": raw["date"], "dataset": dataset_name(raw["dataset"]),
                     "ipc": ipc, "label": label, "hlr": hlr_pp / 100.0, "ior": ior_pp / 100.0})
    if not rows:
        raise DDRError(f"{path}: no rows")
    return rows


LEADERBOARD_EDITION = "leaderboard-2025-02"  # ddr.protocols.editions: the recipe behind the rows


def _leaderboard_like(table: dict[str, Any]) -> bool:
    """The tables the leaderboard has counterparts of: LRS per label kind, test-set selection, the
    protocol's own student (not the combined-label, val/last-selected or cross-architecture tables)."""
    return (table["score"] == "lrs" and table["label"] in ("hard", "soft")
            and table.get("selection", "test") == "test" and not table.get("student"))


def row_lrs(row: dict[str, Any], weight: float) -> float:
    return metrics.lrs(row["hlr"], row["ior"], weight)


def cell_key(dataset: str, ipc: int, label: str, method: str) -> tuple[str, int, str, str]:
    return dataset_name(dataset), int(ipc), label.lower(), _key(method)


def compare(ranking: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (data set, ipc, label, method) in both: ddr's LRS, the leaderboard's LRS at ddr's weight, and
    their difference (ddr minus leaderboard). Methods match case- and punctuation-insensitively. The
    leaderboard was computed by DD-Ranking 0.1.x: a cell is compared with its result of the
    LEADERBOARD_EDITION when the ranking has one, else with another edition's, marked
    `edition_matches: false` (the difference then mixes the recipes' differences with the method's)."""
    board = {cell_key(r["dataset"], r["ipc"], r["label"], r["method"]): r for r in rows}
    best: dict[tuple, tuple[dict, dict]] = {}
    for t in ranking["tables"]:
        if not _leaderboard_like(t):
            continue
        for r in t["rows"]:
            key = cell_key(t["dataset"], t["ipc"], t["label"], r["method"])
            if key not in board:
                continue
            if key not in best or t.get("edition") == LEADERBOARD_EDITION:
                best[key] = (t, r)
    out = []
    for key, (t, r) in best.items():
        ref = board[key]
        weight = 0.5 if r.get("weight") is None else float(r["weight"])
        lb = row_lrs(ref, weight)
        edition = t.get("edition", "ddr")
        out.append({"dataset": t["dataset"], "ipc": t["ipc"], "label": t["label"], "method": r["method"],
                    "weight": weight, "ddr_lrs": r["mean"], "leaderboard_lrs": lb,
                    "difference": r["mean"] - lb, "leaderboard_method": ref["method"],
                    "leaderboard_hlr": ref["hlr"], "leaderboard_ior": ref["ior"],
                    "ddr_hlr": (r["components"].get("hlr") or {}).get("mean"),
                    "ddr_ior": (r["components"].get("ior") or {}).get("mean"),
                    "edition": edition, "edition_matches": edition == LEADERBOARD_EDITION})
    return sorted(out, key=lambda c: (c["dataset"], c["ipc"], c["label"], c["method"]))


def edition_note(comparison: list[dict[str, Any]]) -> str | None:
    """One line when some compared results are not of the leaderboard's edition, else None."""
    other = sorted({c["edition"] for c in comparison if not c["edition_matches"]})
    if not other:
        return None
    n = sum(not c["edition_matches"] for c in comparison)
    return (f"note: {n} of {len(comparison)} compared results are of edition {', '.join(other)}, not "
            f"{LEADERBOARD_EDITION} (the DD-Ranking 0.1.x recipe that produced the leaderboard): their difference "
            f"mixes the recipes' differences with the method's; evaluate with --edition {LEADERBOARD_EDITION} "
            "to compare like with like")


def reference_markdown(comparison: list[dict[str, Any]], source: str) -> str:
    """The release page's reference column: one table, ddr's LRS beside the leaderboard's."""
    lines = ["## DD-Ranking leaderboard reference", "",
             f"Leaderboard rows from `{source}` (HLR and IOR converted from percentage points to fractions; "
             f"LRS at ddr's weight). Difference = ddr − leaderboard. The leaderboard was computed with DD-Ranking "
             f"0.1.x: like with like is edition `{LEADERBOARD_EDITION}`.", "",
             "| data set | IPC | labels | method | edition | ddr LRS | leaderboard LRS | difference |",
             "|---|---:|---|---|---|---:|---:|---:|"]
    for c in comparison:
        edition = c.get("edition", "ddr") + ("" if c.get("edition_matches") else " (differs)")
        lines.append(f"| {c['dataset']} | {c['ipc']} | {c['label']} | {c['method']} | {edition} | {c['ddr_lrs']:.4f} | "
                     f"{c['leaderboard_lrs']:.4f} | {c['difference']:+.4f} |")
    if not comparison:
        lines.append("| — | | | no cell of this release is on the leaderboard | | | | |")
    note = edition_note(comparison)
    if note:
        lines += ["", note[len("note: "):].capitalize()]
    return "\n".join(lines) + "\n"


def to_ddranking_csv(ranking: dict[str, Any], date: str = "", verified: str = "ddr") -> str:
    """A release's LRS tables in the leaderboard's CSV format (HLR and IOR means in percentage points)."""
    rows: list[list] = [list(COLUMNS)]
    for t in ranking["tables"]:
        if not _leaderboard_like(t):
            continue
        for r in t["rows"]:
            comp = r.get("components") or {}
            if "hlr" not in comp or "ior" not in comp:
                continue
            proto = r.get("protocol") or {}
            rows.append([r["method"], f"ddr {proto.get('name')}@{proto.get('version')}", verified, date,
                         t["dataset"], t["ipc"], t["label"], round(comp["hlr"]["mean"] * 100, 6),
                         round(comp["ior"]["mean"] * 100, 6)])
    return csv_text(rows)
