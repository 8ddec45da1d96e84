"""Rank certainty holds its coverage at 5 rounds, uses the pairing of rounds, and bounds its memory."""
import tracemalloc

import numpy as np
import pytest

from registry.certainty import rank_certainty, t_interval, unpaired_reason


def _ordered(a: np.ndarray, b: np.ndarray) -> tuple[list, list]:
    return (list(a), list(b)) if a.mean() >= b.mean() else (list(b), list(a))


def test_equal_means_coverage_at_five_rounds():
    # Equal true means, independent noise: a calibrated P(beats next) leaves [0.025, 0.975] in ~5% of tables
    # (the per-method percentile bootstrap did so in ~12%; benchmarks/rank_coverage.py measures both).
    rng = np.random.default_rng(11)
    tables, outside = 600, 0
    for i in range(tables):
        x = 0.5 + 0.01 * rng.standard_normal((2, 5))
        p = rank_certainty(list(_ordered(x[0], x[1])), seed=3, draws=2000, key=str(i), paired=True)["p_beats_next"][0]
        outside += not 0.025 <= p <= 0.975
    rate = outside / tables
    assert rate <= 0.075, rate  # nominal 0.05; binomial sd over 600 tables ~0.009
    assert rate >= 0.025, rate  # and not trivially conservative


def test_shared_round_effect_paired_is_confident_where_unpaired_is_not():
    # A large per-round effect shared by both methods (same random subset per round) and a small true
    # difference: pairing removes the shared effect; resampling methods on their own drowns the difference.
    rng = np.random.default_rng(5)
    tables, paired_right, unpaired_right, paired_wrong = 100, 0, 0, 0
    for i in range(tables):
        shared = 0.05 * rng.standard_normal(5)
        a = 0.805 + shared + 0.001 * rng.standard_normal(5)
        b = 0.800 + shared + 0.001 * rng.standard_normal(5)
        per, a_first = ([list(a), list(b)], True) if a.mean() >= b.mean() else ([list(b), list(a)], False)
        pp = rank_certainty(per, seed=1, draws=2000, key=str(i), paired=True)["p_beats_next"][0]
        pu = rank_certainty(per, seed=1, draws=2000, key=str(i), paired=False)["p_beats_next"][0]
        paired_right += a_first and pp > 0.975
        paired_wrong += (not a_first) and pp > 0.975
        unpaired_right += a_first and pu > 0.975
    assert paired_right >= 90 and paired_wrong == 0
    assert unpaired_right <= 10


def test_memory_does_not_grow_with_draws_or_rounds():
    # The old bootstrap held resamples x rounds indices per method (20k rounds: ~300 MiB at 1000 resamples).
    rng = np.random.default_rng(0)
    per = [list(0.5 + 0.01 * rng.standard_normal(20000)) for _ in range(4)]

    def peak(draws: int) -> int:
        tracemalloc.start()
        rank_certainty(per, seed=0, draws=draws, key="k", paired=True)
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top

    small, large = peak(500), peak(5000)
    assert large < 32 * 2**20, large  # chunks hold at most 2**20 float64 values
    assert large < 1.5 * small, (small, large)


def test_ties_split_rank1_and_count_half():
    out = rank_certainty([[0.5, 0.5], [0.5, 0.5], [0.4, 0.4]], seed=0, draws=50, key="k", paired=True)
    assert out["interval"] == [[1, 1], [1, 1], [3, 3]]
    assert out["p_beats_next"] == [0.5, 1.0, None]
    assert out["p_rank1"] == [0.5, 0.5, 0.0] and sum(out["p_rank1"]) == 1.0


def test_needs_two_rounds_and_pairing_rules():
    with pytest.raises(ValueError, match="two rounds"):
        rank_certainty([[0.5], [0.4]], seed=0, draws=10, key="k", paired=False)
    names = ["a", "b"]
    assert unpaired_reason(names, [[1, 2], [3, 4]], [["x", "y"], ["x", "y"]]) is None
    assert unpaired_reason(names, [[1, 2], [3, 4]], [["x", "y"], ["x", "z"]]) == \
        "different random draws: round 1 of b did not use a's subset"
    assert unpaired_reason(names, [[1, 2], [3, 4, 5]], [["x", "y"], ["x", "y", "z"]]) == "different round counts (a 2, b 3)"
    assert unpaired_reason(names, [[1, 2], [3, 4]], [["x", "y"], None]).startswith("no record of each round's random draw in b ")
    assert unpaired_reason(names, [[1, 2], [3, 4]], [["x", "y"], ["x"]]) == "b records a random draw count unlike the 2 rounds"


def test_t_interval_matches_student_t():
    lo, hi = t_interval([0.01, 0.03, 0.02, 0.04, 0.00])
    # mean 0.02, sd 0.0158114, t_{0.975,4} = 2.776445
    assert lo == pytest.approx(0.02 - 2.776445 * 0.0158114 / 5 ** 0.5, abs=1e-6)
    assert hi == pytest.approx(0.02 + 2.776445 * 0.0158114 / 5 ** 0.5, abs=1e-6)
    assert t_interval([0.1]) is None
