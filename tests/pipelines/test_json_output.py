"""pipelines.json_output in a real process: with --json only the document reaches stdout, whatever else the
command, a stream bound before it ran (as DVC's logging binds sys.stdout) or a child process writes there."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = """
import logging, subprocess, sys
import click
from pipelines.json_output import emit, json_option

bound = logging.getLogger("bound")  # a handler holding the stdout stream object, as dvc.logger.setup() makes
bound.addHandler(logging.StreamHandler(sys.stdout))
bound.setLevel(logging.INFO)

@click.command()
@click.option("--fail", is_flag=True)
@json_option()
def cmd(fail, as_json):
    print("print")
    click.echo("echo")
    bound.info("logged")
    subprocess.run(["echo", "child"], check=True)
    emit({"answer": 42}, "the text", as_json)
    if fail:
        sys.exit(1)

cmd.main(standalone_mode=False)
print("after")  # stdout is stdout again once the command is done
"""


def _run(*argv):
    proc = subprocess.run([sys.executable, "-c", COMMAND, *argv], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode, proc.stdout, proc.stderr


def test_only_the_document_reaches_stdout():
    code, out, err = _run("--json")
    assert code == 0, err
    doc, after, _ = out.rsplit("\n", 2)
    assert json.loads(doc) == {"answer": 42} and after == "after"
    assert err.splitlines() == ["print", "echo", "logged", "child", "the text"]


def test_without_json_everything_stays_on_stdout_and_a_failure_keeps_its_status():
    code, out, err = _run()
    assert code == 0 and out.splitlines() == ["print", "echo", "logged", "child", "the text", "after"] and err == ""
    code, out, err = _run("--json", "--fail")
    assert code == 1 and json.loads(out) == {"answer": 42} and err.splitlines()[-1] == "the text"
