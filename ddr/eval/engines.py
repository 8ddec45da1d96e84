"""Which engine trains an evaluation's students, and the name its cache entries carry.

'plain' trains one student after another (the reference numbers); 'batched' trains the plan's batchable
students (hard labels, unaugmented, cross-entropy) of one recipe and set size together, within a stated
tolerance of plain (benchmarks/RESULTS.md). A training's cache key names the engine that produced it
unless that is the plain engine without options.
"""
from __future__ import annotations

from dataclasses import dataclass

from ddr.errors import DDRError

ENGINES = ("plain", "batched")
ENGINE_FLAGS = ("bf16", "cl", "compile")  # bf16 autocast, channels_last, torch.compile


def parse_engine(engine: str) -> tuple[str, tuple[str, ...]]:
    """'plain' | 'batched', optionally with '+flag's: 'batched+bf16+cl'. Returns (base, sorted flags)."""
    base, *flags = (engine or "plain").split("+")
    if base not in ENGINES:
        raise DDRError(f"unknown engine '{engine}'; valid: {', '.join(ENGINES)} (optionally +{'+'.join(ENGINE_FLAGS)})")
    bad = [f for f in flags if f not in ENGINE_FLAGS]
    if bad:
        raise DDRError(f"engine '{engine}': unknown option '{bad[0]}'; valid: {', '.join(ENGINE_FLAGS)}")
    return base, tuple(sorted(set(flags)))


@dataclass(frozen=True)
class EngineChoice:
    batched: bool
    flags: tuple[str, ...]

    @classmethod
    def parse(cls, engine: str) -> EngineChoice:
        base, flags = parse_engine(engine)
        return cls(base == "batched", flags)

    @property
    def single_tag(self) -> str:
        """How one student alone is trained (and named in its cache key)."""
        return "+".join(("plain", *self.flags))

    @property
    def batched_tag(self) -> str:
        return "+".join(("batched", *self.flags))

    def lookup_tags(self) -> tuple[str, ...]:
        """The cache entries that may serve a training, in order: under the batched engine a batched
        result, then one trained alone."""
        return (self.batched_tag, self.single_tag) if self.batched else (self.single_tag,)

    def options(self) -> dict[str, bool]:
        """The trainer keywords the flags set."""
        return {"amp": "bf16" in self.flags, "channels_last": "cl" in self.flags, "compile": "compile" in self.flags}


__all__ = ["ENGINES", "ENGINE_FLAGS", "EngineChoice", "parse_engine"]
