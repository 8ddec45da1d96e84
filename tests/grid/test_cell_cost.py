"""The grid dispatches its most expensive cells first (cost from each cell's plan)."""
import dataclasses
from pathlib import Path

from ddr.grid.cost import expected_cost, longest_first
from ddr.grid.spec import parse_grid


def _cells(tmp_path: Path):
    spec = parse_grid({"name": "cost", "datasets": ["digits"], "ipc": [1, 10],
                       "metrics": ["lrs-hard", "lrs-soft", "ars-hard"], "methods": {"r": {"random_seed": 0}}},
                      str(tmp_path / "grid.yaml"), tmp_path)
    return spec.cells()


def test_soft_and_ars_cells_and_larger_sets_go_first(tmp_path):
    cells = _cells(tmp_path)
    order = [(c.ipc, c.metric, c.label_kind) for c in longest_first(cells)]
    assert all(expected_cost(c) > 0 for c in cells)
    # augmented (DSA) or teacher-relabelled trainings cost more than the plain hard-label LRS ones
    assert order.index((10, "lrs", "hard")) > order.index((10, "lrs", "soft"))
    assert order.index((10, "lrs", "hard")) > order.index((10, "ars", "hard"))
    assert order.index((1, "lrs", "hard")) == len(order) - 1
    costs = [expected_cost(c) for c in longest_first(cells)]
    assert costs == sorted(costs, reverse=True)


def test_a_cell_whose_protocol_cannot_be_read_costs_nothing_and_keeps_its_place(tmp_path):
    cells = _cells(tmp_path)
    broken = dataclasses.replace(cells[0], protocol=str(tmp_path / "missing.yaml"))
    assert expected_cost(broken) == 0.0
    assert longest_first([broken, *cells[1:]])[-1] is broken
