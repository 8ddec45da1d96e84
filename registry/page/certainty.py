"""The text of rank certainty on every rendering: the beats-random verdict, table flags, label captions."""
from __future__ import annotations

from registry.ranking import COMBINED_LABEL

VERDICT_MARK = {"above": "above 0", "straddles": "straddles 0", "below": "below 0", "unknown": "n/a (1 round)"}


def beats_random_text(row: dict) -> str:
    """'above 0 [0.012, 0.034]': where the 95% interval of the improvement over random lies."""
    b = row.get("beats_random")
    if not b:
        return ""
    text = VERDICT_MARK.get(b["verdict"], b["verdict"])
    if b.get("interval"):
        text += f" [{b['interval'][0]:.4f}, {b['interval'][1]:.4f}]"
    return text


def beats_random_sort_value(row: dict) -> float:
    b = row.get("beats_random") or {}
    return b["interval"][0] if b.get("interval") else -1e9  # sorts last; the page sorts numerically


def label_caption(t: dict) -> str:
    text = "all labels (one LRS scale)" if t["label"] == COMBINED_LABEL else f"{t['label']} labels"
    return text + (f" · {t['selection']}-selected" if t.get("selection", "test") != "test" else "") + \
        (f" · student {t['student']}" if t.get("student") else "") + \
        (f" · edition {t['edition']}" if t.get("edition") else "")


def table_notes(t: dict) -> list[str]:
    """One line per flag of the table, and the kind of rank certainty used."""
    notes = [f"flag: {f}" for f in t.get("flags", [])]
    if t.get("certainty") == "unpaired":
        why = f" ({t['unpaired_reason']})" if t.get("unpaired_reason") else ""
        notes.append(f"rounds are not paired across these methods{why}: certainty per method")
    return notes
