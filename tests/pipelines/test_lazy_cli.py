"""The `ddr` groups import a command's module only when that command runs (pipelines.lazy_group), and their
help lists every command as if all were imported."""
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from pipelines.lazy_group import LazyGroup
from tests.pipelines.cli_probe import probe

ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter: every lazy group's help before and after importing all its commands.
HELPS = """
import json, click
from pipelines.cli import cli

out = {}

def check(group, name):
    ctx = click.Context(group, info_name=name)
    before = group.get_help(ctx)
    for n in group.lazy:
        group.get_command(ctx, n)
    out[name] = [before, group.get_help(ctx), sorted(group.lazy)]
    return ctx

ctx = check(cli, "ddr")  # first: nothing of a command imported yet
for name in ("eval", "registry"):
    check(cli.get_command(ctx, name), "ddr " + name)
print("HELPS " + json.dumps(out))
"""


def _python(script: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)


def test_ddr_help_lists_every_command_without_importing_one():
    report = probe("--help")
    assert report["code"] == 0
    assert [m for m in report["loaded"] if m.startswith("pipelines.")] == ["pipelines.cli", "pipelines.lazy_group"]
    for name in ("data", "distill", "eval", "rank", "registry", "report", "submit", "teacher", "ui"):
        assert f"\n  {name} " in report["stdout"], name


def test_each_group_help_is_the_same_before_and_after_its_commands_are_imported():
    # the table's sentences are the commands' own: shortened by click's rule, the lines are identical
    proc = _python(HELPS)
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("HELPS ")]
    helps = json.loads(line[6:])
    assert set(helps) == {"ddr", "ddr eval", "ddr registry"}
    for path, (before, after, names) in helps.items():
        assert before == after, path
        assert all(f"\n  {n} " in before for n in names), path


def test_ddr_data_real_imports_neither_the_ranking_nor_other_commands(tmp_path):
    report = probe("data", "real", "--dataset", "digits", "--out", "data/real/digits", cwd=tmp_path)
    assert report["code"] == 0, report["stderr"]
    manifest = json.loads((tmp_path / "data" / "real" / "digits" / "manifest.json").read_text())
    assert manifest["dataset"] == "digits" and manifest["train"] > 0 and len(manifest["sha256"]) == 64
    loaded = set(report["loaded"])
    assert "pipelines.data_cmd" in loaded
    assert not {m for m in loaded if m.startswith("registry")}, sorted(loaded)
    assert not {"pipelines.eval_cmd", "pipelines.rank_cmd", "pipelines.grid_cmd", "pipelines.registry_cmd"} & loaded


def test_ddr_eval_lrs_help_loads_its_command_only():
    report = probe("eval", "lrs", "--help")
    assert report["code"] == 0
    assert "Label-robust score" in report["stdout"] and "--distilled" in report["stdout"]
    loaded = set(report["loaded"])
    assert "pipelines.eval_cmd" in loaded and "pipelines.grid_cmd" not in loaded
    assert not {m for m in loaded if m.startswith("registry")}, sorted(loaded)


def test_an_unknown_command_is_a_usage_error(ddr_cli):
    code, _, err = ddr_cli("evl", "lrs")
    assert code == 2 and "No such command 'evl'" in err
    code, _, err = ddr_cli("eval", "lsr")
    assert code == 2 and "No such command 'lsr'" in err


def test_a_table_entry_that_is_no_command_is_refused():
    group = LazyGroup("g", lazy={"bad": ("pipelines.cli:COMMANDS", "Not a command.")})
    with pytest.raises(TypeError, match="pipelines.cli:COMMANDS"):
        group.get_command(click.Context(group), "bad")
