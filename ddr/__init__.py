"""ddr: the DD-Ranking benchmark, re-implemented correctly, as a reproducibility registry."""
from typing import Any

from ddr.version import __version__

__all__ = ["__version__", "evaluate"]


def evaluate(kind: str, **kwargs: Any):
    """See ddr.eval.api.evaluate (imported lazily: `import ddr` stays light)."""
    from ddr.eval.api import evaluate as _evaluate

    return _evaluate(kind, **kwargs)
