"""The page section of sensitivity.json: how the ranking moves with the weight, the labels, the selection."""
from __future__ import annotations

import html


def _tau(x: float | None) -> str:
    return "—" if x is None else f"{x:+.2f}"


def sensitivity_html(sens: dict) -> str:
    e = html.escape
    out = ['<section id="sensitivity"><h2>Sensitivity of the ranking</h2>',
           f"<p>{e(sens['note'])}. Data: <code>sensitivity.json</code>.</p>"]
    for s in sens["weight"]:
        ws = [f"{w:g}" for w in s["weights"]]
        out.append(f"<h3>{e(s['table'])}: weight (published w = {e(str(s['published_weight']))})</h3>")
        out.append('<table class="sens"><thead><tr><th class="t">w</th>' + "".join(f"<th>{w}</th>" for w in ws)
                   + '<th class="t">order at w</th></tr></thead><tbody>')
        for w, row in zip(ws, s["tau"]):
            out.append(f'<tr><td class="t">{w}</td>' + "".join(f"<td>{_tau(x)}</td>" for x in row)
                       + f'<td class="t">{e(" > ".join(s["order"][w]))}</td></tr>')
        out.append("</tbody></table>")
    pairs = sens["labels"] + sens["selection"]
    if pairs:
        out.append('<table class="sens"><thead><tr><th class="t">comparison</th><th class="t">tables</th>'
                   "<th>methods</th><th>Kendall tau</th></tr></thead><tbody>")
        for p in pairs:
            out.append(f'<tr><td class="t">{e(p["compare"])}</td><td class="t">{e(" vs ".join(p["tables"]))}</td>'
                       f"<td>{len(p['methods'])}</td><td>{_tau(p['tau'])}</td></tr>")
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)
