"""Grid specs and the pipeline's params.yaml as a hostile or careless user writes them: every case is refused in
one line before anything runs or is written; `ddr eval grid` exits 2 with nothing written."""
import json
import math
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ddr.errors import DDRError
from ddr.grid.spec import load_grid, parse_grid
from tests.grid.conftest import FIXTURES

HEAD = "datasets: [digits]\nipc: [1]\nprotocol: tiny-lrs.yaml\nrounds: 1\n"

# (case, spec text, message): refused by load_grid (parsing) or by cells() (planning), before anything runs
SPECS = [
    ("method climbs out", HEAD + "methods:\n  ../../../../escaped: {random_seed: 3}\n", "would leave its folder"),
    ("method with a separator", HEAD + "methods:\n  a/b: {random_seed: 3}\n", "would leave its folder"),
    ("display name climbs out", HEAD + "methods:\n  a: {random_seed: 3, method: ../x}\n", "would leave its folder"),
    ("newline in a method", HEAD + 'methods:\n  "a\\nb": {random_seed: 3}\n', "control character"),
    ("empty method", HEAD + 'methods:\n  "": {random_seed: 3}\n', "is empty"),
    ("blank method", HEAD + 'methods:\n  "  ": {random_seed: 3}\n', "is empty"),
    ("number as a method", HEAD + "methods:\n  1: {random_seed: 3}\n", "must be text"),
    ("methods equal up to case", HEAD + "methods:\n  mine: {random_seed: 3}\n  MINE: {random_seed: 4}\n",
     "already taken"),
    ("methods equal up to spaces", HEAD + "methods:\n  my set: {random_seed: 3}\n  myset: {random_seed: 4}\n",
     "already taken"),
    ("grid name climbs out", "name: ../../x\n" + HEAD + "methods:\n  a: {random_seed: 3}\n", "would leave its folder"),
    ("fractional ipc", HEAD.replace("[1]", "[1.9]") + "methods:\n  a: {random_seed: 3}\n", "whole number, got 1.9"),
    ("ipc as text", HEAD.replace("[1]", "['2']") + "methods:\n  a: {random_seed: 3}\n", "must be a whole number"),
    ("ipc as a boolean", HEAD.replace("[1]", "[true]") + "methods:\n  a: {random_seed: 3}\n", "whole number"),
    ("ipc nan", HEAD.replace("[1]", "[.nan]") + "methods:\n  a: {random_seed: 3}\n", "whole number"),
    ("data set as a number", HEAD.replace("[digits]", "[10]") + "methods:\n  a: {random_seed: 3}\n",
     "must list str values"),
    ("method given twice", HEAD + "methods:\n  a: {random_seed: 3}\n  a: {random_seed: 4}\n",
     "key 'a' is given twice"),
    ("field given twice", HEAD + "rounds: 2\nmethods:\n  a: {random_seed: 3}\n", "key 'rounds' is given twice"),
    ("no cell left", HEAD + "methods:\n  a: {random_seed: 3, ipc: 5}\n", "no cell to run"),
    ("no label left", HEAD + "methods:\n  a: {random_seed: 3, labels: [soft]}\n", "no cell to run"),
    ("two methods, one folder", HEAD + "methods:\n  a: {random_seed: 3, method: x}\n  b: {random_seed: 4, method: x}\n",
     "the same method name as"),
    ("same set under two names", HEAD + "methods:\n  a: {path: sets/s1}\n  b: {path: sets/s1-renamed}\n",
     "the same images and labels as a/digits/ipc1/lrs"),
    ("folder equal to a seed", HEAD + "methods:\n  a: {random_seed: 5}\n  b: {path: sets/s1}\n",
     "the same images and labels as a/digits/ipc1/lrs"),
]


@pytest.fixture
def sets(gridproj, digits):
    """sets/s1: a random baseline (seed 5); sets/s1-renamed: the same images under another meta.json."""
    from ddr.data import random_baseline, write_distilled

    write_distilled(gridproj / "sets" / "s1", random_baseline(digits, 1, 5))
    write_distilled(gridproj / "sets" / "s1-renamed", random_baseline(digits, 1, 5))
    meta = json.loads((gridproj / "sets" / "s1-renamed" / "meta.json").read_text())
    (gridproj / "sets" / "s1-renamed" / "meta.json").write_text(json.dumps({**meta, "method": "another"}))
    return gridproj


@pytest.mark.parametrize("case", SPECS, ids=[c[0] for c in SPECS])
def test_hostile_specs_are_refused_in_one_line_before_anything_runs(sets, case):
    _, text, message = case
    (sets / "bad.yaml").write_text(text)
    with pytest.raises(DDRError, match=message.replace("(", r"\(").replace(".", r"\.")) as refused:
        load_grid(sets / "bad.yaml").cells()
    assert "\n" not in str(refused.value)


def test_a_protocol_with_a_key_given_twice_is_refused(gridproj):
    from ddr.protocols import load_protocol

    text = (FIXTURES / "tiny-lrs.yaml").read_text() + "rounds: 9\n"
    (gridproj / "twice.yaml").write_text(text)
    with pytest.raises(DDRError, match="key 'rounds' is given twice"):
        load_protocol(str(gridproj / "twice.yaml"))


