"""Reading python-pickle data files (the CIFAR batches) without running code from them.

`pickle.load` calls whatever callable a file names, so a crafted batch in a `--root` folder would run
arbitrary code. This unpickler resolves only what a CIFAR batch holds: dicts, lists, str, bytes,
numbers (built by pickle opcodes, no lookup needed) and numpy arrays of plain (non-object) dtypes.
Any other global is refused with a DDRError naming it.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ddr.errors import DDRError


def _plain_dtype(*args: Any, **kwargs: Any) -> np.dtype:
    dt = np.dtype(*args, **kwargs)
    if dt.hasobject:
        raise pickle.UnpicklingError("object arrays are not allowed")
    return dt


def _allowed() -> dict[tuple[str, str], Any]:
    import codecs

    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): _plain_dtype,
        ("_codecs", "encode"): codecs.encode,  # how protocol-2 pickles store bytes
    }
    import importlib

    try:
        multiarray = importlib.import_module("numpy._core.multiarray")  # numpy 2
    except ImportError:
        multiarray = importlib.import_module("numpy.core.multiarray")
    try:
        numeric = importlib.import_module("numpy._core.numeric")
    except ImportError:
        numeric = importlib.import_module("numpy.core.numeric")
    for core in ("numpy.core", "numpy._core"):  # numpy 1.x files name numpy.core
        allowed[(f"{core}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{core}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{core}.numeric", "_frombuffer")] = numeric._frombuffer  # pickle protocol 5
    return allowed


class _Restricted(pickle.Unpickler):
    _globals: dict[tuple[str, str], Any] | None = None

    def find_class(self, module: str, name: str) -> Any:
        if _Restricted._globals is None:
            _Restricted._globals = _allowed()
        try:
            return _Restricted._globals[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def load_data_pickle(path: str | Path, encoding: str = "latin1") -> Any:
    """Unpickle a data file that may only hold plain data (see the module docstring)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return _Restricted(f, encoding=encoding).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, UnicodeDecodeError, MemoryError) as exc:
        raise DDRError(f"{path}: not a plain-data pickle ({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__})") from None
