"""EXECUTORS: the executors' names, each bound lazily to its factory in ddr.grid.executors.

Kept apart from the executors so that the command line can offer the names as choices without importing
(or, for DVC, depending on) the executor code itself.
"""
from __future__ import annotations

from ddr.kernel.registry import Registry

# name -> factory(workers=, address=, gpus_per_cell=) -> Executor
EXECUTORS: Registry = Registry("executor")
EXECUTORS.register_lazy("serial", "ddr.grid.executors:serial_executor")
EXECUTORS.register_lazy("local", "ddr.grid.executors:local_executor")
EXECUTORS.register_lazy("ray", "ddr.grid.executors:ray_executor")
