"""The correction ledger: what each of ddr's corrections to DD-Ranking does to a number, measured.

For each correction that a rule of ddr.protocols.editions undoes, one distilled set is evaluated twice under
the same protocol, seeds and data: as ddr computes it, and with that one correction undone. Rounds share
their seeds (the seeds do not depend on the recipe's fields a rule changes, except the random side's,
which follow the recipe), so the per-round differences are paired; the ledger gives their mean and
standard error for Acc(syn), Acc(random), Acc(real), HLR, IOR and LRS. Two corrections need no training and
are computed from the ddr result itself: LRS from percentage points (reference 1.5, defect 6.1.1) and each
round's LRS appended twice (6.1.2).

    python -m ddr.eval.ledger --out ddr/protocols/ledger.json --markdown docs/correction-ledger.md

A release lists the rows of the protocols it ranks in its signed provenance (registry.release).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddr import metrics
from ddr.protocols import Protocol, load_protocol
from ddr.protocols.editions import RULES, edition_changes, with_rules
from ddr.protocols.ledger import LEDGER_FILE, LEDGER_SCHEMA

QUANTITIES = ("acc_syn", "acc_random", "acc_real", "hlr", "ior", "lrs")


@dataclass(frozen=True)
class Case:
    """One ledger row to measure: `rule` undone on `protocol`, after `variant` (a change that makes the
    correction matter on digits, e.g. a cosine schedule where the digits protocols use step), described."""

    rule: str
    protocol: str
    variant: str = ""
    make_variant: Callable[[Protocol], Protocol] | None = None
    set_lr: float | None = None  # the set's own lr.pt, for the corrections about it
    folder_px: int | None = None  # the set written as an image folder at this size (larger than the data set's)


def _cosine(p: Protocol) -> Protocol:
    return dataclasses.replace(p, train=dataclasses.replace(p.train, scheduler="cosineannealing"))


def _method_lr(p: Protocol) -> Protocol:
    return dataclasses.replace(p, lr_policy="method")


def _crop(p: Protocol) -> Protocol:
    return dataclasses.replace(p, train=dataclasses.replace(p.train, augmentation={"name": "rrc", "scale": [0.5, 1.0]}))


CASES: tuple[Case, ...] = (
    Case("real-reference-as-evaluator", "digits-lrs-hard"),
    Case("real-reference-as-evaluator", "digits-lrs-soft"),
    Case("hard-run-without-dsa", "digits-lrs-soft"),
    Case("quarter-cosine", "digits-lrs-hard", "train.scheduler cosineannealing (the digits protocols step)",
         _cosine),
    Case("lr-search-asymmetry", "digits-lrs-hard", "lr_policy method and the set's lr.pt 0.01 (the digits "
         "protocols search both sides)", _method_lr, set_lr=0.01),
    Case("crop-original-files", "digits-lrs-hard", "the set as 32 px PNGs and train.augmentation RandomResizedCrop "
         "(0.5, 1) (the digits protocols do not crop)", _crop, folder_px=32),
)


def write_folder(images: Any, data: Any, folder: Path, px: int) -> Path:
    """A class-major set as an image folder of `px` x `px` PNGs (upscaled, as D4M writes CIFAR at 224 px)."""
    import numpy as np
    import torch
    from PIL import Image

    pixels = (data.denormalise(images).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    per_class = len(pixels) // data.num_classes
    for i, arr in enumerate(pixels):
        out = folder / f"class{i // per_class:03d}"
        out.mkdir(parents=True, exist_ok=True)
        img = Image.fromarray(arr[0] if arr.shape[0] == 1 else np.transpose(arr, (1, 2, 0)))
        img.resize((px, px), Image.BILINEAR).save(out / f"{i:05d}.png")
    return folder


def per_round(result: Any, proto: Protocol) -> dict[str, list[float]]:
    """The quantities of an LRS result, per round: the accuracies its HLR and IOR are made of, and the scores."""
    acc = result.accuracies
    rounds = len(result.metrics["lrs"]["per_round"])
    random = acc.get("random_search") if proto.ior_random == "search" and "random_search" in acc else acc["random"]
    real = acc.get("real_per_round") or [float(acc["real"])] * rounds
    return {"acc_syn": list(acc["syn"]), "acc_random": list(random), "acc_real": list(real),
            **{k: list(result.metrics[k]["per_round"]) for k in ("hlr", "ior", "lrs")}}


def paired(base: list[float], other: list[float]) -> dict[str, Any]:
    """Mean of the per-round differences (other - base) and its standard error (None with one round)."""
    d = [b - a for a, b in zip(base, other)]
    se = statistics.stdev(d) / math.sqrt(len(d)) if len(d) > 1 else None
    return {"delta": statistics.fmean(d), "se": se, "rounds": len(d)}


def undone(proto: Protocol, rule: str) -> Protocol:
    """`proto` with the one correction `rule` names undone (ValueError when it changes nothing there)."""
    other = with_rules(proto, (rule,))
    if other == proto:
        raise ValueError(f"rule {rule} changes nothing in protocol {proto.name}")
    return other


def measure(case: Case, distilled: Any, *, dataset: str = "digits", ipc: int, evaluate: Callable[..., Any],
            rounds: int | None = None) -> dict[str, Any]:
    """One row: `evaluate(protocol=...)` (ddr.evaluate with the set and run options bound) under the case's
    protocol and with its correction undone."""
    base = load_protocol(case.protocol)
    if case.make_variant is not None:
        base = case.make_variant(base)
    other = undone(base, case.rule)
    kw = {"lr": case.set_lr} if case.set_lr is not None else {}
    a = evaluate(protocol=base, distilled=distilled, dataset=dataset, ipc=ipc, rounds=rounds, **kw)
    b = evaluate(protocol=other, distilled=distilled, dataset=dataset, ipc=ipc, rounds=rounds, **kw)
    pa, pb = per_round(a, base), per_round(b, other)
    rule = RULES[case.rule]
    return {"rule": rule.name, "ref": rule.ref, "title": rule.title, "protocol": base.name,
            "protocol_version": base.version, "variant": case.variant or None, "ipc": ipc,
            "undone": _changes(base, other),
            **{q: paired(pa[q], pb[q]) for q in QUANTITIES}}


def _changes(base: Protocol, other: Protocol) -> dict[str, Any]:
    out = edition_changes(base, other)
    if base.hard_dropped != other.hard_dropped:
        out["hard_dropped"] = [list(base.hard_dropped), list(other.hard_dropped)]
    return out


def analytic_rows(result: Any, proto: Protocol) -> list[dict[str, Any]]:
    """The corrections that need no training, from one ddr result: LRS from percentage points (1.5, 6.1.1)
    and each round's LRS appended twice (6.1.2: the mean is unchanged, the reported std is not)."""
    h, i, s = (result.metrics[k]["per_round"] for k in ("hlr", "ior", "lrs"))
    w = result.weight
    pct = [metrics.exp_normalise(100.0 * (w * b - (1.0 - w) * a)) for a, b in zip(h, i)]
    twice = metrics.summarize([x for x in s for _ in (0, 1)])
    once = metrics.summarize(s)
    return [
        {"rule": "lrs-from-percent", "ref": "1.5, 6.1.1", "title": "LRS from percentage points fed into the "
         "exponential", "protocol": proto.name, "protocol_version": proto.version, "lrs": paired(s, pct)},
        {"rule": "lrs-appended-twice", "ref": "6.1.2", "title": "each round's LRS appended twice",
         "protocol": proto.name, "protocol_version": proto.version,
         "lrs_std": {"delta": twice["std"] - once["std"], "se": None, "rounds": len(s)},
         "lrs": {"delta": twice["mean"] - once["mean"], "se": None, "rounds": len(s)}},
    ]


