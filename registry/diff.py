"""Compare two releases: rank moves and metric changes per table."""
from __future__ import annotations

from pathlib import Path

from registry.ranking import read_ranking, table_key


def load_ranking(release_dir: str | Path) -> dict:
    return read_ranking(Path(release_dir) / "ranking.json")


def diff_rankings(a: dict, b: dict) -> dict:
    """Structured diff of ranking A -> B: tables added/removed, and per common table each method's
    rank and mean before/after (methods added or removed marked as such)."""
    ta = {table_key(t): t for t in a["tables"]}
    tb = {table_key(t): t for t in b["tables"]}
    out = {"from": a.get("version"), "to": b.get("version"),
           "tables_added": sorted(set(tb) - set(ta)), "tables_removed": sorted(set(ta) - set(tb)), "tables": []}
    for key in sorted(set(ta) & set(tb)):
        ra = {r["method"]: r for r in ta[key]["rows"]}
        rb = {r["method"]: r for r in tb[key]["rows"]}
        rows = []
        for m in sorted(set(ra) | set(rb), key=lambda m: (rb[m]["rank"] if m in rb else 10**9, m)):
            x, y = ra.get(m), rb.get(m)
            row = {"method": m, "status": "added" if x is None else "removed" if y is None else "kept",
                   "rank_from": x and x["rank"], "rank_to": y and y["rank"],
                   "mean_from": x and x["mean"], "mean_to": y and y["mean"],
                   "std_from": x and x["std"], "std_to": y and y["std"]}
            if x and y:
                row["rank_move"] = x["rank"] - y["rank"]  # positive = moved up
                row["mean_change"] = y["mean"] - x["mean"]
                row["components"] = {c: y["components"][c]["mean"] - x["components"][c]["mean"]
                                     for c in sorted(set(x["components"]) & set(y["components"]))}
            rows.append(row)
        changed = any(r["status"] != "kept" or r.get("rank_move") or r.get("mean_change") for r in rows)
        out["tables"].append({"table": key, "changed": bool(changed), "rows": rows})
    return out


def format_diff(d: dict, all_rows: bool = False) -> str:
    lines = [f"diff {d['from']} -> {d['to']}"]
    for k in d["tables_added"]:
        lines.append(f"+ table {k}")
    for k in d["tables_removed"]:
        lines.append(f"- table {k}")
    for t in d["tables"]:
        if not t["changed"] and not all_rows:
            continue
        lines.append(f"{t['table']}:")
        for r in t["rows"]:
            if r["status"] == "added":
                lines.append(f"  + {r['method']}: new at rank {r['rank_to']} (mean {r['mean_to']:.4f})")
            elif r["status"] == "removed":
                lines.append(f"  - {r['method']}: removed (was rank {r['rank_from']}, mean {r['mean_from']:.4f})")
            elif r["rank_move"] or r["mean_change"] or all_rows:
                mv = r["rank_move"]
                arrow = f"up {mv}" if mv > 0 else f"down {-mv}" if mv < 0 else "same"
                comps = " ".join(f"{c} {v:+.4f}" for c, v in r["components"].items())
                lines.append(f"  {r['method']}: rank {r['rank_from']} -> {r['rank_to']} ({arrow}); "
                             f"mean {r['mean_from']:.4f} -> {r['mean_to']:.4f} ({r['mean_change']:+.4f})"
                             + (f"; {comps}" if comps else ""))
    if len(lines) == 1:
        lines.append("no changes")
    return "\n".join(lines)
