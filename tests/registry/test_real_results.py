"""The registry on what evaluations really write (tests/registry/real_results.py): every ranking feature is
live, the ranking reads only fields evaluations write, and rounds that cannot be paired say why."""
import csv
import io
import json
import shutil

import pytest

import ddr
from ddr.eval.result import ResultSchemaError, check_record, record_fields
from registry.certainty import rank_certainty
from registry.ranking import MAIN_ROLE, Result, build_ranking, load_results, table_key
from ddr.protocols.ledger import rows_for as ledger_rows
from registry.release import build_provenance, publish
from tests.registry.helpers import CHROMIUM, invoke, page_banner
from tests.registry.real_results import FIXTURES, IPC, METHODS

LEADERBOARD = """method,method_reference,verified,date,dataset,ipc,label_type,hlr,ior
herding,ref,yes,2025-01-01,digits,1,hard,60.0,10.0
dm,ref,yes,2025-01-01,digits,1,soft,50.0,12.0
"""


def _results(root):
    return {p.parent.parent.name + "/" + p.parent.name: json.loads(p.read_text()) for p in root.rglob("result.json")}


def test_real_records_have_the_schema_evaluations_write(real_results):
    records = _results(real_results)
    assert len(records) == len(METHODS) * 3
    for where, d in records.items():
        check_record(d, where)
    # the shape the registry's tests used to invent: a random draw keyed 'sha256', which nothing writes
    d = dict(records["lrs-hard/herding"])
    d["inputs"] = dict(d["inputs"], random=[{"round": 0, "seed": 0, "sha256": "0" * 64}])
    with pytest.raises(ResultSchemaError, match=r"inputs.random\[0\]: missing required field 'indices_sha256'"):
        check_record(d)
    d["inputs"]["random"] = [{"round": 0, "seed": 0, "indices_sha256": "0" * 64, "sha256": "0" * 64}]
    with pytest.raises(ResultSchemaError, match=r"inputs.random\[0\]: unknown field 'sha256'; valid: files_sha256, indices_sha256, jpeg, md5, path, round, seed"):
        check_record(d)


