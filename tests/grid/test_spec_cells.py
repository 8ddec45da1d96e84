import dataclasses
import json

import pytest

from ddr.errors import DDRError
from ddr.grid.cell import Cell, CellStore, cell_hash
from ddr.grid.spec import load_grid, parse_grid


def _cell(**kw):
    base = dict(method="m", dataset="digits", ipc=2, metric="lrs", protocol="tiny-lrs", protocol_name="tiny-lrs",
                protocol_version=1, seed_base=0, rounds=2, weight=0.5, digest="abc.dir", source={"path": "/x"})
    return Cell(**{**base, **kw})


def test_cell_hash_is_stable_and_changes_with_each_input():
    c = _cell()
    assert c.id == _cell().id and len(c.id) == 16
    assert c.id == cell_hash(json.loads(json.dumps(c.identity())))  # a pure function of the JSON identity
    changed = {"digest": "abd.dir", "protocol_name": "other", "protocol_version": 2, "dataset": "cifar10", "ipc": 3,
               "metric": "ars", "seed_base": 1, "rounds": 3, "weight": 0.25}
    ids = {c.id}
    for field, value in changed.items():
        other = _cell(**{field: value})
        assert other.id != c.id, field
        ids.add(other.id)
    assert len(ids) == 1 + len(changed)
    # what cannot move a number does not rename the cell: the display name, where the folder lives
    assert _cell(method="renamed", source={"path": "/elsewhere"}, protocol="/abs/tiny-lrs.yaml").id == c.id
    assert Cell.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_cell_hash_pinned():
    """The hash is part of the on-disk layout and the MLflow tags: changing it orphans every stored cell."""
    assert cell_hash({"a": 1}) == cell_hash({"a": 1})
    c = _cell()
    assert c.id == cell_hash({"schema": "ddr.cell/v1", "digest": "abc.dir", "protocol": "tiny-lrs",
                              "protocol_version": 1, "dataset": "digits", "ipc": 2, "metric": "lrs", "seed_base": 0,
                              "rounds": 2, "weight": 0.5})


def test_spec_expands_to_validated_cells(gridproj, digits):
    from ddr.data import random_baseline, write_distilled

    write_distilled(gridproj / "sets" / "rb-digits-ipc1", random_baseline(digits, 1, 7))
    write_distilled(gridproj / "sets" / "rb-digits-ipc2", random_baseline(digits, 2, 7))
    (gridproj / "g.yaml").write_text(
        "name: g\ndatasets: [digits]\nipc: [1, 2]\nprotocol: tiny-lrs.yaml\nrounds: 1\n"
        "methods:\n  folder: {path: 'sets/rb-{dataset}-ipc{ipc}'}\n  rand: {random_seed: 3}\n")
    cells = load_grid(gridproj / "g.yaml").cells()
    assert [c.label for c in cells] == ["folder/digits/ipc1/lrs-hard", "rand/digits/ipc1/lrs-hard",
                                        "folder/digits/ipc2/lrs-hard", "rand/digits/ipc2/lrs-hard"]
    assert all(c.protocol_name == "tiny-lrs" and c.protocol_version == 1 and c.rounds == 1 for c in cells)
    assert cells[0].digest.endswith(".dir") and cells[1].digest.startswith("mem:")
    assert cells[0].source["path"] == str(gridproj / "sets" / "rb-digits-ipc1")
    assert len({c.id for c in cells}) == 4
    assert [c.id for c in load_grid(gridproj / "g.yaml").cells()] == [c.id for c in cells]  # stable


@pytest.mark.parametrize("text, message", [
    ("datasets: [digits]\nipc: [1]\n", "'methods' must map"),
    ("datasets: [digits]\nipc: [1]\nmethods: {a: {random_seed: 1, path: x}}\n", "exactly one of: path, random_seed"),
    ("datasets: [digits]\nipc: [1]\nmethods: {a: {random_seed: 1}}\nmetrics: [lrz]\n", "did you mean 'lrs'"),
    ("datasets: [digits]\nipc: [1]\nmethods: {a: {random_seed: 1}}\nwieght: 0.5\n", "unknown field 'wieght'"),
    ("ipc: [1]\nmethods: {a: {random_seed: 1}}\n", "missing required field 'datasets'"),
    ("datasets: [digits]\nipc: [0]\nmethods: {a: {random_seed: 1}}\n", "at least 1"),
])
def test_bad_specs_are_refused_in_one_line(gridproj, text, message):
    (gridproj / "bad.yaml").write_text(text)
    with pytest.raises(DDRError, match=message.replace("(", r"\(")):
        load_grid(gridproj / "bad.yaml")


def test_bad_cells_are_refused_before_anything_runs(gridproj):
    spec = parse_grid({"datasets": ["digits"], "ipc": [1], "protocol": "tiny-lrs.yaml",
                       "methods": {"gone": {"path": "nowhere/{ipc}"}}}, "g", gridproj)
    with pytest.raises(DDRError, match="gone/digits/ipc1: no such distilled set"):
        spec.cells()
    same = parse_grid({"datasets": ["digits"], "ipc": [1], "protocol": "tiny-lrs.yaml",
                       "methods": {"a": {"random_seed": 5}, "b": {"random_seed": 5}}}, "g", gridproj)
    with pytest.raises(DDRError, match="the same cell as a/digits/ipc1/lrs-hard"):
        same.cells()


def test_cell_store_is_atomic_and_ignores_damage(tmp_path):
    store = CellStore(tmp_path)
    c = _cell()
    store.plan(c)
    assert json.loads((store.dir(c) / "cell.json").read_text())["id"] == c.id
    assert not store.done(c)
    store.result_path(c).write_text('{"schema": "ddr.result/v1", "kind": ')  # torn by hand
    assert not store.done(c)  # damaged: recomputed, never trusted
    store.log_attempt(c, {"event": "start", "attempt": 1})
    with open(store.dir(c) / "attempts.jsonl", "a") as f:
        f.write('{"event": "sta')  # a line torn by a crash
    assert store.next_attempt(c) == 2
    assert not list(store.dir(c).glob(".*"))  # no temporary files left behind
    assert dataclasses.asdict(c)["digest"] == "abc.dir"
