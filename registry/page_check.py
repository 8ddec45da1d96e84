"""The self-checking page: index.html carries a signed statement over ranking.json and verifies it
in the browser (WebCrypto Ed25519 and SHA-256, no network), then checks the tables it shows against
the verified ranking, and shows a verified / not-verified banner.

The page cannot carry the release envelope (the release statement signs the page itself), so the
publisher signs a small page statement first: subject ``ranking.json`` with its sha256, predicate
the release version. The page embeds that envelope, the exact ranking.json bytes and the public keys
of the key ids that signed it; a reader compares those key ids with the ones they trust.
"""
from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddr.kernel.digests import sha256_bytes
from registry import PAGE_PREDICATE_TYPE
from registry.keyring import keyid_of, public_raw
from registry.signing import sign_statement, statement

SCRIPT_ID = "ddr-signed-ranking"
BANNER_ID = "ddr-verify"

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
    var subj = stmt.subject.filter(function (x) { return x.name === 'ranking.json'; })[0];
    var bytes = b64(data.ranking);
    if (!subj || hex(await crypto.subtle.digest('SHA-256', bytes)) !== subj.digest.sha256)
      throw new Error('the ranking data differs from the signed digest');
    var ranking = JSON.parse(new TextDecoder().decode(bytes));
    var tables = document.querySelectorAll('table.rank:not(.classes)');
    if (tables.length !== ranking.tables.length) throw new Error('the page shows ' + tables.length + ' tables, the signed ranking has ' + ranking.tables.length);
    for (var t = 0; t < tables.length; t++) {
      var heads = Array.prototype.map.call(tables[t].tHead.rows[0].cells, function (c) { return c.textContent.trim(); });
      var col = { rank: heads.indexOf('rank'), method: heads.indexOf('method'), mean: heads.indexOf('mean') };
      var rows = tables[t].tBodies[0].rows, want = ranking.tables[t].rows;
      if (col.rank < 0 || col.method < 0 || col.mean < 0 || rows.length !== want.length) throw new Error('table ' + (t + 1) + ' does not match the signed ranking');
      for (var r = 0; r < rows.length; r++) {
        var c = rows[r].cells, w = want[r];
        if (c[col.method].getAttribute('data-v') !== w.method || Number(c[col.rank].getAttribute('data-v')) !== w.rank ||
            Number(c[col.mean].getAttribute('data-v')) !== w.mean || !(Math.abs(Number(c[col.mean].textContent) - w.mean) <= 0.0000501))
          throw new Error('table ' + (t + 1) + ', row ' + (r + 1) + ' (' + w.method + ') differs from the signed ranking');
      }
    }
    return signers;
  }
  check().then(function (signers) {
    show(true, 'the ranking shown is release ' + JSON.parse(document.getElementById('ddr-signed-ranking').textContent).version +
         ', signed by key ' + signers.map(function (k) { return k.slice(0, 16); }).join(', ') + ' (compare with the key ids you trust)');
  }, function (err) { show(false, err.message); });
})();
"""


def sign_page_statement(ranking_bytes: bytes, version: str, keys: list[Ed25519PrivateKey]) -> dict:
    """A DSSE envelope over {subject: ranking.json sha256, predicate: {version}}."""
    stmt = statement({"ranking.json": sha256_bytes(ranking_bytes)}, {"version": version}, PAGE_PREDICATE_TYPE)
    return sign_statement(stmt, keys)


def embed_self_check(page: str, ranking_bytes: bytes, version: str, keys: list[Ed25519PrivateKey],
                     threshold: int = 1) -> str:
    """The page with the signed ranking and the checking script inserted before </body>."""
    data = {"version": version, "predicateType": PAGE_PREDICATE_TYPE, "threshold": threshold,
            "envelope": sign_page_statement(ranking_bytes, version, keys),
            "keys": {keyid_of(k.public_key()): public_raw(k.public_key()).hex() for k in keys},
            "ranking": base64.b64encode(ranking_bytes).decode("ascii")}
    # JSON inside <script> must not contain "</": escape it so the block cannot end early.
    blob = json.dumps(data, sort_keys=True).replace("</", "<\\/")
    block = (f'<script type="application/json" id="{SCRIPT_ID}">{blob}</script>\n'
             f"<script>{_JS}</script>\n")
    at = page.rfind("</body>")
    if at < 0:
        return page + block
    return page[:at] + block + page[at:]


__all__ = ["embed_self_check", "sign_page_statement", "BANNER_ID", "SCRIPT_ID"]
