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
signed ranking.json. Page format 1 (page/v1, older releases) compared rank, method and mean only.
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

_JS = r"""
(function () {
  var banner = document.createElement('div');
  banner.id = 'ddr-verify';
  banner.setAttribute('data-state', 'checking');
  banner.textContent = 'Checking signature\u2026';
  banner.style.cssText = 'padding:8px 12px;margin-bottom:1em;font-weight:bold;border:2px solid #999';
  document.body.insertBefore(banner, document.body.firstChild);
  function show(ok, text) {
    banner.setAttribute('data-state', ok ? 'verified' : 'not-verified');
    banner.textContent = (ok ? '\u2714 VERIFIED: ' : '\u2718 NOT VERIFIED: ') + text;
    banner.style.background = ok ? '#e6f6e6' : '#fde8e8';
    banner.style.borderColor = ok ? '#2a2' : '#c22';
  }
  function b64(s) { var b = atob(s), u = new Uint8Array(b.length); for (var i = 0; i < b.length; i++) u[i] = b.charCodeAt(i); return u; }
  function hex(buf) { return Array.prototype.map.call(new Uint8Array(buf), function (x) { return ('0' + x.toString(16)).slice(-2); }).join(''); }
  function unhex(h) { var u = new Uint8Array(h.length / 2); for (var i = 0; i < u.length; i++) u[i] = parseInt(h.substr(2 * i, 2), 16); return u; }
  function cat(a, b) { var u = new Uint8Array(a.length + b.length); u.set(a); u.set(b, a.length); return u; }
  function all(list) { return Array.prototype.slice.call(list); }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function norm(s) { return s.replace(/[ \t\n\f\r]+/g, ' ').replace(/^ | $/g, ''); }
  function textOf(node) {  // the text under node a reader sees: no script or style, not the banner
    var out = '';
    (function walk(n) {
      for (var c = n.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3) out += c.nodeValue;
        else if (c.nodeType === 1 && c !== banner && !/^(script|style)$/i.test(c.localName)) walk(c);
      }
    })(node);
    return out;
  }
  function attrs(e) {
    return all(e.attributes).map(function (a) { return [a.name.toLowerCase(), a.value]; })
      .sort(function (x, y) { return x[0] < y[0] ? -1 : (x[0] > y[0] ? 1 : 0); });
  }
  function shown(e) {  // rendered, in a box, and neither hidden nor transparent up to the root
    if (!e.getClientRects().length) return false;
    for (; e && e.nodeType === 1; e = e.parentElement) {
      var cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility !== 'visible' || Number(cs.opacity) === 0 || cs.contentVisibility === 'hidden') return false;
    }
    return true;
  }
  function seen() {  // what the reader sees, read as page_view reads the page it was built from
    return {
      text: norm(textOf(document.body)),
      tables: all(document.querySelectorAll('table')).map(function (t) {
        return all(t.rows).map(function (r) { return all(r.cells).map(function (c) { return norm(textOf(c)); }); });
      }),
      charts: all(document.querySelectorAll('svg')).map(function (s) {
        return [s].concat(all(s.querySelectorAll('*'))).map(function (e) { return [e.localName.toLowerCase(), attrs(e)]; });
      }),
      elements: all(document.body.querySelectorAll('*')).filter(function (e) { return e !== banner && !banner.contains(e); })
        .map(function (e) { return [e.localName.toLowerCase(), attrs(e)]; }),
      styles: all(document.querySelectorAll('style')).map(function (s) { return s.textContent; })
    };
  }
  function compare(want, ranking) {
    var got = seen();
    if (!same(got.styles, want.styles) || document.styleSheets.length !== want.styles.length || document.querySelector('link'))
      throw new Error('the page carries style sheets that were not signed');
    if (all(document.querySelectorAll('[style]')).some(function (e) { return e !== banner; }))
      throw new Error('an element of the page carries a style attribute that was not signed');
    if (got.tables.length !== want.tables.length)
      throw new Error('the page shows ' + got.tables.length + ' tables, the signed page has ' + want.tables.length);
    var tables = document.querySelectorAll('table');
    for (var t = 0; t < want.tables.length; t++) {
      for (var r = 0; r < Math.max(got.tables[t].length, want.tables[t].length); r++)
        if (!same(got.tables[t][r], want.tables[t][r]))
          throw new Error('table ' + (t + 1) + ', row ' + (r + 1) + ' differs from the signed ranking');
      if (!shown(tables[t]) || all(tables[t].rows).some(function (row) { return all(row.cells).some(function (c) { return !shown(c); }); }))
        throw new Error('table ' + (t + 1) + ' is hidden from the reader');
    }
    var svgs = document.querySelectorAll('svg');
    if (got.charts.length !== want.charts.length)
      throw new Error('the page shows ' + got.charts.length + ' charts, the signed page has ' + want.charts.length);
    for (var k = 0; k < want.charts.length; k++) {
      if (!same(got.charts[k], want.charts[k])) throw new Error('chart ' + (k + 1) + ' differs from the signed chart data');
      if (!shown(svgs[k])) throw new Error('chart ' + (k + 1) + ' is hidden from the reader');
    }
    if (!same(got.elements, want.elements)) throw new Error('the page holds elements or attributes the signed page does not');
    if (got.text !== want.text) throw new Error('the text shown differs from the signed page');
    var ranked = all(tables).filter(function (e) { return e.classList.contains('rank') && !e.classList.contains('classes'); });
    if (ranked.length !== ranking.tables.length) throw new Error('the page shows ' + ranked.length + ' ranking tables, the signed ranking has ' + ranking.tables.length);
    for (t = 0; t < ranked.length; t++) {  // the signed view itself against the signed ranking
      var heads = all(ranked[t].tHead.rows[0].cells).map(function (c) { return norm(c.textContent); });
      var col = { rank: heads.indexOf('rank'), method: heads.indexOf('method'), mean: heads.indexOf('mean') };
      var rows = ranked[t].tBodies[0].rows, want_rows = ranking.tables[t].rows;
      if (col.rank < 0 || col.method < 0 || col.mean < 0 || rows.length !== want_rows.length) throw new Error('table ' + (t + 1) + ' does not match the signed ranking');
      for (r = 0; r < rows.length; r++) {
        var c = rows[r].cells, w = want_rows[r];
        if (norm(c[col.method].textContent) !== norm(w.method) || c[col.rank].textContent !== String(w.rank) ||
            !(Math.abs(Number(c[col.mean].textContent) - w.mean) <= 0.0000501))
          throw new Error('table ' + (t + 1) + ', row ' + (r + 1) + ' (' + w.method + ') differs from the signed ranking');
      }
    }
  }
  var enc = new TextEncoder();
  async function check() {
    if (!window.crypto || !crypto.subtle) throw new Error('this browser has no WebCrypto');
    var data = JSON.parse(document.getElementById('ddr-signed-ranking').textContent);
    var env = data.envelope, payload = b64(env.payload), type = enc.encode(env.payloadType);
    var pae = cat(enc.encode('DSSEv1 ' + type.length + ' ' + env.payloadType + ' ' + payload.length + ' '), payload);
    var valid = {};
    for (var i = 0; i < env.signatures.length; i++) {
      var s = env.signatures[i], pubhex = data.keys[s.keyid];
      if (!pubhex) continue;
      var pub = unhex(pubhex);
      if (hex(await crypto.subtle.digest('SHA-256', pub)) !== s.keyid) continue;
      var key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
      if (await crypto.subtle.verify({ name: 'Ed25519' }, key, b64(s.sig), pae)) valid[s.keyid] = true;
    }
    var signers = Object.keys(valid);
    if (signers.length < Math.max(1, data.threshold)) throw new Error('no valid signature by the key ids this page names');
    var stmt = JSON.parse(new TextDecoder().decode(payload));
    if (stmt.predicateType !== data.predicateType || stmt.predicate.version !== data.version)
      throw new Error('the signed statement is not for this page (release ' + stmt.predicate.version + ')');
    async function signed(name, b64text) {
      var subj = stmt.subject.filter(function (x) { return x.name === name; })[0], bytes = b64(b64text);
      if (!subj || hex(await crypto.subtle.digest('SHA-256', bytes)) !== subj.digest.sha256)
        throw new Error('the ' + (name === 'ranking.json' ? 'ranking data' : 'page view') + ' differs from the signed digest');
      return JSON.parse(new TextDecoder().decode(bytes));
    }
    var ranking = await signed('ranking.json', data.ranking), view = await signed('page-view.json', data.view);
    compare(view, ranking);
    return signers;
  }
  check().then(function (signers) {
    show(true, 'the ranking shown is release ' + JSON.parse(document.getElementById('ddr-signed-ranking').textContent).version +
         ', signed by key ' + signers.map(function (k) { return k.slice(0, 16); }).join(', ') + ' (compare with the key ids you trust)');
  }, function (err) { show(false, err.message); });
})();
"""

