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
