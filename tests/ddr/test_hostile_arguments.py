"""Hostile or careless input to the Python API and the commands around the grid: each is refused with one
DDRError (the CLI: one line on stderr, exit status 2) before anything trains or is written."""
import math
import os
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ddr
from ddr.errors import DDRError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IMAGES = torch.zeros(10, 1, 8, 8)  # digits, ipc 1, in the normalised pixel space


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A working folder where an evaluation would write (its store, cache, output): nothing may appear."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DDR_CACHE_DIR", raising=False)
    return tmp_path


def refused(folder: Path, **overrides) -> str:
    """evaluate() with `overrides` raises DDRError, and `folder` is as it was; returns the message."""
    before = listing(folder)
    args = {"distilled": IMAGES, "dataset": "digits", "ipc": 1, "protocol": str(FIXTURES / "tiny-lrs.yaml"),
            "tracking_uri": f"sqlite:///{folder / 'mlflow.db'}", "cache_dir": folder / "cache",
            "out": folder / "out", **overrides}
    with pytest.raises(DDRError) as info:
        ddr.evaluate("lrs", **args)
    assert listing(folder) == before
    message = str(info.value)
    assert message and "\n" not in message
    return message


API_CASES = {
    "meta-device images": ({"distilled": torch.zeros(10, 1, 8, 8, device="meta")}, "meta device"),
    "meta-device labels": ({"labels": torch.zeros(10, dtype=torch.long, device="meta")}, "meta device"),
    "labels as a list": ({"labels": list(range(10))}, "labels must be a tensor"),
    "complex labels": ({"labels": torch.arange(10).to(torch.complex64)}, "complex64"),
    "bool labels": ({"labels": torch.ones(10, dtype=torch.bool)}, "bool"),
    "ipc as text": ({"ipc": "2"}, "ipc must be a whole number"),
    "ipc as a float": ({"ipc": 1.0}, "ipc must be a whole number"),
    "ipc as a bool": ({"ipc": True}, "ipc must be a whole number"),
    "lr as text": ({"lr": "fast"}, "lr must be a number"),
    "lr NaN": ({"lr": math.nan}, "lr must be positive and finite"),
    "lr negative": ({"lr": -0.1}, "lr must be positive and finite"),
    "rounds fractional": ({"rounds": 1.5}, "rounds must be a whole number"),
    "rounds as text": ({"rounds": "2"}, "rounds must be a whole number"),
    "weight as text": ({"weight": "half"}, "weight must be a number"),
    "weight infinite": ({"weight": math.inf}, "weight must be a finite number"),
    "dataset not a name": ({"dataset": 7}, "dataset must be a string"),
}


@pytest.mark.parametrize("case", API_CASES, ids=list(API_CASES))
def test_the_api_refuses_bad_arguments_before_anything_is_written(scratch, case):
    overrides, says = API_CASES[case]
    assert says in refused(scratch, **overrides)


def test_a_cache_that_is_a_file_is_refused_before_training(scratch):
    (scratch / "cache").write_text("not a folder")
    assert "is a file" in refused(scratch)
    assert "is a file" in refused(scratch, cache_dir=scratch / "cache" / "sub")


@pytest.mark.parametrize("damage", ["junk", "truncated", "header-then-junk"])
def test_a_damaged_store_is_refused_untouched(scratch, migrated_store, damage):
    db = scratch / "mlflow.db"
    whole = migrated_store.read_bytes()
    db.write_bytes({"junk": b"not a database\n" * 10, "truncated": whole[: len(whole) // 3],
                    "header-then-junk": whole[:100] + os.urandom(4096)}[damage])
    content = db.read_bytes()
    assert "MLflow store" in refused(scratch)
    assert db.read_bytes() == content


non_whole = st.one_of(st.text(max_size=5), st.floats(allow_nan=True).filter(lambda f: not float(f).is_integer()),
                      st.booleans(), st.lists(st.integers(1, 3), max_size=2), st.just(2.0))
not_a_number = st.one_of(st.text(max_size=5), st.booleans(), st.lists(st.floats(), max_size=2), st.just({}),
                         st.complex_numbers(allow_nan=False).filter(lambda z: z.imag != 0))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["ipc", "rounds"]), value=non_whole)
def test_property_ipc_and_rounds_must_be_whole_numbers(scratch, field, value):
    assert f"{field} must be a whole number" in refused(scratch, **{field: value})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["lr", "weight"]), value=not_a_number)
def test_property_lr_and_weight_must_be_numbers(scratch, field, value):
    assert f"{field} must be a number" in refused(scratch, **{field: value})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(port=st.one_of(st.integers(max_value=0), st.integers(min_value=65536)))
def test_property_server_and_ui_refuse_a_port_outside_1_to_65535(scratch, ddr_cli, port):
    for command in ("server", "ui"):
        code, out, err = ddr_cli(command, "--port", str(port))
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
        assert "1-65535" in err
    assert listing(scratch) == []


# ---- the commands, through the real entry point ----

GRID = "name: g\ndatasets: [digits]\nipc: [1]\nprotocol: tiny-lrs.yaml\nmethods:\n  r: {random_seed: 1}\n"


@pytest.fixture
def gridfolder(scratch):
    (scratch / "tiny-lrs.yaml").write_text((FIXTURES / "tiny-lrs.yaml").read_text())
    (scratch / "grid.yaml").write_text(GRID)
    return scratch


def one_line_exit_2(ddr_cli, folder, *argv):
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    code, out, err = ddr_cli(*argv)
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("ddr: error: "), (code, err)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before  # nothing written or changed
    return err


def test_grid_and_eval_refuse_a_cache_that_is_a_file(gridfolder, ddr_cli, monkeypatch):
    (gridfolder / "cachefile").write_text("x")
    monkeypatch.setenv("DDR_CACHE_DIR", str(gridfolder / "cachefile"))
    assert "is a file" in one_line_exit_2(ddr_cli, gridfolder, "eval", "grid", "grid.yaml")
    assert "is a file" in one_line_exit_2(ddr_cli, gridfolder, "eval", "grid", "grid.yaml", "--no-mlflow")


@pytest.mark.parametrize("damage", ["junk", "truncated"])
def test_grid_and_ui_refuse_a_damaged_store_in_one_line(gridfolder, ddr_cli, migrated_store, damage):
    whole = migrated_store.read_bytes()
    (gridfolder / "mlflow.db").write_bytes(b"\x00junk" * 50 if damage == "junk" else whole[: len(whole) // 2])
    assert "MLflow store" in one_line_exit_2(ddr_cli, gridfolder, "eval", "grid", "grid.yaml")
    assert "MLflow store" in one_line_exit_2(ddr_cli, gridfolder, "ui", "--port", "5999")


@pytest.mark.parametrize("port", ["70000", "-1", "0"])
def test_server_refuses_a_port_outside_the_tcp_range(scratch, ddr_cli, port):
    assert "1-65535" in one_line_exit_2(ddr_cli, scratch, "server", "--port", port)
