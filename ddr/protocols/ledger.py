"""The committed correction ledger (ledger.json beside the protocols), read side: the rows of given protocols.

ddr.eval.ledger measures it (`python -m ddr.eval.ledger`); docs/correction-ledger.md shows it; a release copies
the rows of the protocols it ranks into its signed provenance.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LEDGER_SCHEMA = "ddr.ledger/v1"
LEDGER_FILE = Path(__file__).resolve().parent / "ledger.json"


def rows_for(protocols: list[tuple[str, int]], path: Path = LEDGER_FILE) -> list[dict[str, Any]]:
    """The ledger's rows for the given (name, version) pairs (none when the file is absent)."""
    if not path.is_file():
        return []
    want = {(n, int(v)) for n, v in protocols}
    return [r for r in json.loads(path.read_text())["rows"] if (r["protocol"], int(r["protocol_version"])) in want]
