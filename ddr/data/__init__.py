"""Data: real data sets, distilled-set folders and random baselines."""
from ddr.data.distilled import DistilledSet, read_distilled, validate, write_distilled
from ddr.data.random_baseline import random_baseline, random_indices
from ddr.data.real import load_dataset
from ddr.data.real_data import DATASETS, RealData

__all__ = ["DATASETS", "DistilledSet", "RealData", "load_dataset", "random_baseline", "random_indices",
           "read_distilled", "validate", "write_distilled"]
