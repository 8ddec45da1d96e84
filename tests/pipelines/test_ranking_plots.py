"""`ddr rank --out` writes one DVC plots file per ranking table, which dvc.yaml's plots draw: `dvc plots diff`
between two release tags of a real git + DVC repository shows both releases' scores and rounds per table."""
import json
import shutil
import subprocess

import pytest

from tests.pipelines.dvc_project import ROOT, dvc, git
from tests.registry.helpers import make_result, save_result

TABLES = ("digits-ipc1-hard-lrs", "digits-ipc10-hard-lrs")


def _results(folder, methods):
    for ipc in (1, 10):
        for m, syn in methods.items():
            save_result(folder / f"digits-ipc{ipc}" / m, make_result(m, ipc=ipc, syn=syn, rounds=3))


def _rank(repo, ddr_cli):
    code, _, err = ddr_cli("rank", str(repo / "results"), "--out", str(repo / "ranking"), "--seed", "0")
    assert code == 0, err


def test_rank_writes_one_scores_and_one_rounds_file_per_table(tmp_path, ddr_cli):
    _results(tmp_path / "results", {"herding": 0.9, "random": 0.8})
    (tmp_path / "ranking" / "plots" / "scores").mkdir(parents=True)
    (tmp_path / "ranking" / "plots" / "scores" / "gone-table.json").write_text("[]")  # from an older ranking
    code, _, err = ddr_cli("rank", str(tmp_path / "results"), "--out", str(tmp_path / "ranking"))
    assert code == 0, err
    ranking = json.loads((tmp_path / "ranking" / "ranking.json").read_text())
    plots = tmp_path / "ranking" / "plots"
    assert sorted(p.name for p in (plots / "scores").iterdir()) == sorted(f"{t}.json" for t in TABLES)
    assert sorted(p.name for p in (plots / "rounds").iterdir()) == sorted(f"{t}.json" for t in TABLES)
    for table in ranking["tables"]:
        name = f"{table['dataset']}-ipc{table['ipc']}-{table['label']}-{table['score']}.json"
        scores = json.loads((plots / "scores" / name).read_text())
        assert scores == [{"method": r["method"], "mean": r["mean"], "std": r["std"], "rank": r["rank"]}
                          for r in table["rows"]]
        rounds = json.loads((plots / "rounds" / name).read_text())
        assert len(rounds) == 3 * len(table["rows"])
        for r in table["rows"]:
            assert [x["score"] for x in rounds if x["method"] == r["method"]] == r["per_round"]
            assert [x["round"] for x in rounds if x["method"] == r["method"]] == [1, 2, 3]


@pytest.fixture
def plots_repo(tmp_path):
    """A git + DVC repository with the project's dvc.yaml and its plot template."""
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc(repo, "init", "-q")
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / ".dvc" / "plots", repo / ".dvc" / "plots")
    return repo


def _release(repo, tag):
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"release {tag}")
    git(repo, "tag", tag)


def test_dvc_plots_diff_between_two_release_tags_shows_both_per_table(plots_repo, ddr_cli):
    repo = plots_repo
    _results(repo / "results", {"herding": 0.9, "random": 0.8})
    _rank(repo, ddr_cli)
    _release(repo, "v0.1.0")
    _results(repo / "results", {"herding": 0.9, "random": 0.8, "dm": 0.87})  # v0.2.0 ranks one more method
    _rank(repo, ddr_cli)
    _release(repo, "v0.2.0")

    out = dvc(repo, "plots", "diff", "v0.1.0", "v0.2.0", "--json", "--split")
    shown, _ = json.JSONDecoder().raw_decode(out)  # the document on stdout; dvc's notes follow it
    assert not shown.get("errors"), shown["errors"]
    plots = shown["data"]
    for kind in ("scores", "rounds"):
        for table in TABLES:
            [plot] = plots[f"ranking/plots/{kind}/{table}.json"]
            assert plot["type"] == "vega" and set(plot["revisions"]) == {"v0.1.0", "v0.2.0"}
            assert plot["anchor_definitions"]["<DVC_METRIC_TITLE>"].endswith(f"{table}.json")
            rows = plot["anchor_definitions"]["<DVC_METRIC_DATA>"]
            methods = {rev: {r["method"] for r in rows if r["rev"] == rev} for rev in ("v0.1.0", "v0.2.0")}
            assert methods == {"v0.1.0": {"herding", "random"}, "v0.2.0": {"herding", "random", "dm"}}
    # the rounds plot draws a curve per method, dashed per release (the template in .dvc/plots)
    [rounds] = plots["ranking/plots/rounds/digits-ipc1-hard-lrs.json"]
    encoding = rounds["content"]["encoding"]
    assert encoding["color"]["field"] == "method" and encoding["strokeDash"]["field"] == "rev"
    assert (encoding["x"]["field"], encoding["y"]["field"]) == ("round", "score")
    [scores] = plots["ranking/plots/scores/digits-ipc1-hard-lrs.json"]  # bars of the mean, one per release
    encoding = scores["content"]["encoding"]
    assert (encoding["x"]["field"], encoding["y"]["field"], encoding["yOffset"]["field"]) == ("mean", "method", "rev")
    assert len(plots) == 2 * len(TABLES)  # one plot per table and kind, none mixing tables