VIEW_NAME = "page-view.json"


def sign_page_statement(ranking_bytes: bytes, view_bytes: bytes, version: str, keys: list[Ed25519PrivateKey]) -> dict:
    """A DSSE envelope over {subjects: ranking.json and page-view.json sha256, predicate: {version}}."""
    stmt = statement({"ranking.json": sha256_bytes(ranking_bytes), VIEW_NAME: sha256_bytes(view_bytes)},
                     {"version": version}, PAGE_PREDICATE_TYPE_V2)
    return sign_statement(stmt, keys)


def embed_self_check(page: str, ranking_bytes: bytes, version: str, keys: list[Ed25519PrivateKey],
                     threshold: int = 1) -> str:
    """The page with the signed ranking, its signed view and the checking script inserted before </body>."""
    view = page_view(page)
    view["elements"] += [["script", [["id", SCRIPT_ID], ["type", "application/json"]]], ["script", []]]  # the blocks below
    view_bytes = json.dumps(view, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    data = {"version": version, "predicateType": PAGE_PREDICATE_TYPE_V2, "threshold": threshold,
            "envelope": sign_page_statement(ranking_bytes, view_bytes, version, keys),
            "keys": {keyid_of(k.public_key()): public_raw(k.public_key()).hex() for k in keys},
            "ranking": base64.b64encode(ranking_bytes).decode("ascii"),
            "view": base64.b64encode(view_bytes).decode("ascii")}
    # JSON inside <script> must not contain "</": escape it so the block cannot end early.
    blob = json.dumps(data, sort_keys=True).replace("</", "<\\/")
    block = (f'<script type="application/json" id="{SCRIPT_ID}">{blob}</script>\n'
             f"<script>{_JS}</script>\n")
    at = page.rfind("</body>")
    if at < 0:
        return page + block
    return page[:at] + block + page[at:]


__all__ = ["embed_self_check", "page_view", "sign_page_statement", "BANNER_ID", "SCRIPT_ID"]
