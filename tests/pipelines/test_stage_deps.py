"""dvc.yaml covers every line of project code each stage's command can run.

The import closure of a stage's `ddr ...` command is walked statically: the module defining the click
command, followed through every import it makes (module level and inside functions, since the CLI imports
lazily), plus the `ddr` entry point and what it imports at module level. Every project file in that closure
must lie under one of the stage's deps, or `dvc repro` would not notice a change to code that moves numbers.
"""
import ast
import shlex
from pathlib import Path

import click
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ddr", "pipelines", "registry")


def _file(module: str) -> Path | None:
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    base = ROOT.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(path: Path, module: str, deep: bool) -> dict[str, bool]:
    """Modules `path` imports -> whether to walk them deep. deep: also imports inside functions. A parent
    package that Python runs only on the way to a submodule is walked shallow: its module level runs, its
    functions (e.g. ddr.evaluate's lazy import) do not."""
    tree = ast.parse(path.read_text())
    nodes = ast.walk(tree) if deep else _module_level(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names if _file(f"{base}.{a.name}")]  # submodules
            found.update(names if names and len(names) == len(node.names) else [base, *names])
    out: dict[str, bool] = {}
    for name in found:
        parts = name.split(".")
        for i in range(1, len(parts)):
            out.setdefault(".".join(parts[:i]), False)
        out[name] = deep
    return {m: d for m, d in out.items() if _file(m) is not None}


def _module_level(tree: ast.Module):
    """Nodes run at import: module body, descending into if/try/with blocks but not into functions."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def closure(roots: dict[str, bool]) -> set[Path]:
    """Files reachable from `roots` (module -> deep); a module reached deep once is walked deep."""
    seen: dict[str, bool] = {}
    todo = list(roots.items())
    while todo:
        module, deep = todo.pop()
        if module in seen and (seen[module] or not deep):
            continue
        seen[module] = deep
        todo.extend(_imports(_file(module), module, deep).items())
    return {_file(m) for m in seen}


def command_module(words: list[str]) -> str:
    """The module defining the click command `ddr WORDS...`."""
    from pipelines.cli import cli

    cmd: click.Command = cli
    ctx = click.Context(cli)
    for word in words:
        if not isinstance(cmd, click.Group) or word.startswith("-"):
            break
        sub = cmd.get_command(ctx, word)
        if sub is None:
            break
        cmd = sub
    assert not isinstance(cmd, click.Group), f"`ddr {' '.join(words)}` names no command"
    return cmd.callback.__module__


def stage_commands(cmd: str) -> list[list[str]]:
    out = []
    for part in cmd.replace("\n", " ").split("&&"):
        words = shlex.split(part)
        if words and words[0] == "ddr":
            out.append(words[1:])
    return out


def _stages():
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT)
    return any(rel == Path(d) or Path(d) in rel.parents for d in deps)


@pytest.mark.parametrize("name", list(_stages()))
def test_stage_deps_cover_the_import_closure_of_its_commands(name):
    stage = _stages()[name]
    commands = stage_commands(stage["cmd"])
    assert commands, f"stage {name} runs no ddr command"
    roots = {"pipelines.cli": False}
    for words in commands:
        roots[command_module(words)] = True
    files = closure(roots)
    missing = sorted(str(f.relative_to(ROOT)) for f in files if not _covered(f, stage["deps"]))
    assert not missing, f"dvc.yaml stage '{name}' runs code it does not depend on: {missing}"


def test_the_walker_sees_function_level_imports():
    # eval_cmd imports ddr.eval.api inside the command function only; the closure must still reach the seeds
    files = closure({"pipelines.eval_cmd": True})
    assert ROOT / "ddr" / "seeds.py" in files
    shallow = closure({"pipelines.eval_cmd": False})
    assert ROOT / "ddr" / "seeds.py" not in shallow



@pytest.mark.slow
def test_editing_the_seeds_makes_dvc_report_the_stages_that_run_them_changed(tmp_path):
    """Real DVC: lock every stage over placeholder outputs (nothing is computed), edit ddr/seeds.py, and
    `dvc status` must name the stages whose code derives seeds (teacher, evaluate, ...) and no stage that
    does not run it (real data, random baselines, distillers)."""
    import json
    import os
    import re
    import shutil
    import subprocess
    import sys

    repo = tmp_path / "project"
    repo.mkdir()
    for name in ("ddr", "pipelines", "registry", "tools", "submissions"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", "params.yaml", ".dvcignore"):
        shutil.copy(ROOT / name, repo / name)
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}

    def dvc(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc.stdout

    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc("init", "-q")
    outs = re.findall(r'node\d+\["([^"]+)"\]', dvc("dag", "--outs", "--md"))
    assert "results" in outs and "models/teacher-digits" in outs
    for out in outs:  # placeholders, so `dvc commit` can lock the graph without running it
        path = repo / out
        if path.suffix in (".json", ".md", ".csv"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}\n")
        else:
            path.mkdir(parents=True, exist_ok=True)
            (path / "placeholder").write_text("x\n")
    dvc("commit", "-f", "-q")
    assert json.loads(dvc("status", "--json")) == {}
    (repo / "registry" / "__pycache__").mkdir(exist_ok=True)  # bytecode a later command writes is no change
    (repo / "registry" / "__pycache__" / "verify.cpython-3.pyc").write_bytes(b"\0")
    assert json.loads(dvc("status", "--json")) == {}
    with open(repo / "ddr" / "seeds.py", "a") as f:
        f.write("\n# a change to how seeds are derived\n")
    changed = sorted(json.loads(dvc("status", "--json")))
    assert "evaluate" in changed and "teacher" in changed, changed
    assert not [s for s in changed if s.startswith(("distill", "random", "real"))], changed
