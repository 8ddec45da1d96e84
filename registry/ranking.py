"""Ranking snapshots from result.json files, with a seeded bootstrap over rounds for rank certainty.

For every (data set, ipc, label kind) and score (LRS, and ARS where present) the methods are ordered
by the score's mean, highest first. Rank certainty: each method's rounds are resampled with
replacement (numpy ``default_rng``, a recorded seed), the methods are re-ranked in every resample,
and we report the 95% rank interval and P(method beats the next one below it).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ddr.errors import DDRError
from registry import RANKING_SCHEMA
from registry.util import read_json, sha256_file

RESULT_SCHEMA = "ddr.result/v1"
SCORES = ("lrs", "ars")
COMPONENTS = {"lrs": ("hlr", "ior"), "ars": ("delta_aug", "delta_noaug")}
DEFAULT_SEED = 20261126
DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Result:
    """One result.json: its parsed mapping, where it came from and its sha256."""

    data: dict
    path: Path
    sha256: str

    @property
    def cell(self) -> tuple[str, int, str, str, str]:
        d = self.data
        student = (d.get("protocol") or {}).get("student")  # a cross-architecture result: its own cell
        return (d["dataset"], int(d["ipc"]), d["label"], d["method"], f"{d['kind']}@{student}" if student else d["kind"])

    @property
    def cell_id(self) -> str:
        dataset, ipc, label, method, kind = self.cell
        return f"{dataset}/{ipc}/{label}/{method}/{kind}"


def find_result_files(inputs: list[str | Path]) -> list[Path]:
    """Paths given, with directories searched recursively for result.json."""
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(p.rglob("result.json"))
            if not found:
                raise DDRError(f"no result.json under {p}")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise DDRError(f"result file or folder {p} does not exist")
    if not files:
        raise DDRError("no result.json files given")
    return files


def _validate(d: Any, path: Path) -> None:
    if not isinstance(d, dict) or d.get("schema") != RESULT_SCHEMA:
        raise DDRError(f"{path}: not a {RESULT_SCHEMA} result (schema field is {d.get('schema') if isinstance(d, dict) else None!r})")
    for key in ("kind", "label", "method", "dataset", "ipc", "metrics", "protocol"):
        if key not in d:
            raise DDRError(f"{path}: result.json lacks '{key}'")
    kind = d["kind"]
    if kind in SCORES:
        m = d["metrics"].get(kind)
        if not isinstance(m, dict) or not m.get("per_round"):
            raise DDRError(f"{path}: metrics.{kind}.per_round is missing or empty")
        for v in m["per_round"]:
            if not isinstance(v, (int, float)) or not np.isfinite(v):
                raise DDRError(f"{path}: metrics.{kind}.per_round holds a non-number {v!r}")


def load_results(inputs: list[str | Path]) -> list[Result]:
    """Read and check result.json files; a cell (dataset/ipc/label/method/kind) may appear once."""
    out: list[Result] = []
    seen: dict[tuple, Path] = {}
    for path in find_result_files(inputs):
        d = read_json(path, "result")
        _validate(d, path)
        r = Result(d, path, sha256_file(path))
        if r.cell in seen:
            raise DDRError(f"cell {r.cell_id} appears twice: {seen[r.cell]} and {path}")
        seen[r.cell] = path
        out.append(r)
    return sorted(out, key=lambda r: r.cell)


def _competition_ranks(values: np.ndarray) -> np.ndarray:
    """Rank 1 = highest; ties share the best rank ("1224"). Works row-wise on a 2-D array."""
    # rank = 1 + number of strictly greater values in the row
    return 1 + (values[..., None, :] > values[..., :, None]).sum(axis=-1)


def _table_rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def bootstrap(per_round: list[list[float]], seed: int, resamples: int, key: str) -> dict[str, list]:
    """Resample each method's rounds; returns rank intervals and P(i beats i+1) in the given order."""
    rng = _table_rng(seed, key)
    means = np.empty((resamples, len(per_round)))
    for j, rounds in enumerate(per_round):
        vals = np.asarray(rounds, dtype=np.float64)
        idx = rng.integers(0, len(vals), size=(resamples, len(vals)))
        means[:, j] = vals[idx].mean(axis=1)
    ranks = _competition_ranks(means)
    alpha = (1.0 - CONFIDENCE) / 2.0
    lo = np.quantile(ranks, alpha, axis=0, method="lower")
    hi = np.quantile(ranks, 1.0 - alpha, axis=0, method="higher")
    p_next: list[float | None] = []
    for j in range(len(per_round)):
        if j + 1 < len(per_round):
            a, b = means[:, j], means[:, j + 1]
            p = (np.count_nonzero(a > b) + 0.5 * np.count_nonzero(a == b)) / resamples
            p_next.append(round(float(p), 6))
        else:
            p_next.append(None)
    p_first = [round(float(x), 6) for x in (ranks == 1).mean(axis=0)]
    return {"interval": [[int(a), int(b)] for a, b in zip(lo, hi)], "p_beats_next": p_next, "p_rank1": p_first}


