"""The release page from its Jinja2 templates: the same inputs give the same bytes (in one process and
across two), values are escaped, the signed view is the view of the page as written, the templates ship
with the package, and methods at one point of the HLR/IOR scatter do not overprint their labels."""
import base64
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from registry.keyring import generate_key
from registry.page import charts
from registry.page.render import render_page
from registry.page.self_check import SCRIPT_ID, page_view
from registry.ranking import build_ranking, load_results
from registry.release import publish
from tests.registry.helpers import DEFAULT_METHODS, make_result, save_result, write_results

ROOT = Path(__file__).resolve().parents[2]
ODD = '<script>alert("x")</script> & \'q\''

# render one page from results written under argv[1] with the key in argv[2]; print its sha256
RENDER = """
import hashlib, sys
from pathlib import Path
from registry.keyring import load_private_key
from registry.page.render import render_page
from registry.ranking import build_ranking, load_results
results = load_results([Path(sys.argv[1])])
ranking = build_ranking(results, seed=0, resamples=50)
meta = {"created": "2026-01-01T00:00:00Z", "notes": sys.argv[3]}
page = render_page(ranking, "1.0.0", meta, None, {}, sorted(r.cell_id for r in results),
                   sign=(b'{"version": "1.0.0"}', [load_private_key(Path(sys.argv[2]))], 1))
print(hashlib.sha256(page.encode("utf-8")).hexdigest())
"""


def _page(results_dir: Path, key_path: Path, notes: str) -> str:
    from registry.keyring import load_private_key

    results = load_results([results_dir])
    ranking = build_ranking(results, seed=0, resamples=50)
    meta = {"created": "2026-01-01T00:00:00Z", "notes": notes}
    return render_page(ranking, "1.0.0", meta, None, {}, sorted(r.cell_id for r in results),
                       sign=(b'{"version": "1.0.0"}', [load_private_key(key_path)], 1))


def test_same_inputs_give_the_same_page_bytes_in_one_process_and_across_two(tmp_path):
    res = write_results(tmp_path / "res", dict(DEFAULT_METHODS, **{ODD: (0.86, 0.80)}), kinds=("lrs", "ars"))
    generate_key(tmp_path / "k.key")
    first, second = (_page(res, tmp_path / "k.key", ODD) for _ in range(2))
    assert first == second
    out = subprocess.run([sys.executable, "-c", RENDER, str(res), str(tmp_path / "k.key"), ODD], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == hashlib.sha256(first.encode("utf-8")).hexdigest()


def test_values_are_escaped_and_the_signed_view_is_the_view_of_the_page(tmp_path):
    res = write_results(tmp_path / "res", dict(DEFAULT_METHODS, **{ODD: (0.86, 0.80)}))
    generate_key(tmp_path / "k.key")
    page = _page(res, tmp_path / "k.key", ODD)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;" in page
    view = page_view(page)
    assert [e for e in view["elements"] if e[0] == "script"] == [  # the page's own scripts, nothing injected
        ["script", []], ["script", [["id", "ranking-meta"], ["type", "application/json"]]],
        ["script", [["id", SCRIPT_ID], ["type", "application/json"]]], ["script", []]]
    assert f"notes: {ODD}" in view["text"] and any(ODD in cell for t in view["tables"] for row in t for cell in row)
    block = re.search(rf'<script type="application/json" id="{SCRIPT_ID}">(.*?)</script>', page, flags=re.S).group(1)
    data = json.loads(block)
    signed = base64.b64decode(data["view"])
    assert json.loads(signed) == view  # what the script compares against is what the page holds
    subjects = {s["name"]: s["digest"]["sha256"] for s in json.loads(base64.b64decode(data["envelope"]["payload"]))["subject"]}
    assert subjects["page-view.json"] == hashlib.sha256(signed).hexdigest()
    assert json.loads(re.search(r'id="ranking-meta">(.*?)</script>', page).group(1)) == {"version": "1.0.0"}


def _labels(svg: str) -> list[tuple[float, float, str, str]]:
    return [(float(x), float(y), a, t) for x, y, a, t in
            re.findall(r'<text class="label" x="([0-9.]+)" y="([-0-9.]+)" text-anchor="(\w+)">([^<]*)</text>', svg)]


def test_methods_at_one_scatter_point_share_one_label_and_no_labels_overlap(tmp_path, keys):
    """herding and kcenter tie exactly (every round the same accuracy); dm and kcenter2 lie close together."""
    methods = {"herding": (0.90, 0.80, 0.0), "kcenter": (0.90, 0.80, 0.0), "dm": (0.88, 0.80, 0.01),
               "kcenter2": (0.879, 0.80, 0.01), "random": (0.80, 0.80, 0.01)}
    for m, (syn, rnd, spread) in methods.items():
        save_result(tmp_path / "res" / m, make_result(m, syn=syn, rnd=rnd, spread=spread))
    release = publish(load_results([tmp_path / "res"]), tmp_path / "r", "0.1.0", [keys[0]], resamples=50, repo=tmp_path)
    svg = re.search(r'<svg class="chart scatter".*?</svg>', (release / "index.html").read_text(), flags=re.S).group(0)
    assert svg.count('class="point"') == len(methods)  # every method keeps its point (and its tooltip)
    labels = _labels(svg)
    assert sorted(t for *_, t in labels) == ["dm", "herding, kcenter", "kcenter2", "random"]
    assert len({(x, y) for x, y, *_ in labels}) == len(labels)
    boxes = [charts.label_box(x, y, t, a) for x, y, a, t in labels]
    assert all(b[1] >= 0 for b in boxes)  # the best point sits at the top edge: its label stays inside the chart
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_scatter_labels_are_placed_deterministically_in_rank_order():
    points = [{"method": m, "x": 100.0, "y": 50.0} for m in ("b", "a")] + [{"method": "c", "x": 101.0, "y": 52.0}]
    labels = charts.scatter_labels(points, middle=240.0)
    assert [lb["text"] for lb in labels] == ["b, a", "c"]  # the order given (rank order), not sorted
    assert labels[0]["y"] == 43.0 and labels[1]["y"] == 45.0 + charts.LINE_H  # c moves down below "b, a"
    assert charts.scatter_labels(points, middle=240.0) == labels


def test_templates_and_static_files_ship_as_package_data():
    """A non-editable install carries what pyproject's package-data names: every template and static file."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["registry.page"]
    package = ROOT / "registry" / "page"
    shipped = {p for g in globs for p in package.glob(g)}
    present = {p for d in ("templates", "static") for p in (package / d).rglob("*") if p.is_file()}
    assert present and shipped == present