@pytest.mark.parametrize("spec", ["esc", "empty", "ipc", "twice"])
def test_the_grid_command_exits_2_in_one_line_and_writes_nothing(tmp_path, monkeypatch, ddr_cli, spec):
    """Run from a folder deep inside tmp_path, so a name that climbs out would land inside it (as
    ../../../../escaped/result.json once did); --export names a folder that must not appear."""
    here = tmp_path / "a" / "b" / "c" / "d"
    here.mkdir(parents=True)
    (here / "tiny-lrs.yaml").write_text((FIXTURES / "tiny-lrs.yaml").read_text())
    texts = {"esc": HEAD + "methods:\n  ../../../../escaped: {random_seed: 3}\n",
             "empty": HEAD + "methods:\n  a: {random_seed: 3, ipc: 5}\n",
             "ipc": HEAD.replace("[1]", "[1.9]") + "methods:\n  a: {random_seed: 3}\n",
             "twice": HEAD + "methods:\n  a: {random_seed: 3}\n  a: {random_seed: 4}\n"}
    (here / "g.yaml").write_text(texts[spec])
    monkeypatch.chdir(here)
    monkeypatch.setenv("DDR_CACHE_DIR", str(here / "cache"))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, out, err = ddr_cli("eval", "grid", "g.yaml", "--no-mlflow", "--export", "exp")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


PARAMS_CASES = [
    ("submission method climbs out", {"method": "../../x"}, "would leave its folder"),
    ("newline in a submission", {"method": "a\n!*"}, "control character"),
    ("empty submission method", {"method": ""}, "is empty"),
    ("submission path climbs out", {"path": "../../outside/x"}, "would leave its folder"),
    ("absolute submission path", {"path": "/etc/passwd"}, "would leave its folder"),
    ("fractional submission ipc", {"ipc": 1.5}, "whole number"),
    ("reference distiller by case", {"method": "Herding"}, "reference distiller or another submission"),
]


def _params(gridproj: Path, **submission) -> Path:
    params = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())
    params["data"]["ipcs"] = [1]
    params["distill"]["methods"] = ["random", "herding"]
    params["submissions"] = [{"method": "mine", "dataset": "digits", "ipc": 1, "path": "submissions/mine-digits-ipc1",
                              "labels": ["hard"], **submission}]
    (gridproj / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return gridproj / "params.yaml"


@pytest.mark.parametrize("case", PARAMS_CASES, ids=[c[0] for c in PARAMS_CASES])
def test_hostile_params_submissions_are_refused(gridproj, case):
    _, change, message = case
    with pytest.raises(DDRError, match=message) as refused:
        load_grid(_params(gridproj, **change))
    assert "\n" not in str(refused.value)


def test_pipeline_params_refuse_case_twins_fractional_ipcs_and_repeated_keys(gridproj):
    path = _params(gridproj)
    params = yaml.safe_load(path.read_text())
    params["submissions"].append({**params["submissions"][0], "method": "MINE", "path": "submissions/MINE-digits-ipc1"})
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    with pytest.raises(DDRError, match="another submission"):
        load_grid(path)
    params["submissions"].pop()
    params["data"]["ipcs"] = [1.5]
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    with pytest.raises(DDRError, match="whole number"):
        load_grid(path)
    params["data"]["ipcs"] = [1]
    path.write_text(yaml.safe_dump(params, sort_keys=False) + "release: {version: 9.9.9}\n")
    with pytest.raises(DDRError, match="key 'release' is given twice"):
        load_grid(path)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    assert load_grid(path).methods["mine@ipc1"]["method"] == "mine"  # the plain spec still loads


IPC_VALUES = st.one_of(st.integers(-3, 60), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
                       st.text(max_size=3), st.lists(st.integers(), max_size=2))
METHOD_NAMES = st.one_of(st.text(max_size=10), st.sampled_from(["a", "A", " a", "../a", "a/b", "a\n", ".."]),
                         st.integers(), st.booleans())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries(
    {"datasets": st.just(["digits"]), "ipc": st.one_of(IPC_VALUES, st.lists(IPC_VALUES, max_size=4)),
     "methods": st.dictionaries(METHOD_NAMES, st.fixed_dictionaries(
         {"random_seed": st.integers(0, 3)}, optional={"method": METHOD_NAMES, "ipc": IPC_VALUES}), max_size=3)},
    optional={"name": st.one_of(st.text(max_size=12), st.integers())}))
def test_any_spec_is_refused_in_one_line_or_holds_whole_ipcs_and_plain_names(tmp_path, raw):
    from ddr.checks import check_name

    try:
        spec = parse_grid(raw, "g", tmp_path)
    except DDRError as exc:
        assert "\n" not in str(exc)
        event("refused")
        return
    event("accepted")
    given_ipcs = raw["ipc"] if isinstance(raw["ipc"], list) else [raw["ipc"]]
    assert all(type(i) is int and i >= 1 for i in spec.ipcs)
    assert all(isinstance(g, (int, float)) and not isinstance(g, bool) and math.isfinite(g) and g == i
               for g, i in zip(given_ipcs, spec.ipcs, strict=True))  # never 1.9 run as 1
    names = [src.get("method") or key for key, src in spec.methods.items()]
    assert [check_name(n) for n in names] == names
    assert len({"".join(n.split()).casefold() for n in set(names)}) == len(set(names))
    if "name" in raw:
        assert check_name(spec.name) == raw["name"]
    assert not any(os.scandir(tmp_path))  # parsing writes nothing