def to_markdown(ledger: dict[str, Any]) -> str:
    """The ledger as the docs show it: one row per correction and protocol, deltas in points (x 100) +- SE."""
    def cell(q: dict[str, Any] | None) -> str:
        if not q:
            return ""
        se = "" if q.get("se") is None else f" ± {100 * q['se']:.2f}"
        return f"{100 * q['delta']:+.2f}{se}"

    lines = [f"Set: {ledger['set']}; rounds per evaluation: as each protocol (paired by round). "
             "Deltas: (with the correction undone) − (ddr), in points (accuracy and HLR/IOR × 100, LRS × 100), "
             "± the standard error of the mean per-round difference.", "",
             "| correction | ref | protocol | measured on | Acc(syn) | Acc(random) | Acc(real) | HLR | IOR | LRS |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in ledger["rows"]:
        shown = {**r, "lrs": r["lrs_std"]} if "lrs_std" in r else r  # 6.1.2 moves the std, not the mean
        lines.append(f"| {r['title']} | {r['ref']} | {r['protocol']}@{r['protocol_version']} | "
                     f"{r.get('variant') or 'the protocol'} | "
                     + " | ".join(cell(shown.get(q)) for q in QUANTITIES) + " |")
    return "\n".join(lines) + "\n"


def build(*, method: str, ipc: int, seed: int, cache_dir: str | None, cases: tuple[Case, ...] = CASES,
          rounds: int | None = None, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure every case on one digits set (`method` distilled at `ipc` with `seed`) and the analytic rows."""
    from ddr.data.real import load_dataset
    from ddr.distill import distill
    from ddr.eval.api import evaluate

    data = load_dataset("digits")
    ds = distill(method, data, ipc, seed=seed)

    def run(**kw: Any) -> Any:
        progress(f"evaluating {kw['protocol'].name} ({kw['protocol'].train.scheduler}, real {kw['protocol'].real.epochs} "
                 f"epochs, ior_random {kw['protocol'].ior_random})")
        return evaluate("lrs", method=method, track=False, cache_dir=cache_dir, **kw)

    import tempfile

    with tempfile.TemporaryDirectory(prefix="ddr-ledger-") as tmp:
        rows = [measure(c, write_folder(ds.images, data, Path(tmp) / f"px{c.folder_px}", c.folder_px)
                        if c.folder_px else ds.images, ipc=ipc, evaluate=run, rounds=rounds) for c in cases]
    for name in sorted({c.protocol for c in cases}):
        proto = load_protocol(name)
        rows += analytic_rows(run(protocol=proto, distilled=ds.images, dataset="digits", ipc=ipc, rounds=rounds),
                              proto)
    return {"schema": LEDGER_SCHEMA, "set": f"digits {method} IPC {ipc} (distillation seed {seed})", "rows": rows}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(LEDGER_FILE))
    ap.add_argument("--markdown", default="docs/correction-ledger.md")
    ap.add_argument("--method", default="herding")
    ap.add_argument("--ipc", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--cache-dir", default=None)
    args = ap.parse_args(argv)
    ledger = build(method=args.method, ipc=args.ipc, seed=args.seed, cache_dir=args.cache_dir)
    Path(args.out).write_text(json.dumps(ledger, indent=2) + "\n")
    md = Path(args.markdown)
    head = md.read_text().split("<!-- ledger -->")[0] if md.is_file() else "# Correction ledger\n\n"
    md.write_text(head + "<!-- ledger -->\n" + to_markdown(ledger))


if __name__ == "__main__":
    main()
