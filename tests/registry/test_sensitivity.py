import json

from registry.keyring import keyid_of
from registry.ranking import build_ranking, load_results
from registry.release import publish
from registry.sensitivity import WEIGHTS, build_sensitivity, kendall_tau
from registry.verify import verify_chain
from tests.registry.helpers import make_result, save_result


def _write(root, name, d):
    save_result(root / name, d)


def _results(tmp_path):
    # a: high accuracy but a strong random baseline; b: lower accuracy, far above its baseline.
    # w = 0 ranks by -HLR (accuracy): a first; w = 1 ranks by IOR: b first.
    _write(tmp_path, "a", make_result("a", syn=0.90, rnd=0.85, spread=0.002))
    _write(tmp_path, "b", make_result("b", syn=0.85, rnd=0.70, spread=0.002))
    _write(tmp_path, "c", make_result("c", syn=0.80, rnd=0.79, spread=0.002))
    _write(tmp_path, "as", make_result("a", label="soft", syn=0.95, rnd=0.85, spread=0.002))
    _write(tmp_path, "bs", make_result("b", label="soft", syn=0.90, rnd=0.70, spread=0.002))
    return load_results([tmp_path])


def test_weight_and_label_sensitivity(tmp_path):
    sens = build_sensitivity(build_ranking(_results(tmp_path), resamples=100))
    hard = next(s for s in sens["weight"] if s["table"] == "digits/ipc10/hard/lrs")
    assert hard["weights"] == list(WEIGHTS) and hard["published_weight"] == 0.5
    assert hard["order"]["0"] == ["a", "b", "c"] and hard["order"]["1"] == ["b", "a", "c"]
    assert hard["tau"][0][0] == 1.0 and hard["tau"][0][4] == kendall_tau([3, 2, 1], [2, 3, 1])
    assert hard["tau"][0][4] < 1.0
    assert any(s["table"] == "digits/ipc10/all/lrs" for s in sens["weight"])
    (labels,) = sens["labels"]
    assert labels["methods"] == ["a", "b"] and labels["tables"] == ["digits/ipc10/hard/lrs", "digits/ipc10/soft/lrs"]
    assert labels["tau"] in (-1.0, 1.0)
    assert sens["selection"] == []


def test_kendall_tau_edges():
    assert kendall_tau([1.0], [2.0]) is None
    assert kendall_tau([1.0, 1.0], [1.0, 2.0]) is None  # all tied: undefined
    assert kendall_tau([1, 2, 3], [3, 2, 1]) == -1.0


def test_release_signs_sensitivity_and_shows_it(tmp_path, keys):
    key, ring = keys
    path = publish(_results(tmp_path / "res"), tmp_path / "releases", "1.0.0", [key], keyring=ring, resamples=50,
                   repo=tmp_path)
    sens = json.loads((path / "sensitivity.json").read_text())
    assert sens["schema"] == "ddr.sensitivity/v1" and sens["weight"]
    page = (path / "index.html").read_text()
    assert 'id="sensitivity"' in page and "hard vs soft labels" in page
    report = verify_chain(tmp_path / "releases", ring)
    assert report.ok and report.releases[0].signers == [keyid_of(key.public_key())]
    (path / "sensitivity.json").write_text(json.dumps(dict(sens, weight=[])))
    assert not verify_chain(tmp_path / "releases", ring).ok  # it is a signed subject
