"""What a reproduction of a release's cell is judged by: the cell named, and its numbers compared.

A cell is ``dataset/ipc/label/method`` (optionally ``/kind``), found in the release's provenance.
Every metric is compared round by round: exactly on CPU, within an absolute tolerance on GPU (default
0.02, printed with the result). Re-running the cell trains, so that lives in pipelines/reproduce.py;
this module only compares (attestations re-check a reproducer's claim with it).
"""
from __future__ import annotations

import math

from ddr.errors import DDRError, unknown

GPU_TOLERANCE = 0.02
CPU_TOLERANCE = 0.0


def parse_cell(spec: str) -> tuple[str, int, str, str, str | None]:
    parts = spec.strip("/").split("/")
    if len(parts) not in (4, 5):
        raise DDRError(f"cell '{spec}' must be dataset/ipc/label/method[/kind], e.g. digits/10/hard/herding")
    try:
        ipc = int(parts[1])
    except ValueError:
        raise DDRError(f"cell '{spec}': ipc '{parts[1]}' is not an integer") from None
    return parts[0], ipc, parts[2], parts[3], parts[4] if len(parts) == 5 else None


def find_cells(provenance: dict, spec: str) -> list[dict]:
    dataset, ipc, label, method, kind = parse_cell(spec)
    cells = [c for c in provenance.get("cells", [])
             if (c["dataset"], c["ipc"], c["label"], c["method"]) == (dataset, ipc, label, method)
             and (kind is None or c["kind"] == kind)]
    if not cells:
        known = sorted({f"{c['dataset']}/{c['ipc']}/{c['label']}/{c['method']}" for c in provenance.get("cells", [])}
                       | {c["id"] for c in provenance.get("cells", [])})
        raise unknown("cell", spec, known)
    return cells


def compare_metrics(expected: dict, got: dict, tolerance: float) -> list[dict]:
    """Round-by-round comparison of every metric in ``expected`` (the release's result.json metrics).
    tolerance 0 means bit-exact equality of the floats."""
    rows = []
    for name in sorted(expected):
        want = expected[name].get("per_round", [])
        have = (got.get(name) or {}).get("per_round")
        if have is None or len(have) != len(want):
            rows.append({"metric": name, "round": None, "release": len(want),
                         "reproduced": None if have is None else len(have), "diff": None, "ok": False})
            continue
        for i, (a, b) in enumerate(zip(want, have)):
            d = abs(float(a) - float(b))
            ok = (float(a) == float(b)) if tolerance == 0 else (math.isfinite(d) and d <= tolerance)
            rows.append({"metric": name, "round": i, "release": float(a), "reproduced": float(b), "diff": d, "ok": ok})
    return rows


def format_report(rep: dict) -> str:
    how = "exact (bit-for-bit)" if rep["exact"] else f"within absolute tolerance {rep['tolerance']}"
    lines = [f"{rep['cell']} on {rep['device']}: {'MATCH' if rep['match'] else 'MISMATCH'} ({how})"]
    for r in rep["rows"]:
        if r["round"] is None:
            lines.append(f"  {r['metric']}: release has {r['release']} rounds, reproduction {r['reproduced']}")
        else:
            lines.append(f"  {r['metric']}[{r['round']}]: release {r['release']!r} reproduced {r['reproduced']!r} "
                         f"diff {r['diff']:.3g} {'ok' if r['ok'] else 'MISMATCH'}")
    return "\n".join(lines)
