"""ddr: the DD-Ranking benchmark, re-implemented correctly, as a reproducibility registry."""
from typing import Any

__version__ = "0.1.0"


def evaluate(kind: str, **kwargs: Any):
    """See ddr.eval.api.evaluate (imported lazily: `import ddr` stays light)."""
    from ddr.eval.api import evaluate as _evaluate

    return _evaluate(kind, **kwargs)
