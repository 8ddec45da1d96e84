"""The release page's inline SVG charts: drawn at build time from the ranking, checked in the markup
and rendered in headless Chromium at desktop and phone widths."""
import json
import re
import shutil
import subprocess

import pytest

from registry.ranking import load_results
from registry.release import publish
from tests.registry.helpers import write_results

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def release(tmp_path, keys):
    key, _ = keys
    return publish(load_results([write_results(tmp_path / "res", kinds=("lrs", "ars"))]), tmp_path / "r", "0.1.0",
                   [key], resamples=100, repo=tmp_path)


def _svgs(page: str, cls: str) -> list[str]:
    return re.findall(rf'<svg class="chart {cls}".*?</svg>', page, flags=re.S)


def test_charts_drawn_from_the_ranking(release):
    page = (release / "index.html").read_text()
    ranking = json.loads((release / "ranking.json").read_text())
    assert len(ranking["tables"]) == 2
    assert len(_svgs(page, "score")) == 2 and len(_svgs(page, "rank")) == 2
    assert len(_svgs(page, "scatter")) == 1  # HLR against IOR: the LRS table only
    for table, svg in zip(ranking["tables"], _svgs(page, "score")):
        rows = table["rows"]
        assert svg.count('class="round"') == sum(len(r["per_round"]) for r in rows)
        xs = [float(x) for x in re.findall(r'class="mean" cx="([0-9.]+)"', svg)]
        assert xs == sorted(xs, reverse=True)  # best first: higher mean drawn further right
        assert all(r["train_seconds"] == pytest.approx(0.31 * r["rounds"]) for r in rows)
    assert "Training time per cell: herding 1.6 s" in page
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page)  # still no network assets


def _chromium(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", "--disable-extensions", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_page_renders_in_headless_chromium(release, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    url = (release / "index.html").as_uri()
    dom = _chromium("--dump-dom", url).stdout
    assert dom.count("<svg") >= 5 and 'class="chart scatter"' in dom and "<table" in dom
    for name, size in (("desktop", "1280,1800"), ("phone", "390,1800")):
        png = tmp_path / f"{name}.png"
        _chromium(f"--window-size={size}", f"--screenshot={png}", url)
        img = Image.open(png).convert("RGB")
        assert img.size == tuple(int(v) for v in size.split(","))
        small = img.resize((img.width // 4, img.height // 4))
        colors = small.getcolors(maxcolors=1 << 16) or []
        inked = sum(n for n, c in colors if sum(c) < 600) / (small.width * small.height)
        assert len(colors) > 20 and inked > 0.01, f"{name} screenshot looks blank"
