import math

import pytest

from ddr import metrics

E, IE = math.e, math.exp(-1)


def norm(a):
    return (math.exp(a) - IE) / (E - IE)


@pytest.mark.parametrize("w", [0.0, 0.5, 1.0])
def test_lrs_matches_hand_computation(w):
    hlr, ior = 0.12, 0.05
    a = w * ior - (1 - w) * hlr
    assert metrics.lrs(hlr, ior, weight=w) == pytest.approx(norm(a), abs=1e-15)


def test_lrs_known_values():
    # w = 0.5, HLR 0.2, IOR 0.1: a = 0.05 - 0.1 = -0.05
    assert metrics.lrs(0.2, 0.1) == pytest.approx((math.exp(-0.05) - IE) / (E - IE), rel=1e-12)
    # w = 0: only HLR counts; HLR 0 -> a = 0 -> (1 - 1/e) / (e - 1/e)
    assert metrics.lrs(0.0, 0.9, weight=0.0) == pytest.approx((1 - IE) / (E - IE))
    # w = 1: only IOR counts
    assert metrics.lrs(0.9, 0.3, weight=1.0) == pytest.approx(norm(0.3))


def test_lrs_range_extremes():
    assert metrics.lrs(hlr=1.0, ior=-1.0) == pytest.approx(0.0, abs=1e-15)  # a = -1
    assert metrics.lrs(hlr=-1.0, ior=1.0) == pytest.approx(1.0, abs=1e-15)  # a = +1
    for h in (-1, -0.5, 0, 0.5, 1):
        for i in (-1, -0.5, 0, 0.5, 1):
            for w in (0, 0.3, 1):
                assert 0.0 <= metrics.lrs(h, i, w) <= 1.0 + 1e-15


def test_lrs_monotone_in_ior_and_hlr():
    assert metrics.lrs(0.1, 0.2) > metrics.lrs(0.1, 0.1)
    assert metrics.lrs(0.05, 0.1) > metrics.lrs(0.1, 0.1)


@pytest.mark.parametrize("w", [0.0, 0.5, 1.0])
def test_ars_matches_hand_computation(w):
    da, dn = 0.07, -0.02
    assert metrics.ars(da, dn, weight=w) == pytest.approx(norm(w * da + (1 - w) * dn), abs=1e-15)
    assert metrics.ars(1.0, 1.0, w) == pytest.approx(1.0)
    assert metrics.ars(-1.0, -1.0, w) == pytest.approx(0.0, abs=1e-15)


def test_percent_inputs_are_refused():
    # DD-Ranking v0.2.0 fed percentage points to exp (LRS -0.1565 or 2e8); fractions only here.
    with pytest.raises(ValueError, match="fraction"):
        metrics.lrs(hlr=12.0, ior=5.0)
    with pytest.raises(ValueError, match="fraction"):
        metrics.ars(7.0, 2.0)
    with pytest.raises(ValueError, match="weight"):
        metrics.lrs(0.1, 0.1, weight=1.5)


def test_hlr_ior_and_summary():
    assert metrics.hlr(0.99, 0.90) == pytest.approx(0.09)
    assert metrics.ior(0.90, 0.85) == pytest.approx(0.05)
    s = metrics.summarize([0.1, 0.2, 0.3, 0.4])
    assert s["mean"] == pytest.approx(0.25)
    assert s["std"] == pytest.approx(math.sqrt(0.0125))  # population std (ddof 0), as DD-Ranking reports
    assert s["per_round"] == [0.1, 0.2, 0.3, 0.4]
    with pytest.raises(ValueError):
        metrics.summarize([])
