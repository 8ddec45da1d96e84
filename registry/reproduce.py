"""Re-run one cell of a release from its provenance and compare the numbers.

A cell is ``dataset/ipc/label/method`` (optionally ``/kind``). The release's provenance records, per
cell, the distilled-set path and DVC md5, the protocol name/version/sha256, ipc, data set and kind;
reproduce checks the distilled set still has that md5, calls ``ddr.evaluate`` with the same inputs,
and compares every metric round by round: exactly on CPU, within an absolute tolerance on GPU
(default 0.02, printed with the result).
"""
from __future__ import annotations

import math
from pathlib import Path

from ddr.errors import DDRError, unknown
from registry.util import read_json

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


def _evaluate():
    import ddr

    fn = getattr(ddr, "evaluate", None)
    if fn is None:
        raise DDRError("this ddr has no ddr.evaluate(); reproduce needs the evaluation core")
    return fn


def reproduce_cell(release_dir: str | Path, cell: dict, *, device: str | None = None, tolerance: float | None = None,
                   base: str | Path | None = None, root: str | None = None, cache_dir: str | None = None,
                   tracking_uri: str | None = None, track: bool = False) -> dict:
    """Re-run one provenance cell; returns a report with ``match`` and the per-round rows."""
    from ddr.data.digest import dvc_md5

    release_dir = Path(release_dir)
    distilled = cell.get("distilled") or {}
    if not distilled.get("path"):
        raise DDRError(f"cell {cell['id']}: the release records no distilled-set path")
    path = Path(distilled["path"])
    if not path.is_absolute():
        path = Path(base or Path.cwd()) / path
    if not path.exists():
        raise DDRError(f"cell {cell['id']}: distilled set {path} does not exist (dvc pull?)")
    md5 = dvc_md5(path)
    if distilled.get("md5") and md5 != distilled["md5"]:
        raise DDRError(f"cell {cell['id']}: distilled set {path} has DVC md5 {md5}, the release recorded {distilled['md5']}")
    evaluate = _evaluate()
    res = evaluate(cell["kind"], distilled=str(path), dataset=cell["dataset"], ipc=int(cell["ipc"]),
                   protocol=cell["protocol"]["name"], rounds=cell.get("rounds"), root=root, device=device,
                   tracking_uri=tracking_uri, track=track, cache_dir=cache_dir)
    got = res.to_dict() if hasattr(res, "to_dict") else dict(res)
    for key in ("version", "sha256"):
        want, have = cell["protocol"].get(key), got.get("protocol", {}).get(key)
        if want is not None and want != have:
            raise DDRError(f"cell {cell['id']}: protocol {cell['protocol']['name']} {key} is {have!r} now, "
                           f"the release used {want!r}")
    ran_on = (got.get("environment") or {}).get("device") or device or "cpu"
    on_gpu = not str(ran_on).startswith("cpu")
    tol = tolerance if tolerance is not None else (GPU_TOLERANCE if on_gpu else CPU_TOLERANCE)
    expected = read_json(release_dir / cell["result"], "release result")["metrics"]
    rows = compare_metrics(expected, got.get("metrics", {}), tol)
    return {"cell": cell["id"], "device": ran_on, "tolerance": tol, "exact": tol == 0,
            "match": all(r["ok"] for r in rows), "rows": rows}


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
