"""Ranking snapshots from result.json files, with rank certainty from seeded posterior draws over rounds.

For every (data set, ipc, label kind) and score (LRS, and ARS where present) the methods are ordered
by the score's mean, highest first; LRS also gets one table across label kinds per (data set, ipc).
Rank certainty (registry.certainty): Student-t posterior draws of the means, rounds paired across the
methods of a table, re-ranked in every draw: the 95% rank interval, P(rank 1) and P(method beats the next
one below it). Each row also says whether the 95% interval of its improvement over random lies above 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ddr.errors import DDRError
from ddr.eval.result_checks import check_result_fields, check_summaries
from ddr.kernel.digests import sha256_bytes, sha256_file
from registry import RANKING_SCHEMA
from registry.certainty import CONFIDENCE, competition_ranks, rank_certainty, t_interval, unpaired_reason
from registry.util import read_json

SCORES = ("lrs", "ars")
COMPONENTS = {"lrs": ("hlr", "ior"), "ars": ("delta_aug", "delta_noaug")}
DEFAULT_SEED = 20261126
DEFAULT_RESAMPLES = 10000
MAIN_ROLE = {"lrs": "syn", "ars": "syn_aug"}  # the distilled set's training that the score is about
COMBINED_LABEL = "all"  # the LRS table across label kinds: LRS exists to put hard and soft labels on one scale


@dataclass(frozen=True)
class Result:
    """One result.json: its parsed mapping, where it came from and its sha256."""

    data: dict
    path: Path
    sha256: str

    @property
    def selection(self) -> str:
        """How the result chose its checkpoints: 'test' (DD-Ranking's rule), 'val' or 'last'."""
        return str((self.data.get("selection") or {}).get("mode", "test"))

    @property
    def student(self) -> str:
        """The student model of a cross-architecture result (protocol BASE:STUDENT), '' otherwise."""
        return str((self.data.get("protocol") or {}).get("student") or "")

    @property
    def edition(self) -> str:
        """The protocol edition the result was computed under (ddr.protocols.editions); 'ddr' before the field."""
        return str((self.data.get("protocol") or {}).get("edition") or "ddr")

    @property
    def cell(self) -> tuple[str, int, str, str, str]:
        """A result not selected on the test set is its own cell: method 'herding@val'; so is a
        cross-architecture result: kind 'lrs@ResNet-18', and a result of another edition: kind
        'lrs-ddranking-0.2'."""
        d = self.data
        method = d["method"] if self.selection == "test" else f"{d['method']}@{self.selection}"
        kind = f"{d['kind']}@{self.student}" if self.student else d["kind"]
        return (d["dataset"], int(d["ipc"]), d["label"], method,
                kind if self.edition == "ddr" else f"{kind}-{self.edition}")

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
    check_result_fields(d, path)
    kind = d["kind"]
    if kind in SCORES:
        m = d["metrics"].get(kind)
        if not isinstance(m, dict) or not m.get("per_round"):
            raise DDRError(f"{path}: metrics.{kind}.per_round is missing or empty")
        for v in m["per_round"]:
            if not isinstance(v, (int, float)) or not np.isfinite(v):
                raise DDRError(f"{path}: metrics.{kind}.per_round holds a non-number {v!r}")
    check_summaries(d, path)


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


def draw_ids(r: Result) -> list[str] | None:
    """Each round's random draw, in round order, as evaluations record it (ddr.eval.training_sets):
    the digest of the drawn indices (and of the original files, for an image-folder data set) within the
    data set's digest. Equal lists mean two results' rounds trained on the same random subsets; None when the
    result does not record them."""
    inputs = r.data.get("inputs") or {}
    rand, data = inputs.get("random"), (inputs.get("dataset") or {}).get("sha256")
    if not isinstance(rand, list) or not rand or not all(isinstance(x, dict) and x.get("indices_sha256") for x in rand):
        return None
    return [f"{data}/{x['indices_sha256']}/{x.get('files_sha256', '')}"
            for x in sorted(rand, key=lambda x: x.get("round", 0))]


def set_identity(r: Result) -> str | None:
    """What makes two rows one result under two names: the distilled set's content (images and labels, not
    meta.json), its LR and the protocol. Results written before `inputs.distilled.content_sha256` existed
    fall back on the cache keys of their synthetic-side trainings, which digest the training tensors, LR,
    seed and recipe; None when neither is recorded."""
    d = r.data
    distilled = (d.get("inputs") or {}).get("distilled") or {}
    content = distilled.get("content_sha256")
    if not content:
        keys = sorted(str(t.get("key")) for t in d.get("trainings") or []
                      if isinstance(t, dict) and str(t.get("role", "")).startswith("syn") and t.get("key"))
        if not keys:
            return None
        content = "trainings:" + sha256_bytes("\n".join(keys).encode())
    return f"{content}/{distilled.get('lr')!r}/{(d.get('protocol') or {}).get('sha256')}/{d.get('label')}"


def _check_consistent(key: str, rs: list[Result]) -> None:
    """A table's scores must be on one scale: one weight, one version per protocol."""
    weights = sorted({repr(r.data.get("weight")) for r in rs})
    if len(weights) > 1:
        raise DDRError(f"table {key} mixes weights {', '.join(weights)}; rank results of one weight together")
    versions: dict[str, set] = {}
    for r in rs:
        versions.setdefault(str(r.data["protocol"].get("name")), set()).add(r.data["protocol"].get("version"))
    for name, vs in sorted(versions.items()):
        if len(vs) > 1:
            raise DDRError(f"table {key} mixes versions {', '.join(sorted(map(str, vs)))} of protocol {name}; "
                           "re-run the older results or publish them separately")


def _beats_random(d: dict, score: str) -> dict:
    """Whether the 95% t interval of the improvement over random (IOR; ARS: delta with augmentation) lies above 0."""
    metric = "ior" if score == "lrs" else "delta_aug"
    m = d["metrics"].get(metric)
    ci = t_interval(m["per_round"]) if isinstance(m, dict) and m.get("per_round") else None
    if ci is None:
        return {"metric": metric, "interval": None, "verdict": "unknown"}
    verdict = "above" if ci[0] > 0 else "below" if ci[1] < 0 else "straddles"
    return {"metric": metric, "interval": [round(ci[0], 6), round(ci[1], 6)], "verdict": verdict}


def _table(dataset: str, ipc: int, label: str, score: str, selection: str, rs: list[Result], seed: int,
           resamples: int, combined: bool = False, student: str = "", edition: str = "ddr") -> dict:
    key = f"{dataset}/{ipc}/{label}/{score}" + ("" if selection == "test" else f"/{selection}") + \
        (f"/{student}" if student else "") + ("" if edition == "ddr" else f"/{edition}")
    _check_consistent(key, rs)
    rs = sorted(rs, key=lambda r: (-float(r.data["metrics"][score]["mean"]), r.data["method"], r.data["label"]))
    per_round = [[float(v) for v in r.data["metrics"][score]["per_round"]] for r in rs]
    counts = sorted({len(v) for v in per_round})
    flags = []
    names = [f"{r.data['method']} ({r.data['label']})" if combined else r.data["method"] for r in rs]
    reason = unpaired_reason(names, per_round, [draw_ids(r) for r in rs])
    paired = reason is None
    same = _same_sets(rs, names)
    flags += [f"{' and '.join(group)} are the same set (same images, labels and LR) under {len(group)} names"
              for group in _groups(same, names)]
    if counts[0] < 2:
        flags.append("a method has 1 round: no spread estimate, so no rank certainty")
        cert = {"interval": [[1, len(rs)]] * len(rs), "p_beats_next": [None] * len(rs), "p_rank1": [None] * len(rs)}
        method = None
    else:
        cert = rank_certainty(per_round, seed=seed, draws=resamples, key=key, paired=paired)
        method = "paired" if paired else "unpaired"
    unpaired = {"unpaired_reason": reason} if method == "unpaired" else {}
    ranks = competition_ranks(np.array([float(r.data["metrics"][score]["mean"]) for r in rs]))
    rows = []
    for j, r in enumerate(rs):
        d = r.data
        rows.append({
            "method": f"{d['method']} ({d['label']})" if combined else d["method"],
            **({"label": d["label"]} if combined else {}),
            "rank": int(ranks[j]),
            **({"same_set_as": same[j]} if same[j] else {}),
            "mean": float(d["metrics"][score]["mean"]),
            "std": float(d["metrics"][score]["std"]),
            "rounds": len(per_round[j]),
            "per_round": per_round[j],
            "rank_interval": cert["interval"][j],
            "p_rank1": cert["p_rank1"][j],
            "p_beats_next": cert["p_beats_next"][j],
            "beats_random": _beats_random(d, score),
            "flags": (["1 round: zero spread is not certainty"] if len(per_round[j]) < 2 else []) +
                     [f"same set as {', '.join(same[j])}"] * bool(same[j]),
            "components": {c: _summary(d["metrics"][c]) for c in COMPONENTS[score] if c in d["metrics"]},
            **({"per_class_accuracy": d["per_class_accuracy"][MAIN_ROLE[score]]}
               if MAIN_ROLE[score] in (d.get("per_class_accuracy") or {}) else {}),
            "model": d.get("model"),
            "weight": d.get("weight"),
            "protocol": d["protocol"],
            "result": f"results/{result_filename(r)}",
            "result_sha256": r.sha256,
            "mlflow_run_id": (d.get("mlflow") or {}).get("run_id"),
            "train_seconds": train_seconds(d),
        })
    return {"dataset": dataset, "ipc": ipc, "label": label, "score": score, "higher_is_better": True,
            **({} if selection == "test" else {"selection": selection}), **({"student": student} if student else {}),
            **({} if edition == "ddr" else {"edition": edition}),
            "certainty": method, **unpaired, "flags": flags, "rows": rows}


def _same_sets(rs: list[Result], names: list[str]) -> list[list[str]]:
    """Per row, the other rows of the table that are the same set (set_identity), by name."""
    ids = [set_identity(r) for r in rs]
    return [[names[k] for k in range(len(rs)) if k != j and ids[j] is not None and ids[k] == ids[j]]
            for j in range(len(rs))]


def _groups(same: list[list[str]], names: list[str]) -> list[list[str]]:
    """The groups of rows that are one set, each listed once, in table order."""
    out: list[list[str]] = []
    for name, others in zip(names, same):
        group = [n for n in names if n == name or n in others]
        if others and group not in out:
            out.append(group)
    return out


def _summary(m: dict) -> dict:
    return {"mean": float(m["mean"]), "std": float(m["std"]), "per_round": [float(v) for v in m.get("per_round", [])]}


def build_ranking(results: list[Result], seed: int = DEFAULT_SEED, resamples: int = DEFAULT_RESAMPLES) -> dict:
    """The ranking snapshot: one table per (dataset, ipc, label, score), rows ordered best first, plus one LRS
    table per (dataset, ipc) across label kinds (label "all") where more than one label kind has LRS results."""
    if resamples < 1:
        raise DDRError(f"the number of posterior draws (--resamples) must be positive; got {resamples}")
    groups: dict[tuple, list[Result]] = {}
    skipped = []
    for r in results:
        kind = r.data["kind"]
        if kind not in SCORES:
            skipped.append(r.cell_id)
            continue
        groups.setdefault((r.data["dataset"], int(r.data["ipc"]), r.data["label"], kind, r.selection, r.student,
                           r.edition), []).append(r)
    if not groups:
        raise DDRError("none of the results is an LRS or ARS result; nothing to rank")
    combined: dict[tuple, list[Result]] = {}
    for (dataset, ipc, _label, score, selection, student, edition), rs in groups.items():
        if score == "lrs":
            combined.setdefault((dataset, ipc, COMBINED_LABEL, score, selection, student, edition), []).extend(rs)
    tables = [_table(*k[:5], rs, seed, resamples, student=k[5], edition=k[6]) for k, rs in sorted(groups.items())]
    tables += [_table(*k[:5], rs, seed, resamples, combined=True, student=k[5], edition=k[6])
               for k, rs in sorted(combined.items()) if len({r.data["label"] for r in rs}) > 1]
    tables.sort(key=lambda t: (t["dataset"], t["ipc"], t["label"], t["score"], t.get("selection", ""),
                               t.get("student", ""), t.get("edition", "")))
    ranking = {
        "schema": RANKING_SCHEMA,
        "posterior_draws": {"seed": seed, "draws": resamples, "confidence": CONFIDENCE,
                            "method": "Student-t posterior draws of the means (df = rounds - 1)",
                            "unit": "rounds, paired across the methods of a table when every round's random draw "
                                    "(inputs.random[].indices_sha256) matches (certainty 'paired'), else drawn per "
                                    "method ('unpaired', with unpaired_reason)",
                            "rng": "numpy.random.default_rng([seed, crc32('dataset/ipc/label/score')])"},
        "tables": tables,
        "skipped": skipped,
    }
    check_ranking(ranking, "the ranking built")  # what a release or `ddr rank --out` writes is one the schema holds
    return ranking


def check_ranking(d: Any, where: str | Path) -> None:
    """A ranking mapping of the current format (registry/ranking_record.py Ranking), else one DDRError line."""
    from ddr.records.validation import validate
    from registry.ranking_record import Ranking

    validate(Ranking, d, str(where))


def read_ranking(path: str | Path) -> dict:
    """A ranking.json, checked; an older format (v1, v2) upgraded in memory to the current one."""
    from registry.ranking_record import upgrade

    d = upgrade(read_json(Path(path), "ranking"))
    check_ranking(d, path)
    return d


def train_seconds(d: dict) -> float | None:
    """What the cell's trainings cost (result.json `resources`, else summed over its trainings)."""
    res = d.get("resources") or {}
    if "train_seconds" in res:
        return float(res["train_seconds"])
    secs = [t.get("seconds") for t in d.get("trainings") or []]
    return round(sum(secs), 3) if secs and all(isinstance(x, (int, float)) for x in secs) else None


def result_filename(r: Result) -> str:
    """A file name per cell, injective: a name that needs no replacement is kept as is; one that does gets
    '~' (never kept) and a digest of the original, so 'foo bar' and 'foo_bar' never share a file."""
    dataset, ipc, label, method, kind = r.cell
    raw = f"{dataset}-ipc{ipc}-{label}-{method}-{kind}"
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in raw)
    if safe != raw or safe.startswith("."):
        safe = f"{safe}~{sha256_bytes(raw.encode('utf-8'))[:16]}"
    return f"{safe}.json"


def predictions_path(result_path: str) -> str:
    """The release path of a result's predictions bundle: results/X.json -> results/X.predictions.npz."""
    return result_path[:-len(".json")] + ".predictions.npz"


def table_key(t: dict) -> str:
    sel = t.get("selection", "test")
    return f"{t['dataset']}/ipc{t['ipc']}/{t['label']}/{t['score']}" + ("" if sel == "test" else f"/{sel}") + \
        (f"/{t['student']}" if t.get("student") else "") + (f"/{t['edition']}" if t.get("edition") else "")
