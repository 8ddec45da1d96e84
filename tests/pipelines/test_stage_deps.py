"""dvc.yaml's code deps are exactly the code each stage's command can run.

The import closure of a stage's `ddr ...` command is walked statically: the modules defining the click
command and the groups on its way, followed through every import they make (module level and inside
functions), plus the `ddr` entry point and what it imports at module level (the CLI imports each command's
module only when that command runs: pipelines.lazy_group). Every project file in that closure must lie under
one of the stage's deps, or `dvc repro` would not notice a change to code that moves numbers; and no dep may
cover project code outside it (but the folders ALLOWED names), or an unrelated edit would rerun the stage.
"""
import ast
import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
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
        if target := _lazy_target(node):
            found.add(target)
        elif isinstance(node, ast.Import):
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


def _lazy_target(node: ast.AST) -> str | None:
    """The module a statement runs without importing it: Registry.register_lazy("name", "module:attr") (imported
    when the entry is used), or `[sys.executable, "-m", "module", ...]` (a child process runs it)."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "register_lazy"
            and len(node.args) == 2 and isinstance(node.args[1], ast.Constant) and ":" in str(node.args[1].value)):
        return str(node.args[1].value).partition(":")[0]
    if isinstance(node, (ast.List, ast.Tuple)):
        words = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
        for flag, module in zip(words, words[1:]):
            if flag == "-m" and isinstance(module, str) and _file(module):
                return module
    return None


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


def command_modules(words: list[str]) -> list[str]:
    """The modules defining the click command `ddr WORDS...` and the groups it is reached through (each group's
    callback runs first, and LazyGroup imports the command's module on the way)."""
    from pipelines.cli import cli

    cmd: click.Command = cli
    ctx = click.Context(cli)
    modules = [cli.callback.__module__]
    for word in words:
        if not isinstance(cmd, click.Group) or word.startswith("-"):
            break
        sub = cmd.get_command(ctx, word)
        if sub is None:
            break
        cmd = sub
        modules.append(cmd.callback.__module__)
    assert not isinstance(cmd, click.Group), f"`ddr {' '.join(words)}` names no command"
    return modules


def stage_commands(cmd: str) -> list[list[str]]:
    """The `ddr` commands a stage runs: its own, and those of the project's scripts it runs (tools/*.sh)."""
    out = []
    for part in cmd.replace("\n", " ").split("&&"):
        words = shlex.split(part)
        if words and words[0] == "ddr":
            out.append(words[1:])
        elif words and words[0].endswith(".sh") and (ROOT / words[0]).is_file():
            lines = (ROOT / words[0]).read_text().splitlines()
            out += [shlex.split(line, comments=True)[1:] for line in lines if line.strip().startswith("ddr ")]
    return out


def _stages():
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT)
    return any(rel == Path(d) or Path(d) in rel.parents for d in deps)


def stage_closure(stage: dict) -> set[Path]:
    """The project files a stage's `ddr` commands can run."""
    roots = {"pipelines.cli": False}
    for words in stage_commands(stage["cmd"]):
        roots.update(dict.fromkeys(command_modules(words), True))
    return closure(roots)


# Package folders a stage may depend on whole although its command imports only part of their code, with the
# reason; only a stage whose command imports the package itself (its __init__.py) may.
ALLOWED = {
    "ddr/protocols": "holds the shipped protocol YAML files, which the loader (its __init__.py) reads as data and "
                     "DVC cannot name by a pattern; its other modules (editions, golden records, ...) come with it",
}


def _code_under(dep: str) -> set[Path]:
    """The project's Python files a dep covers (none for data, models, results, tools)."""
    path = ROOT / dep
    if Path(dep).parts[0] not in PACKAGES:
        return set()
    assert path.exists(), f"dvc.yaml names a dep that does not exist: {dep}"
    return {path} if path.is_file() else {p for p in path.rglob("*.py") if "__pycache__" not in p.parts}


@pytest.mark.parametrize("name", list(_stages()))
def test_stage_deps_cover_the_import_closure_of_its_commands(name):
    stage = _stages()[name]
    assert stage_commands(stage["cmd"]), f"stage {name} runs no ddr command"
    files = stage_closure(stage)
    missing = sorted(str(f.relative_to(ROOT)) for f in files if not _covered(f, stage["deps"]))
    assert not missing, f"dvc.yaml stage '{name}' runs code it does not depend on: {missing}"


