"""ddr: the DD-Ranking benchmark, re-implemented correctly, as a reproducibility registry."""
__version__ = "0.1.0"
