"""Which engine trains an evaluation's students, and the name its cache entries carry.

'plain' trains one student after another (the reference numbers); 'batched' trains the plan's batchable
students (hard labels, unaugmented, cross-entropy) of one recipe and set size together; 'compiled' each
student torch.compile'd (ddr.train.compiled); both within a stated tolerance of plain
(benchmarks/RESULTS.md). A training's cache key names the engine that produced it unless that is the
plain engine without options.
"""
from __future__ import annotations

from dataclasses import dataclass

from ddr.errors import DDRError

ENGINES = ("plain", "batched", "compiled")
ENGINE_FLAGS = ("bf16", "cl", "compile")  # bf16 autocast, channels_last, torch.compile


def parse_engine(engine: str) -> tuple[str, tuple[str, ...]]:
    """'plain' | 'batched' | 'compiled', optionally with '+flag's: 'batched+bf16+cl'. Returns (base, sorted
    flags). 'plain+compile' is another name for 'compiled' (ddr.train.compiled)."""
    base, *flags = (engine or "plain").split("+")
    if base not in ENGINES:
        raise DDRError(f"unknown engine '{engine}'; valid: {', '.join(ENGINES)} (optionally +{'+'.join(ENGINE_FLAGS)})")
    bad = [f for f in flags if f not in ENGINE_FLAGS]
    if bad:
        raise DDRError(f"engine '{engine}': unknown option '{bad[0]}'; valid: {', '.join(ENGINE_FLAGS)}")
    if base == "compiled" or (base == "plain" and "compile" in flags):
        return "compiled", tuple(sorted(set(flags) - {"compile"}))
    return base, tuple(sorted(set(flags)))


def engine_name(engine: str) -> str:
    """The canonical name of an engine ('plain+compile' -> 'compiled'), as caches and results record it."""
    base, flags = parse_engine(engine)
    return "+".join((base, *flags))


@dataclass(frozen=True)
class EngineChoice:
    base: str  # one of ENGINES
    flags: tuple[str, ...]  # without 'compile' under the compiled engine

    @classmethod
    def parse(cls, engine: str) -> EngineChoice:
        return cls(*parse_engine(engine))

    @property
    def batched(self) -> bool:
        return self.base == "batched"

    @property
    def single_tag(self) -> str:
        """How one student alone is trained (and named in its cache key)."""
        return "+".join(("compiled" if self.base == "compiled" else "plain", *self.flags))

    @property
    def batched_tag(self) -> str:
        return "+".join(("batched", *self.flags))

    def lookup_tags(self) -> tuple[str, ...]:
        """The cache entries that may serve a training, in order: under the batched engine a batched
        result, then one trained alone."""
        return (self.batched_tag, self.single_tag) if self.batched else (self.single_tag,)

    def options(self) -> dict[str, bool]:
        """The trainer keywords the flags set."""
        return {"amp": "bf16" in self.flags, "channels_last": "cl" in self.flags,
                "compile": "compile" in self.flags or self.base == "compiled"}


__all__ = ["ENGINES", "ENGINE_FLAGS", "EngineChoice", "engine_name", "parse_engine"]
