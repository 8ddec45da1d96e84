"""Rewrite each dvc.yaml stage's code deps as the import closure of its command (what
tests/pipelines/test_stage_deps.py checks): run it after a change adds or removes an import on a command's
path, and review the diff.

    .venv/bin/python tools/stage_deps.py
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pipelines.test_stage_deps import ALLOWED, PACKAGES, _stages, stage_closure  # noqa: E402


def _python_files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*.py") if "__pycache__" not in p.parts}


def _entries(folder: Path, files: set[Path]) -> list[Path]:
    """The fewest deps that name `files` under `folder`: a whole folder when all its code is in the closure."""
    rel = str(folder.relative_to(ROOT))
    if rel in ALLOWED and folder / "__init__.py" in files:
        return [folder]
    code = _python_files(folder)
    if code and code <= files:
        return [folder]
    out: list[Path] = []
    for child in sorted(folder.iterdir()):
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            out += _entries(child, files)
        elif child in files:
            out.append(child)
    return out


def main() -> None:
    path = ROOT / "dvc.yaml"
    text = path.read_text()
    for name, stage in _stages().items():
        files = stage_closure(stage)
        code = sorted(str(p.relative_to(ROOT)) for pkg in PACKAGES for p in _entries(ROOT / pkg, files))
        deps = [d for d in stage["deps"] if Path(d).parts[0] not in PACKAGES] + code
        block = re.search(rf"\n  {re.escape(name)}:\n(.*?)(?=\n  [a-z]+:\n|\nplots:|\Z)", text, re.S).group(0)
        old = re.search(r"\n    deps:\n((?:      - .*\n)+)", block).group(0)
        text = text.replace(block, block.replace(old, "\n    deps:\n" + "".join(f"      - {d}\n" for d in deps)))
        print(f"{name}: {len(deps)} deps")
    path.write_text(text)


if __name__ == "__main__":
    main()
