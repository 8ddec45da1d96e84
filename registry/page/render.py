"""The release page (index.html): a static HTML page from the Jinja2 templates beside this module, with
autoescaping, inline SVG charts, an inline JS sort and, when signed, the in-page self-check (no network).

The templates get plain values: everything a reader sees is computed here (cells, captions) or in
charts.py (geometry), so the same ranking always gives the same bytes.
"""
from __future__ import annotations

from importlib.resources import files

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jinja2 import Environment, PackageLoader, StrictUndefined

from registry.attest import format_reproductions
from registry.page import charts
from registry.page.certainty import beats_random_sort_value, beats_random_text, label_caption, table_notes
from registry.page.self_check import SCRIPT_ID, page_view, self_check_data
from registry.page.text import components_text, fmt
from registry.ranking import table_key


def _static(name: str) -> str:
    """A style sheet or script shipped with the package (static/); the template inserts it unescaped."""
    return files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def _environment() -> Environment:
    env = Environment(loader=PackageLoader(__package__, "templates"), autoescape=True, keep_trailing_newline=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(px=lambda v: f"{v:.1f}", fixed=lambda v, digits: f"{v:.{digits}f}", g=lambda v: f"{v:g}",
                       tau=lambda v: "—" if v is None else f"{v:+.2f}")
    env.globals.update(font=charts.FONT, zip=zip)
    return env


_ENV = _environment()


def _cell(sort: object, text: object, cls: str = "") -> dict:
    return {"sort": sort, "text": text, "cls": cls}


def _row_cells(r: dict) -> list[dict]:
    lo, hi = r["rank_interval"]
    protocol = r["protocol"]
    return [_cell(r["rank"], r["rank"]), _cell(r["method"], r["method"], "t"),
            _cell(r["mean"], fmt(r["mean"])), _cell(r["std"], fmt(r["std"])),
            _cell(lo + hi / 1000.0, f"{lo}–{hi}"),
            _cell("" if r["p_rank1"] is None else r["p_rank1"], fmt(r["p_rank1"], 3) or "—"),
            _cell("" if r["p_beats_next"] is None else r["p_beats_next"], fmt(r["p_beats_next"], 3) or "—"),
            _cell(beats_random_sort_value(r), beats_random_text(r), "t"),
            _cell(components_text(r), components_text(r), "t"),
            _cell(protocol.get("name"), f"{protocol.get('name')} v{protocol.get('version')}", "t")]


def _table(t: dict, confidence: float) -> dict:
    headers = [("rank", ""), ("method", "t"), ("mean", ""), ("std", ""), (f"{int(confidence * 100)}% rank", ""),
               ("P(rank 1)", ""), ("P(>next)", ""), ("vs random (95%)", "t"), ("components", "t"), ("protocol", "t")]
    return {"key": table_key(t), "dataset": t["dataset"], "ipc": t["ipc"], "caption": label_caption(t),
            "score": t["score"].upper(), "notes": table_notes(t), "headers": headers,
            "rows": [_row_cells(r) for r in t["rows"]], "figures": charts.table_figures(t, confidence)}


def _per_class(ranking: dict) -> list[dict]:
    """Per ranking table whose rows carry per-class accuracy: those rows and the number of classes."""
    out = []
    for t in ranking["tables"]:
        rows = [r for r in t["rows"] if r.get("per_class_accuracy")]
        if rows:
            out.append({"key": table_key(t), "caption": label_caption(t), "rows": rows,
                        "classes": max(len(r["per_class_accuracy"]) for r in rows)})
    return out


def render_page(ranking: dict, version: str, meta: dict | None = None, sensitivity: dict | None = None,
                reproduced: dict[str, list[str]] | None = None, cells: list[str] | None = None, *,
                sign: tuple[bytes, list[Ed25519PrivateKey], int] | None = None) -> str:
    """index.html of a release: its tables, charts, per-class accuracy, sensitivity and the reproductions
    known at publication (reproduced: {cell id: key ids}, over `cells`). With sign = (the exact ranking.json
    bytes, the keys, the threshold) the page carries its self-check: the view of the page as rendered
    (page_view) signed with the ranking."""
    draws = ranking["posterior_draws"]
    reproduced = reproduced or {}
    context = {"version": version, "meta": list((meta or {}).items()), "draws": draws,
               "tables": [_table(t, draws["confidence"]) for t in ranking["tables"]],
               "per_class": _per_class(ranking), "sensitivity": sensitivity,
               "reproductions": format_reproductions({c: {"match": reproduced.get(c, []), "mismatch": []}
                                                      for c in cells or []}, cells or []),
               "css": _static("page.css"), "sort_script": _static("sort.js")}
    template = _ENV.get_template("page.html.j2")
    if sign is None:
        return template.render(context, self_check=None)
    ranking_bytes, keys, threshold = sign
    # the view is read from the page with an empty self-check block: the blocks' elements are in it, their
    # contents (script text) never are, so it is the view of the final page too
    empty = {"id": SCRIPT_ID, "data": {}, "script": ""}
    view = page_view(template.render(context, self_check=empty))
    data = self_check_data(view, ranking_bytes, version, keys, threshold)
    return template.render(context, self_check={"id": SCRIPT_ID, "data": data, "script": _static("self_check.js")})
