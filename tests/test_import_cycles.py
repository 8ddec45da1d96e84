"""No import cycles among the project's modules (ddr/, registry/, pipelines/), lazy imports included.

The graph holds EVERY import statement of a module, wherever it stands: at the top, under if/try/with, in
class bodies, inside functions (the project defers many imports to keep `ddr --help` light), and under
`if TYPE_CHECKING:`. A deferred import still means each module needs the other: two modules that import
each other, at any depth, are one module split in two, and which half runs first depends on the caller.
`from pkg import name` is an edge to `pkg.name` when that is a module of the project, else to `pkg`.
Implicit imports of parent packages are not edges (Python initialises a package before its submodules),
but an explicit `import ddr` or `from ddr import name` is an edge to the package's own __init__.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ddr", "registry", "pipelines")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _edges(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):  # every statement, function bodies included
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in modules:
                    out.add(target)
                elif base in modules:
                    out.add(base)
    out.discard(name)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _edges(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path [a, b, ..., a], or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_the_graph_sees_the_imports():
    graph = import_graph()
    assert {"ddr.kernel.registry", "ddr.data.real", "ddr.data.real_data", "registry.release"} <= set(graph)
    assert "ddr.data.folders" in graph["ddr.data.real"] and "ddr.data.real_data" in graph["ddr.data.folders"]
    assert "ddr.kernel.atomic" in graph["registry.release"]
    assert "ddr.eval.api" in graph["ddr"]  # ddr.evaluate imports it inside the function
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]


def test_the_graph_reads_imports_wherever_they_stand(tmp_path):
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from p import typed\n"
        "class C:\n    import p.in_class\n"
        "def f():\n    from . import lazy\n    def g():\n        import p.nested\n"
        "try:\n    from .guarded import name\nexcept ImportError:\n    pass\n"
        "import p\n")
    names = ("p", "p.m", "p.typed", "p.in_class", "p.lazy", "p.nested", "p.guarded")
    modules = {n: pkg / "x.py" for n in names}
    assert _edges("p.m", pkg / "m.py", modules) == set(names) - {"p.m"}


def test_no_import_cycle_even_through_imports_inside_functions():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_kernel_imports_nothing_of_the_project_but_errors():
    graph = import_graph()
    for name in (m for m in graph if m.startswith("ddr.kernel")):
        assert graph[name] <= {"ddr.errors", "ddr.kernel"} | {m for m in graph if m.startswith("ddr.kernel.")}, name
