import fcntl
import json
from pathlib import Path

import pytest

import ddr
from ddr.data import load_dataset, random_baseline
from ddr.errors import DDRError
from ddr.grid.cost import longest_first
from ddr.grid.runner import run_grid
from ddr.grid.spec import load_grid
from tests.grid.conftest import numbers, parent_runs


def test_serial_grid_equals_ddr_evaluate_and_is_never_recomputed(gridproj, new_store, serial_reference):
    uri = new_store(gridproj)
    spec = load_grid(gridproj / "grid.yaml")
    report = run_grid(spec, out=gridproj / "out", tracking_uri=uri)
    assert [c.status for c in report.cells] == ["ran", "ran"]
    ref = serial_reference(100)
    for c in report.cells:
        assert numbers(c.result) == numbers(ref[c.cell.id])  # MLflow on or off, same numbers
        direct = ddr.evaluate("lrs", distilled=random_baseline(load_dataset("digits"), c.cell.ipc, 100),
                              dataset="digits", ipc=c.cell.ipc, protocol="tiny-lrs.yaml", track=False,
                              use_cache=False)
        assert c.result.metrics == direct.metrics  # a cell is exactly one ddr.evaluate
        stored = json.loads((gridproj / "out" / "cells" / c.cell.id / "result.json").read_text())
        assert stored["metrics"] == c.result.metrics and stored["extra"]["cell"] == c.cell.id
        cell_json = json.loads((gridproj / "out" / "cells" / c.cell.id / "cell.json").read_text())
        assert cell_json["id"] == c.cell.id and cell_json["identity"]["digest"].startswith("mem:")
        [parent] = parent_runs(uri, c.cell.id)
        assert parent.info.status == "FINISHED" and parent.info.run_id == c.result.mlflow["run_id"]
        assert parent.data.tags["ddr.attempt"] == "1" and parent.data.tags["ddr.executor"] == "serial"
        assert parent.data.tags["ddr.method"] == "rand-a" and parent.data.tags["ddr.grid"] == "tiny-grid"
    summary = json.loads((gridproj / "out" / "grid.json").read_text())
    assert [c["status"] for c in summary["cells"]] == ["ran", "ran"]

    stamps = {p: p.stat().st_mtime_ns for p in (gridproj / "out" / "cells").rglob("result.json")}
    again = run_grid(spec, out=gridproj / "out", tracking_uri=uri)
    assert [c.status for c in again.cells] == ["cached", "cached"]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # found by hash, not recomputed
    assert all(len(parent_runs(uri, c.cell.id)) == 1 for c in again.cells)  # nothing new logged


def test_interrupted_grid_resumes_and_never_shows_half_a_cell(gridproj, new_store, serial_reference):
    uri = new_store(gridproj)
    spec = load_grid(gridproj / "grid.yaml")
    first, second = [c.id for c in longest_first(spec.cells())]  # in the order they are dispatched
    seen = []

    def ctrl_c_mid_second_cell(msg):
        seen.append(msg)
        if msg.startswith(f"{second} [4/9]"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_grid(spec, out=gridproj / "out", tracking_uri=uri, progress=ctrl_c_mid_second_cell)
    cells = gridproj / "out" / "cells"
    assert (cells / first / "result.json").is_file()
    assert not (cells / second / "result.json").exists()  # the half-finished cell is not a result
    assert not list((cells / second).glob(".*"))  # nor a stray temporary file
    assert [r.info.status for r in parent_runs(uri, second)] == ["KILLED"]
    with open(gridproj / "out" / ".lock") as f:  # the grid lock was released
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)

    progress = []
    report = run_grid(spec, out=gridproj / "out", tracking_uri=uri, progress=progress.append)
    assert {c.cell.id: c.status for c in report.cells} == {first: "cached", second: "ran"}
    assert any(m.startswith(f"{second} [3/9]") and m.endswith("(cached)") for m in progress)  # trainings reused
    ref = serial_reference(100)
    assert all(numbers(c.result) == numbers(ref[c.cell.id]) for c in report.cells)
    for cid in (first, second):
        assert len(parent_runs(uri, cid, "FINISHED")) == 1
    assert parent_runs(uri, second, "FINISHED")[0].data.tags["ddr.attempt"] == "2"


