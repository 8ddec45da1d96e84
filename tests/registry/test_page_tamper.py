"""The release page's self-check against content tampered in ways a reader would see, in a real headless
Chromium: with the signed ranking.json left intact, every edit of what is shown (a cell, a chart, an
injected or hidden table, a style, text) must turn the banner to NOT VERIFIED."""
import re

import pytest

from tests.registry.helpers import CHROMIUM, DEFAULT_METHODS, page_banner, publish_page

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]

ODD = 'dm "v2" <b> & é—ü\r\nx\ry\tz'  # markup, line breaks and non-ASCII in a name raise no false alarm


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    index, _ = publish_page(tmp_path_factory.mktemp("page"), dict(DEFAULT_METHODS, **{ODD: (0.86, 0.80)}))
    return index.read_bytes().decode("utf-8")  # line breaks as written


def _rows(html: str) -> list[re.Match]:
    """The body rows of the first ranking table."""
    body = html[html.index('<table class="rank">'):]
    body = body[:body.index("</table>")]
    start = html.index('<table class="rank">')
    return [(start + m.start(), start + m.end()) for m in re.finditer(r"<tr><td.*?</tr>", body)]


def _cells(row: str) -> list[tuple[int, int]]:
    """(start, end) of each cell's text in a row."""
    return [(m.start(1), m.end(1)) for m in re.finditer(r"<td [^>]*>(.*?)</td>", row)]


def _set_cell(html: str, row: int, col: int, text: str) -> str:
    a, b = _rows(html)[row]
    r = html[a:b]
    s, e = _cells(r)[col]
    assert r[s:e] != text
    return html[:a] + r[:s] + text + r[e:] + html[b:]


def swap_method_names(html):
    (a1, b1), (a2, b2) = _rows(html)[:2]
    r1, r2 = html[a1:b1], html[a2:b2]
    m1, m2 = (re.search(r'<td class="t" data-v="[^"]*">[^<]*</td>', r).group(0) for r in (r1, r2))
    return html[:a1] + r1.replace(m1, m2) + html[b1:a2] + r2.replace(m2, m1) + html[b2:]


def swap_method_texts(html):
    """Only what the reader sees: the sort keys (data-v) still name the right methods."""
    (a1, b1), (a2, b2) = _rows(html)[:2]
    r1, r2 = html[a1:b1], html[a2:b2]
    t1, t2 = (re.search(r'<td class="t" data-v="[^"]*">([^<]*)</td>', r).group(1) for r in (r1, r2))
    return (html[:a1] + r1.replace(f">{t1}<", f">{t2}<", 1) + html[b1:a2] + r2.replace(f">{t2}<", f">{t1}<", 1)
            + html[b2:])


def change_rank(html):
    return _set_cell(html, 1, 0, "1")


def change_std(html):
    return _set_cell(html, 0, 3, "0.0001")


def change_p_beats_next(html):
    return _set_cell(html, 0, 6, "0.500")


def change_mean_text_and_value(html):
    (a, b) = _rows(html)[0]
    r = html[a:b]
    m = re.search(r'<td class="" data-v="([-0-9.e]+)">(-?\d\.\d{4})</td>', r)
    return html[:a] + r.replace(m.group(0), '<td class="" data-v="0.9">0.9000</td>', 1) + html[b:]


def edit_chart(html):
    m = re.search(r'<circle class="mean" cx="([0-9.]+)"', html)
    return html[:m.start(1)] + f"{float(m.group(1)) + 40:.1f}" + html[m.end(1):]


def recolour_chart(html):
    return html.replace('stroke-opacity="0.45"', 'stroke-opacity="0"', 1)


def inject_fake_table(html):
    fake = "<table><tr><th>rank</th><th>method</th></tr><tr><td>1</td><td>dm</td></tr></table>"
    return html.replace("</h1>", "</h1>" + fake, 1)


def inject_fake_chart(html):
    svg = html[html.index("<svg"):html.index("</svg>") + 6]
    return html.replace("</h1>", "</h1>" + svg, 1)


def inject_text(html):
    return html.replace("</h1>", "</h1><p>Correction: dm ranks first.</p>", 1)


def inject_image(html):
    return html.replace("</h1>", '</h1><img alt="" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">', 1)


def hide_with_style_attribute(html):
    return html.replace('<table class="rank">', '<table class="rank" style="display:none">', 1)


def hide_with_style_sheet(html):
    return html.replace("</head>", "<style>table.rank{visibility:hidden}</style></head>", 1)


def hide_with_linked_style(html):
    return html.replace("</head>", '<link rel="stylesheet" href="data:text/css,table.rank%7Bopacity:0%7D"></head>', 1)


def hide_with_edited_style(html):
    return html.replace("table.rank{display:block;", "table.rank{display:none;", 1)


def hide_with_hidden_attribute(html):
    return html.replace('<table class="rank">', '<table class="rank" hidden>', 1)


def hide_in_closed_details(html):
    a = html.index('<table class="rank">')
    b = html.index("</table>", a) + len("</table>")
    return html[:a] + "<details><summary>more</summary>" + html[a:b] + "</details>" + html[b:]


CASES = [swap_method_names, swap_method_texts, change_rank, change_std, change_p_beats_next, change_mean_text_and_value, edit_chart,
         recolour_chart, inject_fake_table, inject_fake_chart, inject_text, inject_image, hide_with_style_attribute,
         hide_with_style_sheet, hide_with_linked_style, hide_with_edited_style, hide_with_hidden_attribute,
         hide_in_closed_details]


def test_genuine_page_with_markup_in_a_method_name_says_verified(page, tmp_path):
    assert 'dm &#34;v2&#34; &lt;b&gt; &amp; é—ü\r\nx\ry\tz' in page  # escaped by Jinja2 (markupsafe)
    path = tmp_path / "index.html"
    path.write_bytes(page.encode("utf-8"))
    state, text = page_banner(path)
    assert state == "verified", text


@pytest.mark.parametrize("tamper", CASES, ids=[c.__name__ for c in CASES])
def test_tampered_page_says_not_verified(page, tmp_path, tamper):
    bad = tamper(page)
    assert bad != page
    path = tmp_path / "index.html"
    path.write_bytes(bad.encode("utf-8"))
    state, text = page_banner(path)
    assert state == "not-verified", f"{tamper.__name__} still says: {text}"
