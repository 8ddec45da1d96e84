"""Re-run one cell of a release from its provenance (this trains) and compare the numbers.

The release's provenance records, per cell, the distilled-set path and DVC md5, the protocol
name/version/sha256, ipc, data set and kind; reproduce_cell checks the distilled set still has that md5,
calls ``ddr.evaluate`` with the same inputs and compares every metric round by round with the release's
result (registry/reproduction.py).
"""
from __future__ import annotations

from pathlib import Path

from ddr.checks import confined, release_file
from ddr.errors import DDRError
from registry.reproduction import CPU_TOLERANCE, GPU_TOLERANCE, compare_metrics
from registry.util import read_json


def reproduce_cell(release_dir: str | Path, cell: dict, *, device: str | None = None, tolerance: float | None = None,
                   base: str | Path | None = None, root: str | None = None, cache_dir: str | None = None,
                   tracking_uri: str | None = None, track: bool = False) -> dict:
    """Re-run one provenance cell; returns a report with ``match`` and the per-round rows."""
    import ddr
    from ddr.data.digest import dvc_md5

    release_dir = Path(release_dir)
    distilled = cell.get("distilled") or {}
    if not distilled.get("path"):
        raise DDRError(f"cell {cell['id']}: the release records no distilled-set path")
    path = Path(distilled["path"])
    if not path.is_absolute():
        path = confined(Path(base or Path.cwd()), *path.parts, what="distilled-set path")  # recorded by the release
    if not path.exists():
        raise DDRError(f"cell {cell['id']}: distilled set {path} does not exist (dvc pull?)")
    md5 = dvc_md5(path)
    if distilled.get("md5") and md5 != distilled["md5"]:
        raise DDRError(f"cell {cell['id']}: distilled set {path} has DVC md5 {md5}, the release recorded {distilled['md5']}")
    res = ddr.evaluate(cell["kind"], distilled=str(path), dataset=cell["dataset"], ipc=int(cell["ipc"]),
                       protocol=cell["protocol"]["name"], rounds=cell.get("rounds"), root=root, device=device,
                       tracking_uri=tracking_uri, track=track, cache_dir=cache_dir)
    got = res.to_dict()
    for key in ("version", "sha256"):
        want, have = cell["protocol"].get(key), got.get("protocol", {}).get(key)
        if want is not None and want != have:
            raise DDRError(f"cell {cell['id']}: protocol {cell['protocol']['name']} {key} is {have!r} now, "
                           f"the release used {want!r}")
    ran_on = (got.get("environment") or {}).get("device") or device or "cpu"
    on_gpu = not str(ran_on).startswith("cpu")
    tol = tolerance if tolerance is not None else (GPU_TOLERANCE if on_gpu else CPU_TOLERANCE)
    expected = read_json(release_file(release_dir, cell["result"], "release result"), "release result")["metrics"]
    rows = compare_metrics(expected, got.get("metrics", {}), tol)
    return {"cell": cell["id"], "device": ran_on, "tolerance": tol, "exact": tol == 0,
            "match": all(r["ok"] for r in rows), "rows": rows}
