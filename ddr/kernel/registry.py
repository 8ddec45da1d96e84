"""`Registry`: the one name table behind every extension point (models, data sets, losses, augmentations,
distillers, evaluations, executors).

An entry is registered by name, with a decorator or a call, or lazily as an import path ("module:attr")
so that listing the names (e.g. for a CLI's choices) never imports the heavy module that holds the entry.
An unknown name raises the user-facing one-line error with a did-you-mean hint (ddr.errors.unknown).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, overload

from ddr.errors import DDRError, unknown

T = TypeVar("T")


class _Lazy:
    __slots__ = ("target",)

    def __init__(self, target: str):
        self.target = target

    def load(self) -> Any:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


class Registry(Generic[T]):
    """Names -> entries of one kind, in registration order.

    kind:       what an entry is, as the error messages name it ('model', 'data set', 'loss', ...).
    list_valid: an unknown name lists every valid name instead of suggesting the closest one.
    """

    def __init__(self, kind: str, *, list_valid: bool = False):
        self.kind = kind
        self.list_valid = list_valid
        self._entries: dict[str, T | _Lazy] = {}

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...
    @overload
    def register(self, name: str, entry: T) -> T: ...

    def register(self, name: str, entry: Any = None) -> Any:
        """`REG.register("x", fn)`, or `@REG.register("x")` above a definition. A name registers once."""
        if entry is None:
            def deco(obj: T) -> T:
                self._add(name, obj)
                return obj
            return deco
        self._add(name, entry)
        return entry

    def register_lazy(self, name: str, target: str) -> None:
        """Register `module:attr`, imported on the first `get(name)`."""
        if ":" not in target:
            raise ValueError(f"lazy {self.kind} {name!r}: target must be 'module:attr', got {target!r}")
        self._add(name, _Lazy(target))

    def _add(self, name: str, entry: Any) -> None:
        if name in self._entries:  # a programming error (two plug-ins claim one name), not bad input
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry

    def get(self, name: str) -> T:
        """The entry called `name`; an unknown name raises DDRError (exit 2) naming the valid ones."""
        if name not in self._entries:
            raise self.unknown(name)
        entry = self._entries[name]
        if isinstance(entry, _Lazy):
            entry = self._entries[name] = entry.load()
        return entry  # type: ignore[return-value]

    def unknown(self, name: str) -> DDRError:
        """The error for an unknown `name` (for callers that check membership themselves)."""
        return unknown(self.kind, name, self.names(), list_valid=self.list_valid)

    def names(self) -> tuple[str, ...]:
        """Every registered name in registration order: click.Choice(REG.names()) derives a CLI's choices."""
        return tuple(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        for name in self.names():
            yield name, self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._entries)})"