def test_every_ranking_feature_is_live(real_results, tmp_path, keys, ddr_cli):
    key, ring = keys
    records = _results(real_results)
    board = tmp_path / "leaderboard.csv"
    board.write_text(LEADERBOARD)
    rel = tmp_path / "releases"
    path = publish(load_results([real_results]), rel, "1.0.0", [key], keyring=ring, resamples=2000, repo=tmp_path,
                   leaderboard=board)
    ranking = json.loads((path / "ranking.json").read_text())
    tables = {table_key(t): t for t in ranking["tables"]}
    assert sorted(tables) == [f"digits/ipc{IPC}/all/lrs", f"digits/ipc{IPC}/hard/ars", f"digits/ipc{IPC}/hard/lrs",
                              f"digits/ipc{IPC}/soft/lrs"]
    for k, t in tables.items():
        # paired certainty: every method used the same random draws, and the draws are the paired ones
        assert t["certainty"] == "paired" and "unpaired_reason" not in t, (k, t.get("unpaired_reason"))
        per_round = [r["per_round"] for r in t["rows"]]
        bk = f"{t['dataset']}/{t['ipc']}/{t['label']}/{t['score']}"
        expected = rank_certainty(per_round, seed=ranking["posterior_draws"]["seed"], draws=2000, key=bk, paired=True)
        assert [r["p_beats_next"] for r in t["rows"]] == expected["p_beats_next"]
        assert all(r["p_beats_next"] is not None for r in t["rows"][:-1])
        for r in t["rows"]:
            # the IOR (ARS: delta with augmentation) interval column
            assert r["beats_random"]["interval"] is not None and r["beats_random"]["verdict"] != "unknown"
            # per-class accuracy from the predictions bundles
            name = r["method"].split(" ")[0]
            rec = records[f"{t['score']}-{r.get('label', t['label'])}/{name}"]
            assert r["per_class_accuracy"] == rec["per_class_accuracy"][MAIN_ROLE[t["score"]]]
            assert len(r["per_class_accuracy"]) == 10
        # herding and k-center select the same image per class at IPC 1: one set under two names
        same = {r["method"]: r.get("same_set_as") for r in t["rows"]}
        h, k_ = ("herding", "kcenter") if t["label"] != "all" else ("herding (hard)", "kcenter (hard)")
        assert same[h] == [k_] and same[k_] == [h]
        assert not any(v for m, v in same.items() if "herding" not in m and "kcenter" not in m)
        assert any(f.startswith(f"{h} and {k_} are the same set") for f in t["flags"])
    note = "herding and kcenter are the same set"
    csv_text = (path / "ranking.csv").read_text()
    for name in ("ranking.md", "index.html", "ranking.csv"):
        assert note in (path / name).read_text(), name
    assert 'id="per-class"' in (path / "index.html").read_text()
    if CHROMIUM:  # the notes and per-class tables do not disturb the page's check of its signed ranking
        state, text = page_banner(path / "index.html")
        assert state == "verified", text
    csv_rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(csv_rows) == sum(len(t["rows"]) for t in tables.values())
    assert all(r["vs_random_lo"] and r["vs_random_hi"] and r["certainty"] == "paired" for r in csv_rows)
    assert all(("same set as" in r["flags"]) == (r["method"].split(" ")[0] in ("herding", "kcenter")) for r in csv_rows)
    code, out = invoke("show", "1.0.0", "--releases", rel)
    assert code == 0 and "rounds are not paired" not in out

    # McNemar between two methods of the release, in every table holding both
    code, out, err = ddr_cli("registry", "diff", "1.0.0", "1.0.0", "--paired", "dm", "random", "--releases", str(rel),
                             "--json")
    assert code == 0, err
    tests = json.loads(out)
    assert sorted(t["table"] for t in tests) == [f"digits/ipc{IPC}/hard/ars", f"digits/ipc{IPC}/hard/lrs",
                                                 f"digits/ipc{IPC}/soft/lrs"]
    for t in tests:
        assert "error" not in t, t
        score, label = t["table"].split("/")[3], t["table"].split("/")[2]
        syn = records[f"{score}-{label}/dm"]["accuracies"][MAIN_ROLE[score]]
        assert t["pooled"]["acc_a"] == pytest.approx(sum(syn) / len(syn), abs=1e-6)
        assert set(t["per_round"]) == {"round0", "round1"} and 0 < t["pooled"]["p_value"] <= 1

    # the sensitivity report: every table's weight sweep, and hard against soft labels over all four methods
    sens = json.loads((path / "sensitivity.json").read_text())
    assert sorted(s["table"] for s in sens["weight"]) == sorted(tables)
    assert all(all(v is not None for row in s["tau"] for v in row) for s in sens["weight"])
    (labels,) = sens["labels"]
    assert labels["methods"] == sorted(METHODS) and labels["tau"] is not None

    # the leaderboard column: ddr's LRS beside the leaderboard's, for the cells both hold
    lb = json.loads((path / "leaderboard.json").read_text())
    rows = {(c["label"], c["method"]) for c in lb["comparison"]}
    assert rows == {("hard", "herding"), ("soft", "dm")}
    assert "DD-Ranking leaderboard reference" in (path / "ranking.md").read_text()


def test_the_rank_command_shows_the_same_set_note(real_results, ddr_cli):
    code, out, err = ddr_cli("rank", str(real_results))
    assert code == 0, err
    assert "herding and kcenter are the same set" in out and "not paired" not in out


