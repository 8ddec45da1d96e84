"""User-facing errors: one line on stderr, exit status 2, nothing written."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class DDRError(Exception):
    """Bad input or a request ddr cannot honour. The CLI prints it as one line and exits 2."""

    exit_code = 2


def unknown(kind: str, name: str, known: Iterable[str], list_valid: bool = False) -> DDRError:
    """An 'unknown X' error with a did-you-mean suggestion drawn from the known names, or with
    `list_valid` every valid name in the given order (for short, fixed lists)."""
    if list_valid:
        return DDRError(f"unknown {kind} '{name}'; valid: {', '.join(known)}")
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    if not close:  # case-insensitive second chance: 'convnet-3' -> 'ConvNet-3'
        lowered = {k.lower(): k for k in known}
        hit = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
        close = [lowered[h] for h in hit]
    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(known)}"
    return DDRError(f"unknown {kind} '{name}'{hint}")
