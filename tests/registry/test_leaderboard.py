"""DD-Ranking's leaderboard CSV: import (percentage points -> fractions, LRS at a weight), a release's
reference column, and a release exported in that format."""
import csv
import io
import json

import pytest

from ddr import metrics
from registry.leaderboard import compare, read_leaderboard, to_ddranking_csv
from registry.ranking import load_results
from registry.release import publish
from registry.verify import verify_chain
from tests.registry.helpers import write_results

CSV = """method,method_reference,verified,date,dataset,ipc,label_type,hlr,ior
DM,https://arxiv.org/abs/2110.04181,yes,2025-02-01,digits,10,hard,10.5,8.0
Herding,,no,2025-02-01,digits,10,hard,8.33,10.0
SRe2L,https://arxiv.org/abs/2306.13092,yes,2025-02-01,CIFAR-10,10,Soft,25.0,-3.5
"""


@pytest.fixture
def board(tmp_path):
    p = tmp_path / "leaderboard.csv"
    p.write_text(CSV)
    return p


def test_import_converts_percentage_points_and_scores_each_row(board, ddr_cli):
    rows = read_leaderboard(board)
    assert [r["dataset"] for r in rows] == ["digits", "digits", "cifar10"]
    assert rows[0]["hlr"] == pytest.approx(0.105) and rows[2]["ior"] == pytest.approx(-0.035)
    assert rows[2]["label"] == "soft"
    code, out, err = ddr_cli("leaderboard", "import", str(board), "--weight", "0.3", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["weight"] == 0.3 and len(got["rows"]) == 3
    for r in got["rows"]:
        assert r["lrs"] == pytest.approx(metrics.lrs(r["hlr"], r["ior"], 0.3))
    code, out, _ = ddr_cli("leaderboard", "import", str(board))
    assert code == 0 and "SRe2L" in out and f"{metrics.lrs(0.25, -0.035):.4f}" in out and "3 rows" in out


@pytest.mark.parametrize("text, msg", [
    ("method,dataset,ipc\nDM,digits,10\n", "missing column 'method_reference'"),
    (CSV.replace("10.5", "ten"), "hlr, ior numbers"),
    (CSV.replace("10.5", "150"), "within \\[-100, 100\\]"),
    (CSV.replace(",hard,8.33", ",medium,8.33"), "label_type must be"),
])
def test_bad_csv_is_one_line_exit_2(tmp_path, ddr_cli, text, msg):
    import re

    p = tmp_path / "bad.csv"
    p.write_text(text)
    code, out, err = ddr_cli("leaderboard", "import", str(p))
    assert code == 2 and re.search(msg, err) and len(err.strip().splitlines()) == 1
    code, _, err = ddr_cli("leaderboard", "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "no such leaderboard CSV" in err


def test_release_carries_the_leaderboard_as_reference_column(tmp_path, keys, board, ddr_cli):
    key, ring = keys
    src = write_results(tmp_path / "res", {"dm": (0.88, 0.80), "herding": (0.90, 0.80), "kcenter": (0.87, 0.80)})
    rel = tmp_path / "releases"
    path = publish(load_results([src]), rel, "1.0.0", [key], keyring=ring, resamples=50, repo=tmp_path,
                   leaderboard=board)
    ref = json.loads((path / "leaderboard.json").read_text())
    assert ref["source"] == "leaderboard.csv" and len(ref["rows"]) == 3
    ranking = json.loads((path / "ranking.json").read_text())
    rows = {r["method"]: r for t in ranking["tables"] for r in t["rows"]}
    cmp = {c["method"]: c for c in ref["comparison"]}
    assert set(cmp) == {"dm", "herding"}  # kcenter is not on the board; SRe2L is not in the release
    for m, c in cmp.items():
        lb = metrics.lrs(c["leaderboard_hlr"], c["leaderboard_ior"], 0.5)
        assert c["ddr_lrs"] == rows[m]["mean"] and c["leaderboard_lrs"] == pytest.approx(lb)
        assert c["difference"] == pytest.approx(rows[m]["mean"] - lb)
    md = (path / "ranking.md").read_text()
    assert "DD-Ranking leaderboard reference" in md and f"{cmp['dm']['difference']:+.4f}" in md
    assert verify_chain(rel, ring).ok  # the reference column is signed with the rest

    # a bad CSV refuses the publish before anything is written
    bad = tmp_path / "bad.csv"
    bad.write_text("method\nx\n")
    from ddr.errors import DDRError

    with pytest.raises(DDRError, match="missing column"):
        publish(load_results([src]), rel, "1.1.0", [key], keyring=ring, resamples=50, repo=tmp_path, leaderboard=bad)
    assert not (rel / "1.1.0").exists()


def test_show_ddranking_csv_round_trips_through_import(tmp_path, keys, ddr_cli):
    key, ring = keys
    src = write_results(tmp_path / "res", {"dm": (0.88, 0.80), "herding": (0.90, 0.80)}, kinds=("lrs", "ars"))
    rel = tmp_path / "releases"
    publish(load_results([src]), rel, "1.0.0", [key], keyring=ring, resamples=50, repo=tmp_path)
    code, out, err = ddr_cli("registry", "show", "1.0.0", "--releases", str(rel), "--format", "ddranking-csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["method", "method_reference", "verified", "date", "dataset", "ipc", "label_type", "hlr", "ior"]
    assert len(rows) == 2 and {r["method"] for r in rows} == {"dm", "herding"}  # LRS tables only
    exported = tmp_path / "export.csv"
    exported.write_text(out)
    ranking = json.loads((rel / "1.0.0" / "ranking.json").read_text())
    back = compare(ranking, read_leaderboard(exported))
    for c in back:  # same HLR/IOR means back; LRS of the means vs mean of per-round LRS: close, not equal
        assert c["leaderboard_hlr"] == pytest.approx(c["ddr_hlr"]) and c["leaderboard_ior"] == pytest.approx(c["ddr_ior"])
        assert abs(c["difference"]) < 1e-3
    assert to_ddranking_csv(ranking, date="2026-01-01").splitlines()[1].split(",")[3] == "2026-01-01"


def test_a_release_ranks_per_student_model(tmp_path, keys):
    from tests.registry.helpers import make_result, save_result

    key, ring = keys
    src = tmp_path / "res"
    for student in (None, "ResNet-18", "AlexNet"):
        for m, (s, r) in {"dm": (0.88, 0.80), "herding": (0.90, 0.80)}.items():
            if student == "AlexNet":
                s, r = r + (0.90 - s), r  # the order flips for this student
            d = make_result(m, syn=s, rnd=r)
            if student:
                d["protocol"] = {**d["protocol"], "name": f"digits-lrs-hard:{student}", "student": student}
                d["model"] = student
            save_result(src / f"{m}-{student}", d)
    rel = tmp_path / "releases"
    path = publish(load_results([src]), rel, "1.0.0", [key], keyring=ring, resamples=50, repo=tmp_path)
    ranking = json.loads((path / "ranking.json").read_text())
    tables = {t.get("student"): [r["method"] for r in t["rows"]] for t in ranking["tables"]}
    assert tables == {None: ["herding", "dm"], "ResNet-18": ["herding", "dm"], "AlexNet": ["dm", "herding"]}
    assert "student AlexNet" in (path / "ranking.md").read_text()
    assert len(list((path / "results").iterdir())) == 6  # one cell per (method, student)
    assert verify_chain(rel, ring).ok
