"""The pool's bookkeeping (ddr.grid.pool) on plan results as plan tasks return them: each key once, the
cells longest first and each cell's trainings longest first, a cell ready when its last key is settled."""
from ddr.grid.pool import TrainingPool


def plan(total, cached, *trainings):
    return {"total": total, "cached": cached,
            "pool": [{"index": i, "key": k, "cost": c, "role": "syn", "round": 0, "lr": 0.01}
                     for i, k, c in trainings]}


def drain(pool):
    out = []
    while (t := pool.next()) is not None:
        out.append((t.cell, t.key))
    return out


def test_each_key_once_in_cell_order_longest_first():
    pool = TrainingPool()
    assert not pool.add("b", 1, plan(4, 1, (0, "real", 9.0), (1, "r0", 2.0), (2, "b0", 5.0)))
    assert not pool.add("a", 0, plan(4, 0, (0, "real", 9.0), (1, "r0", 2.0), (2, "a0", 1.0), (3, "a1", 3.0)))
    assert pool.add("c", 2, plan(3, 3))  # everything cached: ready at once
    assert (pool.planned, pool.cached, pool.unique, pool.queued) == (11, 4, 5, 5)
    # cell a (order 0) first, the keys it shares with b trained as a's; then b's own
    assert drain(pool) == [("a", "real"), ("a", "a1"), ("a", "r0"), ("a", "a0"), ("b", "b0")]
    assert pool.queued == 0
    assert pool.settle("real") == [] and pool.settle("r0") == [] and pool.settle("a1") == []
    assert pool.settle("b0") == ["b"]  # b's last key
    assert pool.settle("a0") == ["a"]


def test_a_key_settled_before_a_later_plan_is_not_waited_for():
    pool = TrainingPool()
    pool.add("a", 0, plan(2, 0, (0, "k", 2.0), (1, "j", 1.0)))
    assert pool.next().key == "k"
    assert pool.settle("k") == []  # trained, or failed: either way a later cell's evaluation sees to it
    assert pool.add("b", 1, plan(1, 0, (0, "k", 2.0)))  # so b waits for nothing
    assert pool.add("c", 2, plan(2, 0, (0, "j", 1.0))) is False  # j is still queued: c waits for it
    assert drain(pool) == [("a", "j")] and pool.settle("j") == ["a", "c"]