@pytest.mark.parametrize("name", list(_stages()))
def test_stage_deps_name_no_code_outside_the_import_closure_of_its_commands(name):
    stage = _stages()[name]
    files = stage_closure(stage)
    for folder in set(ALLOWED) & set(stage["deps"]):
        assert ROOT / folder / "__init__.py" in files, f"stage '{name}' never imports {folder}: {ALLOWED[folder]}"
    extra = sorted(str(f.relative_to(ROOT)) for d in stage["deps"] if d not in ALLOWED for f in _code_under(d) - files)
    assert not extra, f"dvc.yaml stage '{name}' depends on code its command never runs: {extra}"


# Modules that read files of the project as data (no import leads to them) -> those files.
DATA = {
    "ddr/protocols/__init__.py": "ddr/protocols/*.yaml",  # the shipped protocols
    "registry/page/render.py": "registry/page/*/*",  # the page's Jinja2 templates, style sheet and scripts
}


@pytest.mark.parametrize("name", list(_stages()))
def test_a_stage_depends_on_the_files_its_code_reads_as_data(name):
    stage = _stages()[name]
    files = stage_closure(stage)
    for reader, pattern in DATA.items():
        if ROOT / reader in files:
            data = [f for f in ROOT.glob(pattern) if "__pycache__" not in f.parts]
            missing = sorted(str(f.relative_to(ROOT)) for f in data if not _covered(f, stage["deps"]))
            assert data and not missing, f"stage '{name}' runs {reader}, which reads {missing or pattern}"


def test_a_stage_runs_the_ddr_commands_of_its_scripts_too():
    # release runs tools/release-key.sh, which makes the signing key with `ddr registry keygen`
    assert ["registry", "keygen"] in [c[:2] for c in stage_commands(_stages()["release"]["cmd"])]
    assert ROOT / "pipelines" / "registry_keys_cmd.py" in stage_closure(_stages()["release"])


def test_the_ranking_is_code_of_rank_and_release_only():
    ranking = ROOT / "registry" / "ranking.py"
    assert sorted(n for n, st in _stages().items() if _covered(ranking, st["deps"])) == ["rank", "release"]
    real = stage_closure(_stages()["real"])
    assert ranking not in real and ROOT / "pipelines" / "data_cmd.py" in real
    assert not {ROOT / "pipelines" / "eval_cmd.py", ROOT / "pipelines" / "rank_cmd.py"} & real


def test_the_walker_sees_function_level_imports_and_lazy_registrations():
    # eval_cmd imports ddr.eval.api inside the command function only; the closure must still reach the seeds
    files = closure({"pipelines.eval_cmd": True})
    assert ROOT / "ddr" / "seeds.py" in files
    shallow = closure({"pipelines.eval_cmd": False})
    assert ROOT / "ddr" / "seeds.py" not in shallow
    # the executors are registered by name ('module:attr'), imported when a grid asks for one
    assert ROOT / "ddr" / "grid" / "executors.py" in closure({"ddr.grid.executor_registry": False})
    # the MLflow server runs under `python -m ddr.grid.guard`, a module nothing imports
    assert ROOT / "ddr" / "grid" / "guard.py" in closure({"ddr.grid.server": True})


@pytest.fixture(scope="module")
def locked_pipeline(tmp_path_factory):
    """The project's code, dvc.yaml and params in a temporary git + DVC repository with every stage locked
    over placeholder outputs (`dvc commit`: nothing is computed), and `dvc status` of it -> changed stages."""
    repo = tmp_path_factory.mktemp("locked") / "project"
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

    def changed() -> list[str]:
        return sorted(json.loads(dvc("status", "--json")))

    assert changed() == []
    return repo, changed


@contextlib.contextmanager
def _edited(path: Path):
    """`path` with one more comment line, restored after."""
    text = path.read_text()
    path.write_text(text + "\n# an edit\n")
    try:
        yield
    finally:
        path.write_text(text)


def test_editing_the_ranking_makes_dvc_rerun_only_rank_and_release(locked_pipeline):
    """Real DVC over the real dvc.yaml: a change to how rankings are built is a change of `rank` and `release`
    only; the stages before them (real data, teacher, baselines, distillers, evaluations) stay as they are."""
    repo, changed = locked_pipeline
    with _edited(repo / "registry" / "ranking.py"):
        assert changed() == ["rank", "release"]
    assert changed() == []


def test_editing_the_seeds_makes_dvc_report_the_stages_that_run_them_changed(locked_pipeline):
    """`dvc status` names the stages whose code derives seeds (teacher, evaluate) and no other; bytecode a
    command writes beside the code is no change."""
    repo, changed = locked_pipeline
    (repo / "registry" / "__pycache__").mkdir(exist_ok=True)
    (repo / "registry" / "__pycache__" / "verify.cpython-3.pyc").write_bytes(b"\0")
    assert changed() == []
    with _edited(repo / "ddr" / "seeds.py"):
        assert changed() == ["evaluate", "teacher"]