def test_a_finished_mlflow_run_is_adopted_not_recomputed(gridproj, new_store):
    """The driver died after the worker finished the cell's MLflow run but before storing result.json."""
    uri = new_store(gridproj)
    spec = load_grid(gridproj / "grid.yaml")
    report = run_grid(spec, out=gridproj / "out", tracking_uri=uri)
    lost = report.cells[1].cell
    (gridproj / "out" / "cells" / lost.id / "result.json").unlink()
    again = run_grid(spec, out=gridproj / "out", tracking_uri=uri)
    assert [c.status for c in again.cells] == ["cached", "adopted"]
    assert again.cells[1].result.metrics == report.cells[1].result.metrics
    assert len(parent_runs(uri, lost.id)) == 1  # still exactly one parent, FINISHED


def test_bad_input_is_not_retried_and_other_cells_finish(gridproj, digits):
    from ddr.data import write_distilled

    folder = gridproj / "sets" / "s-ipc1"
    write_distilled(folder, random_baseline(digits, 1, 9))
    (gridproj / "g.yaml").write_text("datasets: [digits]\nipc: [1]\nprotocol: tiny-lrs.yaml\nrounds: 1\n"
                                     "methods:\n  s: {path: 'sets/s-ipc{ipc}'}\n  r: {random_seed: 1}\n")
    spec = load_grid(gridproj / "g.yaml")
    cells = spec.cells()
    (folder / "lr.pt").write_bytes(b"changed after planning")
    spec.cells = lambda: cells  # as if the folder changed while the grid ran
    with pytest.raises(DDRError, match=r"1 cell\(s\) failed"):
        run_grid(spec, out=gridproj / "out", track=False, max_attempts=3)
    attempts = (gridproj / "out" / "cells" / cells[0].id / "attempts.jsonl").read_text().splitlines()
    assert [json.loads(a)["event"] for a in attempts] == ["start", "failed"]  # bad input: one attempt only
    assert "changed since the grid was planned" in json.loads(attempts[1])["error"]
    assert (gridproj / "out" / "cells" / cells[1].id / "result.json").is_file()


def test_cli_grid(gridproj, ddr_cli, serial_reference):
    code, out, err = ddr_cli("eval", "grid", "grid.yaml", "--no-mlflow", "--out", "g")
    assert code == 0, err
    ref = serial_reference(100)
    for cid, res in ref.items():
        line = next(line for line in out.splitlines() if line.startswith(cid))
        assert f"{res.metrics['lrs']['mean']:.4f}" in line and line.rstrip().endswith("ran")
        assert line.split()[4:6] == ["lrs", "hard"]  # hard- and soft-label cells of one metric are told apart
    assert out.splitlines()[0].split()[4:6] == ["metric", "labels"]
    assert "2 cells in" in out and "[9/9]" in err  # table on stdout, progress on stderr
    code, out, err = ddr_cli("eval", "grid", "grid.yaml", "--no-mlflow", "--out", "g", "--export", "exp", "--json")
    assert code == 0 and err.count("cached") == 2  # --json: the table on stderr, grid.json and more on stdout
    doc = json.loads(out)
    assert {k: v for k, v in doc.items() if k not in ("out", "exported")} == json.loads((gridproj / "g" / "grid.json").read_text())
    assert doc["out"] == "g" and sorted(c["id"] for c in doc["cells"]) == sorted(ref)
    assert {c["status"] for c in doc["cells"]} == {"cached"}
    assert len(doc["exported"]) == 2 and all(Path(p).is_file() and Path(p).name == "result.json" for p in doc["exported"])

    code, out, err = ddr_cli("eval", "grid", "nope.yaml", "--json")
    assert code == 2 and out == "" and err.strip().splitlines() == ["ddr: error: no such grid spec: nope.yaml"]
    code, out, err = ddr_cli("eval", "grid", "grid.yaml", "--workers", "2")
    assert code == 2 and "serial executor runs one cell at a time" in err


def test_ray_executor_without_ray_says_how_to_install(gridproj, monkeypatch):
    import builtins

    from ddr.grid.executors import RayExecutor

    real_import = builtins.__import__

    def no_ray(name, *a, **kw):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(DDRError, match=r"install the ray extra: pip install \.\[ray\]"):
        RayExecutor().start({}, print)
