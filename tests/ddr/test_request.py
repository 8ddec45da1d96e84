"""One request: the `ddr eval` options, a grid cell and `ddr.evaluate` all build the same EvalRequest, with
one name per concept."""
import inspect
import subprocess
import sys

import pytest

from ddr.errors import DDRError
from ddr.eval.api import evaluate
from ddr.eval.request import EvalRequest, request_fields
from ddr.grid.cell import Cell
from pipelines.eval_cmd import lrs_cmd, request_from_options

CLI_ONLY = {"force", "as_json", "show_plan"}  # what the command does (with the result), not what is evaluated
IN_MEMORY_ONLY = {"kind", "labels", "lr", "tags"}  # the subcommand names the kind; tensors and tags come from Python


def test_every_eval_option_is_a_request_field_under_the_same_name():
    options = {p.name for p in lrs_cmd.params}
    assert options - CLI_ONLY <= set(request_fields()), options - CLI_ONLY - set(request_fields())
    assert set(request_fields()) - IN_MEMORY_ONLY <= options, set(request_fields()) - IN_MEMORY_ONLY - options


def test_evaluate_takes_the_request_fields_and_nothing_else_but_progress():
    params = set(inspect.signature(evaluate).parameters)
    assert params == set(request_fields()) | {"progress"}


def test_the_cli_the_api_and_a_grid_cell_build_equal_requests(tmp_path):
    args = ["--distilled", "set", "--dataset", "digits", "--ipc", "2", "--protocol", "digits-lrs-hard",
            "--random", "r0", "--random", "r1", "--no-mlflow", "--device", "cpu", "--out", str(tmp_path / "o")]
    params = lrs_cmd.make_context("lrs", args).params  # click's own parse of the command line
    cli = request_from_options("lrs", {k: v for k, v in params.items() if k not in CLI_ONLY})
    by_api = EvalRequest("lrs", distilled="set", dataset="digits", ipc=2, protocol="digits-lrs-hard",
                         random=["r0", "r1"], track=False, device="cpu", out=str(tmp_path / "o"))
    assert cli == by_api

    cell = Cell(method="set", dataset="digits", ipc=2, metric="lrs", protocol="digits-lrs-hard",
                protocol_name="digits-lrs-hard", protocol_version=1, seed_base=0, rounds=2, weight=0.5, digest="x",
                random=[{"path": "r0", "md5": "a"}, {"path": "r1", "md5": "b"}])
    by_cell = cell.request("set", device="cpu", tracking_uri=None, cache_dir=None, tags={}, out=str(tmp_path / "o"))
    assert by_cell == by_api.replace(rounds=2, weight=0.5, method="set")

    # the defaults agree too
    bare = lrs_cmd.make_context("lrs", ["--distilled", "set", "--dataset", "digits", "--ipc", "2"]).params
    assert request_from_options("lrs", {k: v for k, v in bare.items() if k not in CLI_ONLY}) == \
        EvalRequest("lrs", distilled="set", dataset="digits", ipc=2)


@pytest.mark.parametrize("changes, message", [
    ({"ipc": "2"}, "ipc must be a whole number"),
    ({"rounds": 1.5}, "rounds must be a whole number"),
    ({"label": "fuzzy"}, "label must be 'hard' or 'soft'"),
    ({"lr": float("nan")}, "lr must be positive and finite"),
    ({"weight": "half"}, "weight must be a number"),
    ({"random": "one-folder"}, "random must be a list of paths"),
    ({"labels": [0, 1]}, "labels must be a tensor"),
])
def test_a_request_refuses_bad_fields_when_it_is_built(changes, message):
    base = dict(distilled="set", dataset="digits", ipc=2)
    with pytest.raises(DDRError, match=message):
        EvalRequest("lrs", **{**base, **changes})


def test_a_request_is_frozen_and_imports_no_torch():
    req = EvalRequest("acc", distilled="set", dataset="digits", ipc=1, random=("a",))
    with pytest.raises(AttributeError):
        req.ipc = 3  # type: ignore[misc]
    code = ("import sys; from ddr.eval.request import EvalRequest; "
            "EvalRequest('lrs', distilled='x', dataset='digits', ipc=1); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
