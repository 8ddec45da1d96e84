"""The JSON Schemas of ddr's records, generated from their models (ddr/protocols, ddr/eval/result_record.py,
registry/ranking_record.py) into docs/schemas/; tests/registry/test_record_schemas.py checks the committed
files equal what the models give.

    python -m pipelines.record_schemas --out docs/schemas          # write
    python -m pipelines.record_schemas --out docs/schemas --check  # exit 1 when a file differs
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://ddr.dev/schemas/"


def record_types() -> dict[str, tuple[Any, str]]:
    """name -> (the record's type, what its schema describes)."""
    from ddr.eval.result import result_model
    from ddr.protocols import Protocol, TrainRecipe
    from registry.ranking_record import Ranking

    return {
        "protocol": (Protocol, "An evaluation protocol as `ddr protocols show NAME` prints it: its YAML with the "
                               "include chain merged (`include:` and `abstract:` are resolved before this)."),
        "recipe": (TrainRecipe, "How one student (or teacher) is trained: a protocol's `train`, `real` and "
                                "`soft.teachers[].train`."),
        "result": (result_model(), "A result.json: one evaluation, as ddr eval writes it and the registry reads it."),
        "ranking": (Ranking, "A ranking.json (a release's, or `ddr rank --out`)."),
    }


def json_schemas() -> dict[str, dict[str, Any]]:
    from ddr.records.validation import adapter

    out = {}
    for name, (tp, what) in record_types().items():
        schema = adapter(tp).json_schema()
        out[name] = {"$schema": DIALECT, "$id": f"{BASE_ID}{name}.schema.json", **schema, "description": what}
    return out


def rendered() -> dict[str, str]:
    """File name -> text, as committed under docs/schemas/."""
    return {f"{name}.schema.json": json.dumps(s, indent=2) + "\n" for name, s in json_schemas().items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/schemas"))
    ap.add_argument("--check", action="store_true", help="Write nothing; exit 1 when a file is missing or differs.")
    args = ap.parse_args(argv)
    stale = []
    for name, text in rendered().items():
        path = args.out / name
        if path.is_file() and path.read_text() == text:
            continue
        stale.append(str(path))
        if not args.check:
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check and stale:
        print(f"stale: {', '.join(stale)}; run python -m pipelines.record_schemas --out {args.out}", file=sys.stderr)
        return 1
    print(f"{'stale' if args.check else 'wrote'}: {', '.join(stale) or 'nothing (up to date)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
