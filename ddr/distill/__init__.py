"""Reference distillers: each returns a DistilledSet (class-major, normalised pixel space) with meta."""
from ddr.distill.herding import herding

__all__ = ["herding"]