def _summary(m: dict) -> dict:
    return {"mean": float(m["mean"]), "std": float(m["std"]), "per_round": [float(v) for v in m.get("per_round", [])]}


def build_ranking(results: list[Result], seed: int = DEFAULT_SEED, resamples: int = DEFAULT_RESAMPLES) -> dict:
    """The ranking snapshot: one table per (dataset, ipc, label, score), rows ordered best first."""
    if resamples < 1:
        raise DDRError(f"bootstrap resamples must be positive; got {resamples}")
    groups: dict[tuple, list[Result]] = {}
    skipped = []
    for r in results:
        kind = r.data["kind"]
        if kind not in SCORES:
            skipped.append(r.cell_id)
            continue
        groups.setdefault((r.data["dataset"], int(r.data["ipc"]), r.data["label"], kind,
                           r.data["protocol"].get("student") or ""), []).append(r)
    if not groups:
        raise DDRError("none of the results is an LRS or ARS result; nothing to rank")
    tables = []
    for (dataset, ipc, label, score, student), rs in sorted(groups.items()):
        rs = sorted(rs, key=lambda r: (-float(r.data["metrics"][score]["mean"]), r.data["method"]))
        key = f"{dataset}/{ipc}/{label}/{score}" + (f"/{student}" if student else "")
        boot = bootstrap([r.data["metrics"][score]["per_round"] for r in rs], seed, resamples, key)
        means = np.array([float(r.data["metrics"][score]["mean"]) for r in rs])
        ranks = _competition_ranks(means)
        rows = []
        for j, r in enumerate(rs):
            d = r.data
            rows.append({
                "method": d["method"],
                "rank": int(ranks[j]),
                "mean": float(d["metrics"][score]["mean"]),
                "std": float(d["metrics"][score]["std"]),
                "rounds": len(d["metrics"][score]["per_round"]),
                "per_round": [float(v) for v in d["metrics"][score]["per_round"]],
                "rank_interval": boot["interval"][j],
                "p_rank1": boot["p_rank1"][j],
                "p_beats_next": boot["p_beats_next"][j],
                "components": {c: _summary(d["metrics"][c]) for c in COMPONENTS[score] if c in d["metrics"]},
                "model": d.get("model"),
                "weight": d.get("weight"),
                "protocol": d["protocol"],
                "result": f"results/{result_filename(r)}",
                "result_sha256": r.sha256,
                "mlflow_run_id": (d.get("mlflow") or {}).get("run_id"),
            })
        tables.append({"dataset": dataset, "ipc": ipc, "label": label, "score": score,
                       "higher_is_better": True, "rows": rows, **({"student": student} if student else {})})
    return {
        "schema": RANKING_SCHEMA,
        "bootstrap": {"seed": seed, "resamples": resamples, "confidence": CONFIDENCE,
                      "unit": "rounds, resampled with replacement per method",
                      "rng": "numpy.random.default_rng([seed, crc32('dataset/ipc/label/score')])"},
        "tables": tables,
        "skipped": skipped,
    }


def result_filename(r: Result) -> str:
    dataset, ipc, label, method, kind = r.cell
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in f"{dataset}-ipc{ipc}-{label}-{method}-{kind}")
    return f"{safe}.json"


def table_key(t: dict) -> str:
    return f"{t['dataset']}/ipc{t['ipc']}/{t['label']}/{t['score']}" + (f"/{t['student']}" if t.get("student") else "")
