"""A cell's expected cost, for dispatching the longest cells first.

With cells taken in spec order, the grid's last cells (the soft-label and ARS ones, each several times a
hard-label LRS cell) ran while the other workers idled. Dispatching the most expensive first (the
longest-processing-time rule) leaves the short cells to fill the end. The estimate counts images through
the network from the cell's plan (ddr.eval.plan): per training, the synthetic-size set every epoch (doubled
where the batch is augmented or relabelled by teachers), a fixed overhead per optimiser step, and a test pass
every test interval. The real reference is left out of a cell's cost: one training every cell shares
through the cache. A parallel grid pools the trainings themselves (ddr.grid.pool) and orders them by the
same rule, `training_cost`, the real reference counted on the real training set. The order never moves a
number (each cell is a pure function of its inputs); it only changes when each finishes.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ddr.grid.cell import Cell

if TYPE_CHECKING:
    from ddr.eval.plan import TrainingSpec

CLASSES = 10  # the estimate's set size per ipc: the order within one data set is what matters
STEP_OVERHEAD = 32  # images' worth of work per optimiser step (launch, optimiser update)
TEST_IMAGES = 1000  # images per test pass


def expected_cost(cell: Cell) -> float:
    """Relative work of `cell`'s trainings, in images (0 when its protocol cannot be read: it fails anyway)."""
    from ddr.errors import DDRError
    from ddr.eval.plan import PlanInputs, plan
    from ddr.protocols import load_protocol
    from ddr.protocols.editions import edition_of

    try:
        proto = edition_of(load_protocol(cell.protocol), cell.edition)
        specs = plan(cell.metric, proto, PlanInputs(dataset=cell.dataset, ipc=cell.ipc, rounds=cell.rounds))
    except (DDRError, ValueError, OSError):
        return 0.0
    n = cell.ipc * CLASSES
    return sum(training_cost(s, n) for s in specs if s.data != "real")


def training_cost(spec: TrainingSpec, images: int) -> float:
    """Relative work of one training on a set of `images` images, in images through the network."""
    r = spec.recipe
    heavy = 2.0 if (r.augmentation or spec.labels == "teacher") else 1.0
    return r.epochs * (images * heavy + STEP_OVERHEAD * math.ceil(images / r.batch_size)) \
        + r.epochs / r.test_interval * TEST_IMAGES


def longest_first(cells: list[Cell]) -> list[Cell]:
    """`cells` by expected cost, most expensive first (ties keep the spec's order)."""
    return sorted(cells, key=expected_cost, reverse=True)


__all__ = ["expected_cost", "longest_first", "training_cost"]
