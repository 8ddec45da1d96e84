"""The typed records' JSON Schemas (docs/schemas/) are what the models generate, and real records validate
against them: every shipped protocol, the results of real tiny digits evaluations, a ranking and a release's
ranking.json built from them, and the frozen v1 ranking once upgraded. Records the models refuse, the
exported schemas refuse too. `ddr protocols validate` answers in one line."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from ddr.errors import DDRError
from ddr.eval.result import check_record
from ddr.protocols import list_protocols, raw_protocol
from pipelines.record_schemas import main, rendered
from registry.ranking import build_ranking, check_ranking, load_results, read_ranking
from registry.ranking_record import upgrade
from registry.release import publish

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
FROZEN = Path(__file__).parent / "fixtures" / "frozen" / "releases"


def _validator(name):
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _errors(name, doc):
    return [e.message for e in _validator(name).iter_errors(doc)]


def test_committed_schemas_are_what_the_models_generate(tmp_path):
    files = rendered()
    assert sorted(files) == sorted(p.name for p in SCHEMAS.glob("*.schema.json"))
    for name, text in files.items():
        assert (SCHEMAS / name).read_text() == text, f"{name} is stale: python -m pipelines.record_schemas"
    assert main(["--out", str(SCHEMAS), "--check"]) == 0
    (tmp_path / "ranking.schema.json").write_text("{}\n")
    assert main(["--out", str(tmp_path), "--check"]) == 1  # stale and missing files are caught


@pytest.mark.parametrize("name", list_protocols())
def test_shipped_protocols_validate_against_the_exported_schema(name):
    raw = raw_protocol(name)  # what `ddr protocols show NAME --json` prints
    assert _errors("protocol", raw) == []
    for section in ("train", "real"):
        assert _errors("recipe", raw[section]) == []
    for teacher in (raw.get("soft") or {}).get("teachers") or []:
        assert _errors("recipe", teacher["train"]) == []


def test_protocols_the_model_refuses_the_schema_refuses_too():
    raw = raw_protocol("digits-lrs-hard")
    for bad in ({**raw, "epochs": 3}, {**raw, "train": {**raw["train"], "epochs": 0}},
                {**raw, "lr_grid": []}, {**raw, "label": "medium"}, {**raw, "weight": 1.5},
                {**raw, "train": {**raw["train"], "betas": [0.9]}}):
        assert _errors("protocol", bad), bad


def test_real_results_and_their_rankings_validate_against_the_exported_schemas(real_results, tmp_path, keys):
    files = sorted(real_results.rglob("result.json"))
    assert len(files) >= 9
    for f in files:
        d = json.loads(f.read_text())
        check_record(d, f)
        assert _errors("result", d) == [], f
    results = load_results([real_results])
    ranking = build_ranking(results, resamples=50)
    assert _errors("ranking", ranking) == []
    key, ring = keys
    release = publish(results, tmp_path / "releases", "1.0.0", [key], keyring=ring, resamples=50, repo=tmp_path)
    written = json.loads((release / "ranking.json").read_text())
    assert written["schema"] == "ddr.ranking/v3" and written["posterior_draws"]["draws"] == 50
    assert "bootstrap" not in written and _errors("ranking", written) == []
    provenance = json.loads((release / "provenance.json").read_text())
    assert provenance["schema"] == "ddr.provenance/v2" and provenance["posterior_draws"] == written["posterior_draws"]
    assert read_ranking(release / "ranking.json") == written

    # what the models refuse, the exported schemas refuse too
    d = json.loads(files[0].read_text())
    for bad in ({**d, "ipc": "1"}, {**d, "extra_field": 1}, {**d, "metrics": {}},
                {**d, "inputs": {**d["inputs"], "random": [{"round": 0, "seed": 0}]}}):
        with pytest.raises(DDRError):
            check_record(bad)
        assert _errors("result", bad), bad
    row = written["tables"][0]["rows"][0]
    for bad_row in ({**row, "rank_interval": [1, 2, 3]}, {**row, "mean": "0.5"}, {**row, "bootstrap": {}}):
        bad = {**written, "tables": [{**written["tables"][0], "rows": [bad_row]}]}
        with pytest.raises(DDRError, match=r"tables\[0\]\.rows\[0\]"):
            check_ranking(bad, "ranking.json")
        assert _errors("ranking", bad), bad_row


def test_a_v1_ranking_reads_as_a_v3_one_and_its_file_is_untouched():
    path = FROZEN / "1.0.0" / "ranking.json"
    before = path.read_bytes()
    old = json.loads(before)
    assert old["schema"] == "ddr.ranking/v1" and "bootstrap" in old
    assert _errors("ranking", old)  # the old format is not the current one
    read = read_ranking(path)
    assert read == upgrade(old) and _errors("ranking", read) == []
    draws = read["posterior_draws"]
    assert "bootstrap" not in read and draws["draws"] == old["bootstrap"]["resamples"] == 200
    assert draws["seed"] == old["bootstrap"]["seed"] and "bootstrap" in draws["method"]  # v1 resampled rounds
    assert path.read_bytes() == before


def _ddr(*args, cwd):
    p = subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, cwd=cwd,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}, timeout=120)
    return p.returncode, p.stdout, p.stderr


def test_protocols_validate_answers_in_one_line(tmp_path):
    good = tmp_path / "mine.yaml"
    good.write_text("include: digits-lrs-hard\nname: mine\nversion: 3\nrounds: 2\n")
    code, out, err = _ddr("protocols", "validate", str(good), cwd=tmp_path)
    assert code == 0 and out.startswith(f"OK: {good} is protocol mine@3") and len(out.strip().splitlines()) == 1, err
    code, out, err = _ddr("protocols", "validate", "--json", str(good), cwd=tmp_path)
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True and doc["name"] == "mine" and doc["version"] == 3 and len(doc["sha256"]) == 64
    bad = tmp_path / "bad.yaml"
    bad.write_text("include: digits-lrs-hard\nname: bad\ntrain: {epochs: 0}\n")
    for argv in (["protocols", "validate", str(bad)], ["protocols", "validate", "--json", str(bad)]):
        code, out, err = _ddr(*argv, cwd=tmp_path)
        assert code == 2 and not out and len(err.strip().splitlines()) == 1, (out, err)
        assert "train: epochs must be >= 1, got 0" in err and "Traceback" not in err
    code, out, err = _ddr("protocols", "validate", str(tmp_path / "missing.yaml"), cwd=tmp_path)
    assert code == 2 and "no such protocol file" in err and len(err.strip().splitlines()) == 1