def test_rounds_not_paired_say_why(real_results, tmp_path):
    """Different draws (a protocol with another seed base), results from before the draws were recorded, and
    different round counts: each is ranked unpaired with its true reason."""
    shifted = tmp_path / "tiny-lrs-shifted.yaml"
    shifted.write_text(f"name: tiny-lrs-shifted\nversion: 1\ninclude: {FIXTURES / 'tiny-lrs.yaml'}\nseed_base: 7\n")
    res = tmp_path / "res"
    shutil.copytree(real_results / "lrs-hard", res / "lrs-hard")
    ddr.evaluate("lrs", distilled=str(real_results.parent / "distilled" / "dm"), method="dm-shifted", dataset="digits",
                 ipc=IPC, protocol=str(shifted), track=False, cache_dir=real_results.parent / "cache",
                 out=res / "shifted")
    t = build_ranking(load_results([res]), resamples=200)["tables"][0]
    assert t["certainty"] == "unpaired"
    assert t["unpaired_reason"].startswith("different random draws: round 0 of ")
    assert "dm-shifted" in t["unpaired_reason"]

    shutil.rmtree(res / "shifted")
    (random_result,) = (res / "lrs-hard").rglob("random/result.json")
    old = json.loads(random_result.read_text())
    for draw in old["inputs"]["random"]:
        del draw["indices_sha256"]  # as a result written before evaluations recorded the draw
    random_result.write_text(json.dumps(old))
    t = build_ranking(load_results([res]), resamples=200)["tables"][0]
    assert t["certainty"] == "unpaired"
    assert t["unpaired_reason"].startswith("no record of each round's random draw in random ")
    from pipelines.rank_cmd import ranking_table
    assert "rounds are not paired across these methods (no record of each round's random draw in random" in \
        ranking_table({"tables": [t]})


class _Reads(dict):
    """A result mapping that records the path of every key a consumer looks up (read, get or `in`)."""

    def __init__(self, d, path, seen):
        super().__init__({k: _traced(v, f"{path}.{k}" if path else k, seen) for k, v in d.items()})
        self._path, self._seen = path, seen

    def _note(self, k):
        self._seen.add(f"{self._path}.{k}" if self._path else str(k))

    def __getitem__(self, k):
        self._note(k)
        return super().__getitem__(k)

    def get(self, k, default=None):
        self._note(k)
        return super().get(k, default)

    def __contains__(self, k):
        self._note(k)
        return super().__contains__(k)


def _traced(v, path, seen):
    if isinstance(v, dict):
        return _Reads(v, path, seen)
    if isinstance(v, list):
        return [_traced(x, f"{path}[]", seen) for x in v]
    return v


def _present(d, path: str) -> bool:
    """Whether `path` (keys joined by '.', '[]' for list items) exists in d for some list item."""
    values = [d]
    for part in path.replace("[]", ".[]").split("."):
        nxt = []
        for v in values:
            if part == "[]" and isinstance(v, list):
                nxt += v
            elif isinstance(v, dict) and part in v:
                nxt.append(v[part])
        values = nxt
    return bool(values)


def _schema_path(path: str) -> str:
    """metrics.lrs -> metrics.*: the pattern record_fields knows the path by."""
    return "metrics.*" if path.startswith("metrics.") and path.count(".") == 1 else path


def test_the_ranking_reads_only_fields_evaluations_write(real_results, tmp_path):
    """Rank and describe real results whose every lookup is recorded: each field read exists in an
    evaluation's record, or is one the result schema declares optional (written only in some evaluations).
    A field only a hand-made record holds (the random draws' 'sha256' of old) fails here."""
    seen: set[str] = set()
    records = [Result(_traced(r.data, "", seen), r.path, r.sha256) for r in load_results([real_results])]
    ranking = build_ranking(records, resamples=50)
    prov = build_provenance(records, "1.0.0", "2026-01-01T00:00:00Z", tmp_path, ranking)
    assert all(p["ledger"] == ledger_rows([(p["name"], p["version"])]) for p in prov["protocols"])
    plain = [json.loads(r.path.read_text()) for r in records]
    unwritten = []
    for path in sorted(seen):
        if any(_present(d, path) for d in plain):
            continue
        parent, _, leaf = path.rpartition(".")
        spec = record_fields(_schema_path(parent))
        if spec is not None and leaf in spec[1]:
            continue  # declared optional: written by some evaluations (val selection, cross-architecture, ...)
        unwritten.append(path)
    assert not unwritten, f"the registry reads fields no evaluation writes: {unwritten}"
    assert "inputs.random[].indices_sha256" in seen and "inputs.distilled.content_sha256" in seen
