"""The self-checking page: index.html carries a signed statement over ranking.json and over what the
page shows, verifies it in the browser (WebCrypto Ed25519 and SHA-256, no network), compares what a
reader sees with it, and shows a verified / not-verified banner.

The page cannot carry the release envelope (the release statement signs the page itself), so the
publisher signs a small page statement first: subjects ``ranking.json`` and ``page-view.json`` with their
sha256, predicate the release version. The page embeds that envelope, the exact ranking.json bytes, the
view (below) and the public keys of the key ids that signed it; a reader compares those key ids with the
ones they trust.

The view is what a reader sees, read from the page as built (page_view): the text of the body, the
text of every cell of every table, every chart's elements and attributes, every element of the body
with its attributes, and the style sheets. In the browser the script reads the same from the rendered page and refuses any
difference: a swapped, edited or injected cell, table or chart, text outside them, a style sheet or
style attribute that was not signed, and any table, cell or chart the browser does not show (hidden,
collapsed, transparent). It also checks rank, method and mean of every ranking table against the
signed ranking.json (static/self_check.js). Page format 1 (page/v1, older releases) compared rank, method
and mean only.
"""
from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddr.kernel.digests import sha256_bytes
from registry import PAGE_PREDICATE_TYPE_V2
from registry.keyring import keyid_of, public_raw
from registry.signing import sign_statement, statement

SCRIPT_ID = "ddr-signed-ranking"
BANNER_ID = "ddr-verify"
_WS = re.compile(r"[ \t\n\f\r]+")  # the HTML whitespace the script collapses alike (not JS's wider \s)


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip(" ")


class _Reader(HTMLParser):
    """The view of a page as the browser builds its DOM from our own markup (for pages ddr renders)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_body, self.raw, self.svg_depth = False, None, 0
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.open_tables: list[list[list[str]]] = []
        self.open_cells: list[list[str]] = []
        self.charts: list[list] = []
        self.elements: list[list] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self.raw = tag
            if tag == "style":
                self.styles.append("")
        if tag == "body":
            self.in_body = True
            return
        if self.in_body:
            self.elements.append([tag, sorted([k, "" if v is None else v] for k, v in attrs)])
        if tag == "table":
            self.open_tables.append([])
            self.tables.append(self.open_tables[-1])
        elif tag == "tr" and self.open_tables:
            self.open_tables[-1].append([])
        elif tag in ("td", "th") and self.open_tables and self.open_tables[-1]:
            self.open_cells.append([])
            self.open_tables[-1][-1].append(self.open_cells[-1])
        if tag == "svg":
            if not self.svg_depth:
                self.charts.append([])
            self.svg_depth += 1
        if self.svg_depth:
            self.charts[-1].append([tag, sorted([k, "" if v is None else v] for k, v in attrs)])

    def handle_endtag(self, tag: str) -> None:
        if tag == self.raw:
            self.raw = None
        elif tag == "table" and self.open_tables:
            self.open_tables.pop()
        elif tag in ("td", "th") and self.open_cells:
            self.open_cells.pop()
        elif tag == "svg" and self.svg_depth:
            self.svg_depth -= 1

    def handle_data(self, data: str) -> None:
        if self.raw == "style":
            self.styles[-1] += data
        if self.raw or not self.in_body:
            return
        self.text.append(data)
        for cell in self.open_cells:
            cell.append(data)


def page_view(page: str) -> dict:
    """What a reader sees on a page ddr rendered: the body's text, every table's cell texts (rows of
    cells, whitespace collapsed), every chart's elements with their attributes, the body's elements
    with their attributes in document order and the style sheets' text. The page's script reads the same from the DOM."""
    r = _Reader()
    r.feed(page.replace("\r\n", "\n").replace("\r", "\n"))  # as a browser's input stream does, attributes too
    r.close()
    return {"text": _norm("".join(r.text)),
            "tables": [[[_norm("".join(c)) for c in row] for row in t] for t in r.tables],
            "charts": r.charts, "elements": r.elements, "styles": r.styles}


VIEW_NAME = "page-view.json"


def sign_page_statement(ranking_bytes: bytes, view_bytes: bytes, version: str, keys: list[Ed25519PrivateKey]) -> dict:
    """A DSSE envelope over {subjects: ranking.json and page-view.json sha256, predicate: {version}}."""
    stmt = statement({"ranking.json": sha256_bytes(ranking_bytes), VIEW_NAME: sha256_bytes(view_bytes)},
                     {"version": version}, PAGE_PREDICATE_TYPE_V2)
    return sign_statement(stmt, keys)


def self_check_data(view: dict, ranking_bytes: bytes, version: str, keys: list[Ed25519PrivateKey],
                    threshold: int = 1) -> dict:
    """The JSON block the page's script reads (static/self_check.js): the signed ranking, the signed view
    (page_view of the page as rendered with an empty block: script contents are not part of the view)
    and the page statement's envelope over both."""
    view_bytes = json.dumps(view, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return {"version": version, "predicateType": PAGE_PREDICATE_TYPE_V2, "threshold": threshold,
            "envelope": sign_page_statement(ranking_bytes, view_bytes, version, keys),
            "keys": {keyid_of(k.public_key()): public_raw(k.public_key()).hex() for k in keys},
            "ranking": base64.b64encode(ranking_bytes).decode("ascii"),
            "view": base64.b64encode(view_bytes).decode("ascii")}


__all__ = ["page_view", "self_check_data", "sign_page_statement", "BANNER_ID", "SCRIPT_ID"]
