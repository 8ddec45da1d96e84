"""Predictions travel into a release and `ddr registry diff --paired` runs McNemar over test images."""
import json
import shutil
from pathlib import Path

import pytest
import torch

import ddr
from ddr.data.random_baseline import random_baseline
from ddr.data.real import load_dataset
from ddr.errors import DDRError
from registry.ranking import load_results
from registry.release import publish
from tests.registry.helpers import CHROMIUM, invoke, page_banner

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.slow
def test_paired_test_between_methods_of_a_release(tmp_path, keys, ddr_cli):
    torch.set_num_threads(1)
    key, ring = keys
    data = load_dataset("digits")
    kw = dict(dataset="digits", ipc=3, protocol=str(FIXTURES / "tiny-lrs.yaml"), track=False,
              cache_dir=tmp_path / "cache")
    ddr.evaluate("lrs", distilled=random_baseline(data, 3, seed=100), method="r100", out=tmp_path / "res/a", **kw)
    ddr.evaluate("lrs", distilled=random_baseline(data, 3, seed=200), method="r200", out=tmp_path / "res/b", **kw)
    rel = tmp_path / "releases"
    path = publish(load_results([tmp_path / "res"]), rel, "1.0.0", [key], keyring=ring, resamples=50, repo=tmp_path)
    assert sorted(p.name for p in (path / "results").glob("*.predictions.npz")) == [
        "digits-ipc3-hard-r100-lrs.predictions.npz", "digits-ipc3-hard-r200-lrs.predictions.npz"]
    ranking = json.loads((path / "ranking.json").read_text())
    assert all(len(r["per_class_accuracy"]) == 10 for r in ranking["tables"][0]["rows"])
    assert 'id="per-class"' in (path / "index.html").read_text()
    if CHROMIUM:  # the per-class tables are not ranking tables: the page still verifies itself
        state, text = page_banner(path / "index.html")
        assert state == "verified", text

    code, out, err = ddr_cli("registry", "diff", "1.0.0", "1.0.0", "--paired", "r100", "r200", "--releases", str(rel),
                             "--json")
    assert code == 0, err
    (t,) = json.loads(out)
    res_a = json.loads((tmp_path / "res/a/result.json").read_text())
    res_b = json.loads((tmp_path / "res/b/result.json").read_text())
    p = t["pooled"]
    assert p["pairs"] == 2 * len(data.y_test)
    assert p["acc_a"] == pytest.approx(sum(res_a["accuracies"]["syn"]) / 2, abs=1e-6)
    assert p["acc_b"] == pytest.approx(sum(res_b["accuracies"]["syn"]) / 2, abs=1e-6)
    assert p["acc_a"] - p["acc_b"] == pytest.approx((p["only_a"] - p["only_b"]) / p["pairs"], abs=1e-6)
    assert 0 < p["p_value"] <= 1 and set(t["per_round"]) == {"round0", "round1"}
    code, out = invoke("diff", "1.0.0", "1.0.0", "--paired", "r100", "nope", "--releases", rel)
    assert code == 2 and "no table holds r100" in out

    # a bundle that is not the result's is refused at publish
    shutil.copy(tmp_path / "res/b/predictions.npz", tmp_path / "res/a/predictions.npz")
    with pytest.raises(DDRError, match="sha256 differs"):
        publish(load_results([tmp_path / "res"]), rel, "1.1.0", [key], keyring=ring, resamples=50, repo=tmp_path)
