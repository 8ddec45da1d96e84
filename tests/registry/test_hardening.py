"""The registry under hostile or careless input: concurrent publishes, colliding method names, results
whose summaries do not match their rounds, names that would break the Markdown/CSV renderings."""
import csv
import json
import math
import shutil
import subprocess
import sys
import threading

import pytest

from ddr.errors import DDRError
from registry.ranking import load_results
from registry.release import publish, publish_lock
from registry.verify import verify_chain
from tests.registry.helpers import make_result, save_result, write_results


def _write(folder, data):
    """A result the registry must refuse: written as is, not through save_result's schema check."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps(data))
    return folder


def test_a_publish_waits_for_a_concurrent_one_and_chains_onto_it(tmp_path, keys):
    key, ring = keys
    rel, side = tmp_path / "releases", tmp_path / "side"
    publish(load_results([write_results(tmp_path / "r0")]), rel, "1.0.0", [key], keyring=ring, resamples=50,
            repo=tmp_path)
    # 1.1.0, published elsewhere on top of the same 1.0.0: it lands in `rel` while the other publisher works
    shutil.copytree(rel / "1.0.0", side / "1.0.0")
    publish(load_results([write_results(tmp_path / "r1")]), side, "1.1.0", [key], keyring=ring, resamples=50,
            repo=tmp_path)
    # another publisher holds the releases folder (a separate process, as a second `ddr registry publish` would)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from ddr.locks import exclusive_lock\n"
         f"with exclusive_lock({str(publish_lock(rel))!r}, timeout=0, what='releases'):\n"
        " print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        done, errors = [], []

        def late():
            try:
                done.append(publish(load_results([write_results(tmp_path / "r2")]), rel, "1.2.0", [key],
                                    keyring=ring, resamples=50, repo=tmp_path))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        t = threading.Thread(target=late)
        t.start()
        t.join(3.0)  # while the lock is held the publish must not have read the head yet
        assert not done and not errors, "publish did not wait for the releases lock"
        shutil.copytree(side / "1.1.0", rel / "1.1.0")
    finally:
        holder.stdin.close()
        holder.wait(10)
    t.join(60)
    assert not errors, errors
    report = verify_chain(rel, ring)
    assert report.ok, report.error
    assert [r.previous for r in report.releases] == [None, "1.0.0", "1.1.0"]


def test_methods_that_differ_only_in_punctuation_keep_separate_result_files(tmp_path, keys):
    key, ring = keys
    res = tmp_path / "res"
    save_result(res / "a", make_result("foo bar", syn=0.90))
    save_result(res / "b", make_result("foo_bar", syn=0.85))
    save_result(res / "c", make_result("foo/bar", syn=0.80))
    path = publish(load_results([res]), tmp_path / "releases", "1.0.0", [key], keyring=ring, resamples=50,
                   repo=tmp_path)
    files = sorted((path / "results").iterdir())
    assert len(files) == 3
    assert {json.loads(f.read_text())["method"] for f in files} == {"foo bar", "foo_bar", "foo/bar"}
    ranking = json.loads((path / "ranking.json").read_text())
    for row in ranking["tables"][0]["rows"]:  # each row points at its own result
        assert json.loads((path / row["result"]).read_text())["method"] == row["method"]
    assert (path / "results" / "digits-ipc10-hard-foo_bar-lrs.json").is_file()  # plain names keep their name
    assert verify_chain(tmp_path / "releases", ring).ok


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["metrics"]["lrs"].update(mean=5.0), "per-round values give"),
    (lambda d: d["metrics"]["lrs"].update(std=0.0), "metrics.lrs.std"),
    (lambda d: d["metrics"]["hlr"].update(mean=-0.5), "metrics.hlr.mean"),
    (lambda d: d["metrics"]["lrs"].update(mean=float("nan")), "not a finite number"),
    (lambda d: d["metrics"]["ior"]["per_round"].__setitem__(0, float("inf")), "non-finite"),
    (lambda d: d["metrics"]["lrs"]["per_round"].__setitem__(0, float("nan")), "non-"),
    (lambda d: d.update(ipc="abc"), "'ipc' must be a positive whole number"),
    (lambda d: d.update(ipc=0), "'ipc' must be a positive whole number"),
    (lambda d: d.update(dataset=None), "'dataset' must be a non-empty string"),
    (lambda d: d.update(method=["x"]), "'method' must be a non-empty string"),
    (lambda d: d.update(metrics=[]), "'metrics' must be a mapping"),
])
def test_a_result_whose_summary_does_not_hold_is_refused(tmp_path, edit, message):
    d = make_result("dm")
    edit(d)
    _write(tmp_path / "bad", d)
    save_result(tmp_path / "good", make_result("herding"))
    with pytest.raises(DDRError) as exc:
        load_results([tmp_path])
    assert message in str(exc.value)


def test_the_reported_mean_cannot_reorder_a_ranking(tmp_path, ddr_cli):
    low = make_result("low", syn=0.80)
    low["metrics"]["lrs"]["mean"] = 5.0
    _write(tmp_path / "low", low)
    save_result(tmp_path / "high", make_result("high", syn=0.95))
    code, out, err = ddr_cli("rank", str(tmp_path), "--out", str(tmp_path / "ranking"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "per-round values give" in err
    assert not (tmp_path / "ranking").exists()


def test_markdown_and_csv_escape_method_names(tmp_path, ddr_cli):
    nasty = 'evil|name\r\n| 1 | fake | 9.9 |<b>x</b>'
    formula = '=HYPERLINK("http://127.0.0.1/x","click")'
    save_result(tmp_path / "res" / "a", make_result(nasty, syn=0.9))
    save_result(tmp_path / "res" / "b", make_result(formula, syn=0.8))
    code, out, err = ddr_cli("rank", str(tmp_path / "res"), "--out", str(tmp_path / "ranking"))
    assert code == 0, err
    with open(tmp_path / "ranking" / "ranking.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and all(r["dataset"] == "digits" for r in rows)
    assert {r["method"] for r in rows} == {nasty, "'" + formula}  # a spreadsheet shows it, never runs it
    md = (tmp_path / "ranking" / "ranking.md").read_text()
    table = [line for line in md.splitlines() if line.startswith("| ") and "rank |" not in line]
    assert len(table) == 2, md  # no injected row
    assert "\r" not in md and "<b>" not in md and "&lt;b&gt;" in md


def test_markdown_escapes_html_in_method_names(tmp_path, ddr_cli):
    save_result(tmp_path / "res" / "a", make_result("<script>alert(1)</script>", syn=0.9))
    save_result(tmp_path / "res" / "b", make_result("plain", syn=0.8))
    code, out, err = ddr_cli("rank", str(tmp_path / "res"), "--out", str(tmp_path / "ranking"))
    assert code == 0, err
    md = (tmp_path / "ranking" / "ranking.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md


def test_non_finite_values_never_reach_ranking_json(tmp_path):
    d = make_result("dm")
    d["metrics"]["lrs"]["std"] = math.inf
    _write(tmp_path / "a", d)
    with pytest.raises(DDRError, match="metrics.lrs.std"):
        load_results([tmp_path])
