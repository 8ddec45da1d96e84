"""Every name from outside becomes a path only through ddr.checks.confined: a walk over the command modules'
code for path joins (`a / b`, `os.path.join(a, b)`, `Path(a, b)`, `a.joinpath(b)`) whose added part is not a
constant. Each one must go through confined (release_file for the files a release names) or be on the
allow-list below, with the reason it is safe."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _builds_paths(path: Path) -> bool:
    """A module that imports neither pathlib nor os cannot build a path with `/`: its divisions are arithmetic
    (the registry's statistics and charts), so the walk leaves it out."""
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(n.split(".")[0] in ("pathlib", "os") for n in names):
            return True
    return False


MODULES = sorted(ROOT.glob("pipelines/*.py")) + [ROOT / "ddr" / "grid" / "pipeline.py"] + \
    [p for p in sorted(ROOT.glob("registry/*.py")) if _builds_paths(p)]

# (module, source of the join): why no name from outside reaches it. Keep this short: prefer confined.
ALLOWED = {
    ("pipelines/record_schemas.py", "args.out / name"):
        "name is one of the fixed schema file names the models define (protocol, recipe, result, ranking)",
    ("pipelines/data_cmd.py", 'Path(out) / f"seed{s}"'):
        "out is the user's own --out path; s is an int from range()",
    ("pipelines/registry_view_cmd.py", "path / name"):
        "name is one of four fixed file names picked by --format",
    ("ddr/grid/pipeline.py", "folder / cell_dir.relative_to(tmp)"):
        "cell_dir was made by confined; this names the same folder once the export is renamed into place",
    # The registry: versions go through registry.layout.release_path (confined) or come from release_folders,
    # the folder's own listing; the files a release names go through ddr.checks.release_file.
    ("registry/release.py", "tmp / name"):
        "name comes from list_files(tmp), the new release folder's own listing",
    ("registry/verify.py", "release_dir / name"):
        "name is a signed subject, refused if absolute or holding '..', and one of list_files(release_dir); the "
        "verdict stays a VerifyError the standalone verifier shares",
    ("registry/attest.py", 'release_dir / cell["result"]'):
        "a result file of the release, a subject verify_release checked, or (writing) one reproduce_cell confined",
}


def _constants(tree: ast.Module) -> set[str]:
    """Module-level NAME = <constant expression>: a join with FOLDER = "submissions" is a join with a constant,
    a division by GIB = 1 << 30 is arithmetic. Names imported from a project module count when they are
    constants there (`from registry import ENVELOPE_NAME`)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            source = ROOT / Path(*node.module.split("."))
            source = source / "__init__.py" if source.is_dir() else source.with_suffix(".py")
            if source.is_file():
                there = _constants(ast.parse(source.read_text()))
                names |= {a.asname or a.name for a in node.names if a.name in there}
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and _is_constant(node.value, names):
            names.add(node.targets[0].id)
    return names


def _is_constant(node: ast.AST, constants: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name) and node.id in constants:
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
        return True  # arithmetic: sum(v) / len(v)
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left, constants) and _is_constant(node.right, constants)
    return False


def _joins(path: Path) -> list[tuple[int, str]]:
    src = path.read_text()
    tree = ast.parse(src)
    constants = _constants(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            if not _is_constant(node.right, constants):
                found.append(node)
        elif isinstance(node, ast.Call):
            fn = ast.unparse(node.func)
            added = node.args[1:] if fn in ("os.path.join", "Path", "PurePath", "PurePosixPath") else (
                node.args if fn.endswith(".joinpath") else [])
            if any(not _is_constant(a, constants) for a in added):
                found.append(node)
    return [(n.lineno, ast.get_source_segment(src, n)) for n in found]


def test_every_join_with_a_name_goes_through_confined():
    unchecked, used = [], set()
    for module in MODULES:
        rel = module.relative_to(ROOT).as_posix()
        for line, source in _joins(module):
            if (rel, source) in ALLOWED:
                used.add((rel, source))
            else:
                unchecked.append(f"{rel}:{line}: {source}")
    assert not unchecked, "path joins that do not go through ddr.checks.confined:\n" + "\n".join(unchecked)
    assert used == set(ALLOWED), f"stale allow-list entries: {sorted(set(ALLOWED) - used)}"


def test_the_walk_finds_the_joins_it_must_refuse(tmp_path):
    """The walk itself: each form of join built from a variable is found, constants are not."""
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom pathlib import Path\nfrom registry import ENVELOPE_NAME\nFOLDER = 'submissions'\n"
                      "GIB = 1 << 30\ndef f(project, method, n):\n"
                      "    a = project / FOLDER / f'{method}-digits'\n"
                      "    b = os.path.join(project, method)\n"
                      "    c = Path(project, method)\n"
                      "    d = project.joinpath(method)\n"
                      "    e = project / 'results' / 'result.json'\n"
                      "    g = n / GIB + sum([1]) / len([1])\n"
                      "    h = project / method / ENVELOPE_NAME\n")
    assert [line for line, _ in _joins(sample)] == [7, 8, 9, 10, 13]  # h: only project / method
