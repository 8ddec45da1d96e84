"""The release page checks itself in a real headless Chromium: WebCrypto Ed25519 over the embedded
page statement, SHA-256 of the embedded ranking.json against its signed digest, and the tables shown
against the verified ranking."""
import re

import pytest

from tests.registry.helpers import CHROMIUM, page_banner, publish_page

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    return publish_page(tmp_path_factory.mktemp("page"))


def test_genuine_page_says_verified(page):
    path, kid = page
    state, text = page_banner(path)
    assert state == "verified", text
    assert "release 1.0.0" in text and kid[:16] in text


def test_one_byte_of_signed_ranking_changed(page, tmp_path):
    path, _ = page
    html = path.read_text()
    i = html.index('"ranking": "') + len('"ranking": "') + 200  # inside the base64 of ranking.json
    bad = tmp_path / "index.html"
    bad.write_text(html[:i] + ("A" if html[i] != "A" else "B") + html[i + 1:])
    state, text = page_banner(bad)
    assert state == "not-verified" and "differs from the signed digest" in text, text


def test_one_byte_of_a_shown_number_changed(page, tmp_path):
    path, _ = page
    html = path.read_text()
    m = re.search(r'(<td class="" data-v="[-0-9.e]+">)(-?\d\.\d{3})(\d)</td>', html)  # a shown mean
    assert m
    digit = str((int(m.group(3)) + 1) % 10)
    bad = tmp_path / "index.html"
    bad.write_text(html[:m.start(3)] + digit + html[m.end(3):])
    state, text = page_banner(bad)
    assert state == "not-verified" and "differs from the signed ranking" in text, text


def test_signature_by_another_key(page, tmp_path):
    """One character of the signature changed (still valid base64): WebCrypto rejects it."""
    path, _ = page
    html = path.read_text()
    m = re.search(r'"sig": "([A-Za-z0-9+/=]+)"', html)
    sig = m.group(1)
    flipped = ("B" if sig[10] == "A" else "A").join((sig[:10], sig[11:]))
    bad = tmp_path / "index.html"
    bad.write_text(html.replace(sig, flipped))
    state, text = page_banner(bad)
    assert state == "not-verified" and "no valid signature" in text, text
