"""A drop-in layer for scripts written against DD-Ranking 0.2.0 (`ddranking`): change only the import,

    from ddr.compat.ddranking.metrics import LabelRobustScoreHard     # was: from ddranking.metrics import ...
    from ddr.compat.ddranking.config import Config                    # was: from ddranking.config import Config

and every `compute_metrics` call is an ordinary ddr evaluation (docs/ddranking-compat.md). It lives under
ddr.compat so that it never shadows a real `ddranking` install.
"""
from ddr.compat.ddranking.config import Config
from ddr.compat.ddranking.metrics import (
    AugmentationRobustScore,
    GeneralEvaluator,
    LabelRobustScoreHard,
    LabelRobustScoreSoft,
)

__all__ = ["AugmentationRobustScore", "Config", "GeneralEvaluator", "LabelRobustScoreHard", "LabelRobustScoreSoft"]
