"""The correction ledger: what each of ddr's corrections to DD-Ranking does to a number, measured.

For each correction that a rule of ddr.protocols.editions undoes, one distilled set is evaluated twice under
the same protocol, seeds and data: as ddr computes it, and with that one correction undone. Rounds share
their seeds (the seeds do not depend on the recipe's fields a rule changes, except the random side's,
which follow the recipe), so the per-round differences are paired; the ledger gives their mean and
standard error for Acc(syn), Acc(random), Acc(real), HLR, IOR and LRS. Two corrections need no training and
are computed from the ddr result itself: LRS from percentage points (reference 1.5, defect 6.1.1) and each
round's LRS appended twice (6.1.2). One DD-Ranking behaviour is no recipe field (BEHAVIOURS): teachers not
frozen (6.1.17); its undone side is the same protocol trained through a trainer of ddr.eval.ddranking_trainers,
without the training cache.

    python -m ddr.eval.ledger --out ddr/protocols/ledger.json --markdown docs/correction-ledger.md
    python -m ddr.eval.ledger --only jpeg-random-baselines   # measure some cases again, merged into --out

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
ANALYTIC_RULES = ("lrs-from-percent", "lrs-appended-twice")  # analytic_rows' rules


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
    cifar: bool = False  # on the digits written as a CIFAR-10 folder (ddr.data.digits_cifar), set distilled there
    rounds: int | None = None  # rounds of this case's evaluations (None: as the build, else the protocol's)


@dataclass(frozen=True)
class Behaviour:
    """A DD-Ranking behaviour that no recipe field (and so no edition rule) states: its undone side is the
    same protocol trained through a trainer of ddr.eval.ddranking_trainers, without the training cache."""

    name: str
    ref: str
    title: str
    undone: dict[str, list[str]]  # what changes, [ddr, DD-Ranking], as the edition rows' `undone`
    trainer: Callable[[Any, Protocol, int, int], Callable[..., Any]]  # (data, protocol, ipc, rounds) -> trainer


def _teachers_trainer(data: Any, proto: Protocol, ipc: int, rounds: int) -> Callable[..., Any]:
    from ddr.eval.ddranking_trainers import teachers_not_frozen

    return teachers_not_frozen


BEHAVIOURS: dict[str, Behaviour] = {b.name: b for b in (
    Behaviour("teachers-not-frozen", "6.1.17", "teachers not frozen: requires_grad, no no_grad, SCE/MSE-GT "
              "not detached (eval mode kept, as DD-Ranking's loop set it)",
              {"teachers": ["frozen, under no_grad, targets detached",
                            "requires_grad, with gradient, SCE/MSE-GT targets not detached, eval mode"]},
              _teachers_trainer),
)}


def _cosine(p: Protocol) -> Protocol:
    return dataclasses.replace(p, train=dataclasses.replace(p.train, scheduler="cosineannealing"))


def _method_lr(p: Protocol) -> Protocol:
    return dataclasses.replace(p, lr_policy="method")


def _crop(p: Protocol) -> Protocol:
    return dataclasses.replace(p, train=dataclasses.replace(p.train, augmentation={"name": "rrc", "scale": [0.5, 1.0]}))


def _sce(p: Protocol) -> Protocol:
    return dataclasses.replace(p, train=dataclasses.replace(p.train, loss="sce"))


def _cifar_image(p: Protocol) -> Protocol:
    # a CPU-sized CIFAR recipe (the CIFAR protocols' ConvNet-3, narrow, 50 epochs) whose DD-Ranking config set
    # random_data_format image (as D4M's, SRe2L's and RDED's CIFAR configs did)
    return dataclasses.replace(p, dataset="cifar10", model="ConvNet-3", model_args={"width": 16},
                               train=dataclasses.replace(p.train, epochs=50, step_size=25), random_data_format="image")


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
    Case("teachers-not-frozen", "digits-lrs-soft", "train.loss sce, T 1 (under the protocol's KL, DD-Ranking "
         "detached the target too)", _sce),
    Case("jpeg-random-baselines", "digits-lrs-hard", "the digits as a CIFAR-10 folder (32 px RGB, "
         "ddr.data.digits_cifar), the set distilled there; ConvNet-3 width 16, 50 epochs (step 25); 10 rounds; "
         "random_data_format image", _cifar_image, cifar=True, rounds=10),
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


def measure(case: Case, distilled: Any, *, dataset: str = "digits", root: str | None = None, ipc: int,
            evaluate: Callable[..., Any], rounds: int | None = None) -> dict[str, Any]:
    """One row: `evaluate(protocol=...)` (an evaluation with the set and run options bound) under the case's
    protocol and with its correction undone: an edition rule's recipe, or a behaviour's `trainer=`."""
    base = load_protocol(case.protocol)
    if case.make_variant is not None:
        base = case.make_variant(base)
    kw: dict[str, Any] = {"distilled": distilled, "dataset": dataset, "root": root, "ipc": ipc, "rounds": rounds}
    if case.set_lr is not None:
        kw["lr"] = case.set_lr
    a = evaluate(protocol=base, **kw)
    behaviour = BEHAVIOURS.get(case.rule)
    if behaviour is None:
        other = undone(base, case.rule)
        rule = RULES[case.rule]
        name, ref, title, changes = rule.name, rule.ref, rule.title, _changes(base, other)
        b = evaluate(protocol=other, **kw)
    else:
        from ddr.data.real import load_dataset

        other = base
        name, ref, title, changes = behaviour.name, behaviour.ref, behaviour.title, behaviour.undone
        trainer = behaviour.trainer(load_dataset(dataset, root), base, ipc, rounds or base.rounds)
        b = evaluate(protocol=other, trainer=trainer, **kw)
    pa, pb = per_round(a, base), per_round(b, other)
    return {"rule": name, "ref": ref, "title": title, "protocol": base.name,
            "protocol_version": base.version, "variant": case.variant or None, "ipc": ipc,
            "undone": changes,
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
          rounds: int | None = None, analytic: bool = True,
          progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure every case on one digits set (`method` distilled at `ipc` with `seed`; a `cifar` case on the
    same method's set distilled from the digits written as a CIFAR-10 folder) and, with `analytic`, the
    analytic rows. A behaviour's undone side runs without the training cache."""
    import tempfile

    from ddr.data.digits_cifar import write_digits_cifar
    from ddr.data.real import load_dataset
    from ddr.distill import distill
    from ddr.eval.api import run_evaluation
    from ddr.eval.request import EvalRequest
    from ddr.train.engine import train_student

    data = load_dataset("digits")
    ds = distill(method, data, ipc, seed=seed)

    def run(*, trainer: Callable[..., Any] | None = None, **kw: Any) -> Any:
        p = kw["protocol"]
        progress(f"evaluating {p.name} on {kw['dataset']} ({p.train.scheduler}, real {p.real.epochs} epochs, "
                 f"ior_random {p.ior_random}{', as DD-Ranking trained, uncached' if trainer else ''})")
        request = EvalRequest("lrs", method=method, track=False, cache_dir=cache_dir, use_cache=trainer is None,
                              **kw)
        return run_evaluation(request, trainer=trainer or train_student)

    with tempfile.TemporaryDirectory(prefix="ddr-ledger-") as tmp:
        rows = []
        for c in cases:
            if c.cifar:
                root = str(write_digits_cifar(Path(tmp) / "digits-cifar")[0].parent)
                cifar_set = distill(method, load_dataset("cifar10", root), ipc, seed=seed).images
                rows.append(measure(c, cifar_set, dataset="cifar10", root=root, ipc=ipc, evaluate=run,
                                    rounds=c.rounds or rounds))
                continue
            distilled = write_folder(ds.images, data, Path(tmp) / f"px{c.folder_px}", c.folder_px) \
                if c.folder_px else ds.images
            rows.append(measure(c, distilled, ipc=ipc, evaluate=run, rounds=c.rounds or rounds))
    for name in sorted({c.protocol for c in cases}) if analytic else ():
        proto = load_protocol(name)
        rows += analytic_rows(run(protocol=proto, distilled=ds.images, dataset="digits", ipc=ipc, rounds=rounds),
                              proto)
    return {"schema": LEDGER_SCHEMA, "set": f"digits {method} IPC {ipc} (distillation seed {seed})", "rows": rows}


def merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`old` with the rows `new` measured again (same rule and protocol) replaced, and new ones added after
    the last row of a case (before the analytic rows)."""
    fresh = {(r["rule"], r["protocol"]): r for r in new["rows"]}
    rows = [fresh.pop((r["rule"], r["protocol"]), r) for r in old["rows"]]
    analytic = next((i for i, r in enumerate(rows) if r["rule"] in ANALYTIC_RULES), len(rows))
    rows[analytic:analytic] = list(fresh.values())
    return {**old, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(LEDGER_FILE))
    ap.add_argument("--markdown", default="docs/correction-ledger.md")
    ap.add_argument("--method", default="herding")
    ap.add_argument("--ipc", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--only", nargs="+", metavar="RULE", choices=sorted({c.rule for c in CASES}),
                    help="measure only these cases and merge their rows into the ledger at --out")
    args = ap.parse_args(argv)
    if args.only:
        cases = tuple(c for c in CASES if c.rule in args.only)
        ledger = merged(json.loads(Path(args.out).read_text()),
                        build(method=args.method, ipc=args.ipc, seed=args.seed, cache_dir=args.cache_dir,
                              cases=cases, analytic=False))
    else:
        ledger = build(method=args.method, ipc=args.ipc, seed=args.seed, cache_dir=args.cache_dir)
    Path(args.out).write_text(json.dumps(ledger, indent=2) + "\n")
    md = Path(args.markdown)
    head = md.read_text().split("<!-- ledger -->")[0] if md.is_file() else "# Correction ledger\n\n"
    md.write_text(head + "<!-- ledger -->\n" + to_markdown(ledger))


if __name__ == "__main__":
    main()
