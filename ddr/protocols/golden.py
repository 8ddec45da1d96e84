"""Golden results per protocol version (as lm-evaluation-harness keeps per-task-version test data).

`tests/golden/protocols.json` pins every shipped protocol's content hash per version, so a content change
without a version bump fails the tests; `tests/golden/<protocol>@<version>.json` holds a digits
protocol's full result on a fixed set (herding, IPC 10, seed 0), so a code change that moves a digits
number without a version bump fails them too. After a bump, regenerate with one line:

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python -m ddr.protocols.golden digits-lrs-hard   # results + hashes
    PYTHONPATH=$PWD python -m ddr.protocols.golden --hashes                            # hashes only

Only the numbers and identities are kept (no timings, paths or hosts), so a file changes only when a
number does. Records are computed with oneDNN and ATen capped at AVX2 and MKL on its vendor-neutral
branch (`ddr.kernel.cpu_isa`): their per-CPU kernels add in other orders, and a record must match on
every x86-64 machine, Intel or AMD.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from ddr.kernel.digests import json_sha256
from ddr.protocols import Protocol, list_protocols, load_protocol

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "tests" / "golden"
HASHES = "protocols.json"
GOLDEN_SET = {"method": "herding", "ipc": 10, "seed": 0}
_NOT_CONTENT = ("description", "notes")  # prose: editing it moves no number


def content_sha256(protocol: Protocol) -> str:
    """sha256 of the resolved protocol (includes merged) without its prose fields."""
    raw = {k: v for k, v in protocol.raw.items() if k not in _NOT_CONTENT}
    return json_sha256(raw)


def golden_kind(protocol: Protocol) -> str:
    return "ars" if "-ars-" in protocol.name else "lrs"


def golden_path(protocol: Protocol, root: Path = GOLDEN_DIR) -> Path:
    return root / f"{protocol.ref}.json"


def golden_set(protocol: Protocol):
    """The fixed distilled set: herding at IPC 10 (seed 0); one-hot soft labels for mode S."""
    import torch

    from ddr.data import load_dataset
    from ddr.distill import distill

    data = load_dataset(protocol.dataset)
    ds = distill(GOLDEN_SET["method"], data, GOLDEN_SET["ipc"], seed=GOLDEN_SET["seed"])
    ds.meta["method"] = GOLDEN_SET["method"]
    if protocol.soft is not None and protocol.soft.mode == "S":
        ds.labels = torch.nn.functional.one_hot(ds.hard_labels(data.num_classes), data.num_classes).float()
    return ds


def compute_golden(name: str, cache_dir: str | Path | None = None, rounds: int | None = None) -> dict[str, Any]:
    """Evaluate the golden set under protocol `name` on the CPU; returns the golden record."""
    import torch

    from ddr.eval.api import evaluate

    proto = load_protocol(name)
    with tempfile.TemporaryDirectory() as tmp:
        res = evaluate(golden_kind(proto), distilled=golden_set(proto), dataset=proto.dataset,
                       ipc=GOLDEN_SET["ipc"], protocol=name, rounds=rounds, device="cpu", track=False,
                       cache_dir=cache_dir or tmp)
    return {
        "protocol": {"name": proto.name, "version": proto.version, "content_sha256": content_sha256(proto)},
        "set": {**GOLDEN_SET, "dataset": proto.dataset}, "kind": res.kind, "rounds": res.rounds,
        "torch": torch.__version__.split("+")[0],
        "metrics": {k: v["per_round"] for k, v in res.metrics.items()},
        "accuracies": res.accuracies,
        "trainings": [{k: t[k] for k in ("role", "round", "lr", "seed", "best_acc", "best_epoch")}
                      for t in res.trainings],
    }


def shipped_hashes() -> dict[str, str]:
    return {n: content_sha256(load_protocol(n)) for n in list_protocols()}


def update_hashes(root: Path = GOLDEN_DIR) -> Path:
    """Record each shipped protocol's content hash under its current version (earlier versions kept)."""
    path = root / HASHES
    pinned: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.is_file() else {}
    for name in list_protocols():
        proto = load_protocol(name)
        pinned.setdefault(name, {})[str(proto.version)] = content_sha256(proto)
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(pinned, indent=1, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    from ddr.kernel.cpu_isa import pin_cpu_isa

    pin_cpu_isa()
    import torch

    torch.set_num_threads(1)
    ap = argparse.ArgumentParser(prog="python -m ddr.protocols.golden", description=__doc__.splitlines()[0])
    ap.add_argument("protocols", nargs="*", help="digits protocols whose golden results to (re)compute")
    ap.add_argument("--hashes", action="store_true", help="only record the protocols' content hashes")
    ap.add_argument("--rounds", type=int, default=None, help="fewer rounds than the protocol's (a cheaper record)")
    args = ap.parse_args(argv)
    if not args.hashes:
        with tempfile.TemporaryDirectory() as cache:  # one cache: the real reference is trained once
            for name in args.protocols:
                record = compute_golden(name, cache, rounds=args.rounds)
                out = golden_path(load_protocol(name))
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(json.dumps(record, indent=1) + "\n")
                print(f"wrote {out}", flush=True)
    print(f"wrote {update_hashes()}")


if __name__ == "__main__":
    main()
