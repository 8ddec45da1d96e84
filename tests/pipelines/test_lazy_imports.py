"""Commands that train nothing import neither torch nor mlflow (each costs seconds of start-up)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.pipelines.cli_probe import PROBE, probe

ROOT = Path(__file__).resolve().parents[2]
FROZEN = ROOT / "tests" / "registry" / "fixtures" / "frozen"


def _all_commands() -> list[list[str]]:
    from pipelines.cli import cli

    out: list[list[str]] = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        out.append(path)
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), path + [name])

    walk(cli, [])
    return out


def test_help_of_every_command_imports_neither_torch_nor_mlflow():
    # one interpreter per command would cost minutes; --help of each in turn, in one process, is the same test
    # because a command's imports happen on invocation, and the modules accumulate in sys.modules.
    commands = _all_commands()
    assert len(commands) > 15 and ["eval", "grid"] in commands
    script = PROBE.replace("    main(sys.argv[1:])\n", "    [run(c) for c in CMDS]\n")
    script = ("import sys\nfrom pipelines.cli import main\nCMDS = " + json.dumps(commands) + "\n"
              "def run(c):\n    try:\n        main(c + ['--help'])\n    except SystemExit as exc:\n"
              "        assert exc.code == 0, (c, exc.code)\n" + script)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE ")]
    report = json.loads(line[6:])
    assert (report["code"], report["heavy"]) == (0, []), proc.stderr[-2000:]


@pytest.mark.parametrize("argv", [
    ["protocols", "ls"],
    ["protocols", "show", "digits-lrs-soft"],
    ["rank", *(str(p) for p in sorted((FROZEN / "releases" / "1.1.0" / "results").glob("*.json"))[:2])],
    ["registry", "verify", "--releases", str(FROZEN / "releases"), "--keyring", str(FROZEN / "keyring.json")],
    ["registry", "ls", "--releases", str(FROZEN / "releases")],
    ["data", "ls"],
])
def test_commands_that_train_nothing_stay_light(argv, tmp_path):
    report = probe(*argv, cwd=tmp_path)
    assert report["code"] == 0, report
    assert "torch" not in report["heavy"] and "mlflow" not in report["heavy"], report


def test_the_probe_sees_torch_when_a_command_does_import_it(tmp_path):
    report = probe("data", "random", "--dataset", "digits", "--ipc", "1", "--seed", "0", "--out", "r", cwd=tmp_path)
    assert report["code"] == 0 and "torch" in report["heavy"]
