"""Tests across training seeds: the unit is one seed's score (mean over the shared problems).

All functions take ``a`` (baseline) and ``b`` (treatment) as 1-D arrays of per-seed scores,
shapes (n_seeds_a,) and (n_seeds_b,); deltas are ``mean(b) - mean(a)``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

MAX_EXACT_SPLITS = 200_000


@dataclass(frozen=True)
class WelchResult:
    delta: float
    t: float
    df: float
    p: float
    ci_low: float
    ci_high: float


def welch_test(a: ArrayLike, b: ArrayLike, level: float = 0.95) -> WelchResult:
    """Welch's unequal-variance t-test and interval for ``mean(b) - mean(a)`` (scipy.stats.ttest_ind)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    delta = float(b.mean() - a.mean())
    if a.size < 2 or b.size < 2:
        nan = float("nan")
        return WelchResult(delta, nan, nan, nan, nan, nan)
    res = stats.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(level)
    return WelchResult(delta, float(res.statistic), float(res.df), float(res.pvalue), ci.low, ci.high)


def paired_t_test(d: ArrayLike, level: float = 0.95) -> WelchResult:
    """One-sample t-test and interval of per-seed differences ``d`` (treatment minus baseline of the same
    seed, e.g. a condition's last iteration minus its base model): scipy.stats.ttest_1samp. With no
    spread (every seed moved by the same amount, up to rounding) the t-test is undefined: p and the
    interval are NaN, so no verdict rests on it."""
    d = np.asarray(d, float)
    delta = float(d.mean())
    nan = float("nan")
    if d.size < 2 or float(d.std(ddof=1)) <= 1e-9 * max(1.0, abs(delta)):
        return WelchResult(delta, nan, nan, nan, nan, nan)
    res = stats.ttest_1samp(d, 0.0)
    ci = res.confidence_interval(level)
    return WelchResult(delta, float(res.statistic), float(res.df), float(res.pvalue), ci.low, ci.high)


@lru_cache(maxsize=16)
def _split_indicator(n_a: int, n_b: int) -> NDArray[np.float64]:
    """(C(n_a+n_b, n_b), n_a+n_b) 0/1 matrix: row j marks which pooled seeds go to arm b in split j."""
    n = n_a + n_b
    combos = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(n), n_b)),
        dtype=np.int32,
        count=math.comb(n, n_b) * n_b,
    ).reshape(-1, n_b)
    ind = np.zeros((combos.shape[0], n), dtype=np.float64)
    np.put_along_axis(ind, combos, 1.0, axis=1)
    return ind


@dataclass(frozen=True)
class PermutationResult:
    p: float
    exact: bool
    n_splits: int
    min_p: float  # smallest p this design can produce (exact) or 1/(B+1) (Monte Carlo)


def permutation_test(
    a: ArrayLike,
    b: ArrayLike,
    rng: np.random.Generator,
    n_resamples: int = 10_000,
    max_exact: int = MAX_EXACT_SPLITS,
) -> PermutationResult:
    """Two-sided permutation test of the difference in means, over whole seeds.

    Exact over all C(n_a+n_b, n_b) splits when that is at most ``max_exact``; otherwise Monte Carlo
    with ``p = (1 + hits) / (1 + n_resamples)``. With 3 vs 3 seeds the exact p is never below 0.1.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    pooled = np.concatenate([a, b])
    n_a, n_b = a.size, b.size
    obs = abs(b.mean() - a.mean())
    tol = 1e-12 * max(1.0, obs)
    n_splits = math.comb(n_a + n_b, n_b)
    if n_splits <= max_exact:
        ind = _split_indicator(n_a, n_b)
        sum_b = ind @ pooled
        stat = np.abs(sum_b / n_b - (pooled.sum() - sum_b) / n_a)
        top = np.max(stat)
        min_p = float(np.mean(stat >= top - tol))
        return PermutationResult(float(np.mean(stat >= obs - tol)), True, n_splits, min_p)
    perms = rng.permuted(np.tile(pooled, (n_resamples, 1)), axis=1)
    stat = np.abs(perms[:, n_a:].mean(axis=1) - perms[:, :n_a].mean(axis=1))
    hits = int(np.sum(stat >= obs - tol))
    return PermutationResult((1 + hits) / (1 + n_resamples), False, n_splits, 1 / (1 + n_resamples))


def min_exact_permutation_p(n_a: int, n_b: int) -> float:
    """Smallest two-sided exact permutation p with distinct scores: 2/C(n,k) if n_a == n_b else 1/C(n,k)."""
    return (2.0 if n_a == n_b else 1.0) / math.comb(n_a + n_b, n_b)


def hedges_g(a: ArrayLike, b: ArrayLike) -> float:
    """Hedges' g: Cohen's d on the pooled sd, times ``1 - 3 / (4 (n_a + n_b) - 9)``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    n_a, n_b = a.size, b.size
    if n_a < 2 or n_b < 2:
        return float("nan")
    pooled = np.sqrt(((n_a - 1) * a.var(ddof=1) + (n_b - 1) * b.var(ddof=1)) / (n_a + n_b - 2))
    if pooled == 0:
        return float("nan")
    return float((b.mean() - a.mean()) / pooled * (1 - 3 / (4 * (n_a + n_b) - 9)))


def probability_of_improvement(a: ArrayLike, b: ArrayLike) -> float:
    """P(a random seed of b beats a random seed of a), ties count half: ``U_b / (n_a n_b)``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = b[:, None] - a[None, :]
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


def pooled_sd(a: ArrayLike, b: ArrayLike) -> float:
    """Pooled within-arm sd of per-seed scores (NaN with fewer than 3 seeds in total)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    dof = a.size + b.size - 2
    if dof < 1:
        return float("nan")
    ss = ((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()
    return float(np.sqrt(ss / dof))
