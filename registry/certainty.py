"""Rank certainty from Student-t posterior draws over rounds, paired across the methods of a table.

Round r of every method in a table uses the same random subset and real reference, so rounds are paired.
A draw weights the centred rounds of *all* methods with the same Gaussian weights z_r and divides by one
chi-square: for every contrast c between methods, ``c . (draw - mean) = (s_c / sqrt(n)) * t_{n-1}``, the
Student-t posterior of a paired mean difference (flat prior). Its P(A beats B) is uniform on [0, 1] when
the true means are equal, so it leaves [0.025, 0.975] in 5% of tables at any n >= 2; a per-method
percentile bootstrap at n = 5 (126 distinct resamples, spread shrunk by (n-1)/n) does so in about 12%.

When the rounds are not paired (different random draws, different round counts, or results that do not
record their draws) every method is drawn on its own (the unpaired t posterior of each mean). Draws are
made in chunks and only counts are kept, so memory does not grow with the number of draws, and a chunk's
size shrinks as rounds grow.
"""
from __future__ import annotations

import zlib

import numpy as np

CONFIDENCE = 0.95
# float64 elements one chunk may hold (8 MiB): bounds memory for any round count and number of draws
_CHUNK_ELEMENTS = 1 << 20


def table_rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def competition_ranks(values: np.ndarray) -> np.ndarray:
    """Rank 1 = highest; ties share the best rank ("1224"). Works row-wise on a 2-D array."""
    return 1 + (values[..., None, :] > values[..., :, None]).sum(axis=-1)


def _chunk_size(rounds: int, methods: int) -> int:
    return max(1, _CHUNK_ELEMENTS // max(rounds, methods * methods, 1))


def _paired_draws(x: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """count draws of the mean vector from rounds x (n rounds x k methods), all methods sharing weights."""
    n = x.shape[0]
    mean = x.mean(axis=0)
    centred = x - mean
    z = rng.standard_normal((count, n))
    g = rng.chisquare(n - 1, size=count)
    # (z @ centred) has per-contrast variance (n-1) s_c^2; dividing by sqrt(n g) gives (s_c/sqrt n) t_{n-1}
    return mean + (z @ centred) / np.sqrt(n * g)[:, None]


def _unpaired_draws(per_round: list[np.ndarray], rng: np.random.Generator, count: int) -> np.ndarray:
    return np.column_stack([_paired_draws(v[:, None], rng, count)[:, 0] for v in per_round])


def unpaired_reason(names: list[str], per_round: list[list[float]], draw_ids: list[list[str] | None]) -> str | None:
    """None when the rounds pair up (every method has the same round count and the same random draw in each
    round); else the true reason they do not, naming the methods concerned."""
    counts = [len(v) for v in per_round]
    if len(set(counts)) > 1:
        return "different round counts (" + ", ".join(f"{n} {c}" for n, c in zip(names, counts)) + ")"
    missing = [n for n, ids in zip(names, draw_ids) if ids is None]
    if missing:
        who = "these results" if len(missing) == len(names) and len(names) > 2 else ", ".join(missing)
        return (f"no record of each round's random draw in {who} "
                "(inputs.random[].indices_sha256; a result from before evaluations recorded it)")
    short = [n for n, ids in zip(names, draw_ids) if len(ids) != counts[0]]
    if short:
        verb = "records" if len(short) == 1 else "record"
        return f"{', '.join(short)} {verb} a random draw count unlike the {counts[0]} rounds"
    for r in range(counts[0]):
        other = [n for n, ids in zip(names, draw_ids) if ids[r] != draw_ids[0][r]]
        if other:
            return f"different random draws: round {r} of {', '.join(other)} did not use {names[0]}'s subset"
    return None


def rank_certainty(per_round: list[list[float]], *, seed: int, draws: int, key: str, paired: bool) -> dict:
    """Rank intervals, P(rank 1) and P(i beats i+1), for methods in the given order (best mean first).

    Needs at least two rounds per method; with fewer there is no estimate of spread and the caller
    reports no certainty. Ties: P(beats next) counts a tie half; P(rank 1) splits a tie at the top
    evenly, so the column sums to 1.
    """
    k = len(per_round)
    vals = [np.asarray(v, dtype=np.float64) for v in per_round]
    if min(len(v) for v in vals) < 2:
        raise ValueError("rank certainty needs at least two rounds per method")
    if paired and len({len(v) for v in vals}) != 1:
        raise ValueError("paired rounds need the same round count for every method")
    x = np.column_stack(vals) if paired else None
    rng = table_rng(seed, key)
    rank_counts = np.zeros((k, k + 1), dtype=np.int64)  # [method, rank]
    beats = np.zeros(max(k - 1, 0), dtype=np.float64)
    first = np.zeros(k, dtype=np.float64)
    step = _chunk_size(max(len(v) for v in vals), k)
    done = 0
    while done < draws:
        count = min(step, draws - done)
        means = _paired_draws(x, rng, count) if paired else _unpaired_draws(vals, rng, count)
        ranks = competition_ranks(means)
        for j in range(k):
            rank_counts[j] += np.bincount(ranks[:, j], minlength=k + 1)
        if k > 1:
            a, b = means[:, :-1], means[:, 1:]
            beats += (a > b).sum(axis=0) + 0.5 * (a == b).sum(axis=0)
        top = means == means.max(axis=1, keepdims=True)
        first += (top / top.sum(axis=1, keepdims=True)).sum(axis=0)
        done += count
    alpha = (1.0 - CONFIDENCE) / 2.0
    # the order statistics numpy.quantile(method="lower"/"higher") would pick from all draws
    lo_index, hi_index = int(np.floor(alpha * (draws - 1))), int(np.ceil((1.0 - alpha) * (draws - 1)))
    cum = np.cumsum(rank_counts, axis=1)
    lo = [int(np.argmax(cum[j] > lo_index)) for j in range(k)]
    hi = [int(np.argmax(cum[j] > hi_index)) for j in range(k)]
    return {"interval": [[a, b] for a, b in zip(lo, hi)],
            "p_beats_next": [round(float(p / draws), 6) for p in beats] + [None],
            "p_rank1": [round(float(p / draws), 6) for p in first]}


def t_interval(per_round: list[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Student-t interval of a mean over rounds; None with fewer than two rounds."""
    from scipy.stats import t

    v = np.asarray(per_round, dtype=np.float64)
    if len(v) < 2:
        return None
    half = float(t.ppf(0.5 + confidence / 2.0, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    m = float(v.mean())
    return (m - half, m + half)
