"""Options declared once (pipelines/common_options.py): every command that takes --tracking-uri, --cache-dir
or --device binds the same environment variable with the same help; the command line wins over it; and
--protocol, --dataset, --model complete from the registries through click's own shell completion."""
import os
import subprocess
import sys

import click
import pytest

from pipelines.cli import cli

ENV_OPTIONS = {"tracking_uri": "MLFLOW_TRACKING_URI", "cache_dir": "DDR_CACHE_DIR", "device": "DDR_DEVICE"}


def _commands(group, path=("ddr",)):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path + (name,))
        else:
            yield " ".join(path + (name,)), cmd


def test_env_options_bind_their_variable_with_one_help_text_everywhere():
    seen = {name: {} for name in ENV_OPTIONS}
    for path, cmd in _commands(cli):
        for p in cmd.params:
            if p.name in ENV_OPTIONS:
                assert p.envvar == ENV_OPTIONS[p.name], f"{path} --{p.name} does not bind {ENV_OPTIONS[p.name]}"
                seen[p.name][path] = p.help
    for name, helps in seen.items():
        assert len(helps) >= 2, f"--{name} is taken by {sorted(helps)}"
        assert len(set(helps.values())) == 1, f"--{name} has several help texts: {helps}"
    assert {"ddr eval lrs", "ddr eval grid", "ddr teacher train", "ddr distill"} <= set(seen["device"])
    assert {"ddr eval acc", "ddr eval grid", "ddr server", "ddr ui", "ddr registry publish"} <= set(seen["tracking_uri"])


ARGS = ["--distilled", "d", "--dataset", "digits", "--ipc", "1"]


def _params(args, monkeypatch, **env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    lrs = cli.commands["eval"].commands["lrs"]
    return lrs.make_context("lrs", ARGS + args).params


def test_the_environment_fills_an_option_and_the_command_line_wins(monkeypatch):
    env = dict(DDR_DEVICE="cuda:3", DDR_CACHE_DIR="/tmp/c", MLFLOW_TRACKING_URI="http://127.0.0.1:1")
    p = _params([], monkeypatch, **env)
    assert (p["device"], p["cache_dir"], p["tracking_uri"]) == ("cuda:3", "/tmp/c", "http://127.0.0.1:1")
    p = _params(["--device", "cpu", "--cache-dir", "c2", "--tracking-uri", "sqlite:///x.db"], monkeypatch, **env)
    assert (p["device"], p["cache_dir"], p["tracking_uri"]) == ("cpu", "c2", "sqlite:///x.db")
    for k in env:
        monkeypatch.delenv(k)
    p = _params([], monkeypatch)
    assert (p["device"], p["cache_dir"], p["tracking_uri"]) == ("auto", None, None)  # the library's defaults


def test_a_bad_device_from_the_environment_is_refused_in_one_line(ddr_cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DDR_DEVICE", "warp-drive")
    code, out, err = ddr_cli("teacher", "train", "--dataset", "digits", "--out", "t")
    assert code == 2 and err.strip().splitlines() == ["ddr: error: unknown device 'warp-drive'; use cpu, cuda, cuda:N or auto"]
    assert not (tmp_path / "t").exists()


def _complete(words):
    """What bash would offer for the last of `words`, through click's completion protocol."""
    env = {**os.environ, "_DDR_COMPLETE": "bash_complete", "COMP_WORDS": " ".join(words),
           "COMP_CWORD": str(len(words) - 1)}
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [line.split(",", 1) for line in proc.stdout.splitlines()]


@pytest.mark.parametrize("words, expect", [
    (["ddr", "eval", "lrs", "--protocol", "digits-lrs-so"],
     ["digits-lrs-soft", "digits-lrs-soft-s", "digits-lrs-soft-s-val", "digits-lrs-soft-val"]),
    (["ddr", "teacher", "train", "--dataset", "cifar1"], ["cifar10", "cifar100"]),
    (["ddr", "protocols", "show", "digits-ars-"], ["digits-ars-hard", "digits-ars-hard-val"]),
    (["ddr", "teacher", "train", "--model", "ConvNet-3-"], ["ConvNet-3-BN", "ConvNet-3-LN", "ConvNet-3-NN"]),
])
def test_names_complete_from_the_registries(words, expect):
    got = _complete(words)
    assert sorted(value for kind, value in got) == expect and {kind for kind, _ in got} == {"plain"}


def test_a_protocol_no_name_matches_completes_as_a_yaml_path():
    assert _complete(["ddr", "eval", "acc", "--protocol", "my/own"]) == [["file", "my/own"]]


def test_the_bash_script_is_what_the_readme_says_to_source():
    env = {**os.environ, "_DDR_COMPLETE": "bash_source"}
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "_DDR_COMPLETE=bash_complete" in proc.stdout and "complete " in proc.stdout
