"""registry/ is a library: it never imports the command line (click, pipelines/) and never trains.

The imports of every registry/*.py file are parsed (module level and inside functions) and followed
through the project's modules; commands and re-running cells live in pipelines/.
"""
import ast
from pathlib import Path

from tests.pipelines.test_stage_deps import ROOT, closure

REGISTRY = ROOT / "registry"
# where the project trains: the engine, the distillers, evaluations and grids of them, teacher training
TRAINING = ("ddr/train", "ddr/distill", "ddr/grid", "ddr/eval/api.py", "ddr/eval/session.py", "ddr/eval/executor.py",
            "ddr/eval/training_sets.py", "ddr/eval/teacher_store.py",
            "ddr/teacher_nets.py")


def _registry_modules() -> dict[str, bool]:
    """Every module of registry/ and its subpackages (registry/page/), by dotted name."""
    out = {}
    for p in REGISTRY.rglob("*.py"):
        parts = p.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if p.stem == "__init__" else parts)] = True
    return out


def _external_imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            out.add(node.module or "")
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_registry_reaches_no_command_line_and_no_training_code():
    files = closure(_registry_modules())
    assert {REGISTRY / "ranking.py", REGISTRY / "verify.py", REGISTRY / "page" / "charts.py"} <= files  # the walk reached the library
    rel = sorted(str(f.relative_to(ROOT)) for f in files)
    assert not [f for f in rel if f.startswith("pipelines/")], rel
    assert not [f for f in rel if f.startswith(TRAINING)], rel
    for f in files:
        imported = _external_imports(f)
        assert not [m for m in imported if m == "click" or m.startswith("click.")], f
        if f.is_relative_to(REGISTRY):
            assert not [m for m in imported if m.split(".")[0] in ("torch", "torchvision")], f
            assert "ddr.evaluate" not in imported, f  # ddr.evaluate trains


def test_registry_calls_no_evaluation():
    for path in REGISTRY.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "evaluate":
                assert not (isinstance(node.value, ast.Name) and node.value.id == "ddr"), path
