"""The page section of per-class accuracy: which classes each method gets right (from its predictions)."""
from __future__ import annotations

import html

from registry.ranking import table_key
from registry.render_certainty import label_caption


def per_class_html(ranking: dict) -> str:
    """One table per ranking table whose rows carry per-class accuracy; empty when none does."""
    e = html.escape
    parts = []
    for t in ranking["tables"]:
        rows = [r for r in t["rows"] if r.get("per_class_accuracy")]
        if not rows:
            continue
        k = max(len(r["per_class_accuracy"]) for r in rows)
        parts.append(f"<h3>{e(table_key(t))} · {e(label_caption(t))}</h3>")
        # sortable and laid out as a ranking table, but not one: the self-check compares it as shown only
        parts.append('<table class="rank classes"><thead><tr><th class="t">method</th>'
                     + "".join(f"<th>{c}</th>" for c in range(k)) + "</tr></thead><tbody>")
        for r in rows:
            parts.append(f'<tr><td class="t" data-v="{e(r["method"])}">{e(r["method"])}</td>'
                         + "".join(f'<td data-v="{v}">{v:.3f}</td>' for v in r["per_class_accuracy"]) + "</tr>")
        parts.append("</tbody></table>")
    if not parts:
        return ""
    return ('<section id="per-class"><h2>Per-class test accuracy</h2><p>The distilled set\'s training at the '
            "reported checkpoint, mean over rounds, from the per-image predictions.</p>\n"
            + "\n".join(parts) + "</section>")
