"""Resampling primitives and the hierarchical (seeds x problems) bootstrap.

Every function takes its randomness as explicit arrays of counts or an ``np.random.Generator``;
same generator state, same output.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from analysis.estimators import variance_components


def resample_counts(rng: np.random.Generator, n_items: int, n_boot: int) -> NDArray[np.float64]:
    """(n_boot, n_items) counts: how often each item appears in each with-replacement resample.

    Whole numbers stored as float64, so that the matrix products below run on BLAS.
    """
    idx = rng.integers(0, n_items, size=(n_boot, n_items))
    flat = idx + (np.arange(n_boot)[:, None] * n_items)
    counts = np.bincount(flat.ravel(), minlength=n_boot * n_items).reshape(n_boot, n_items)
    return counts.astype(np.float64)


def unit_sums(values: NDArray[np.float64], groups: NDArray[np.int64] | None) -> NDArray[np.float64]:
    """Per resampling unit, the sum of ``values`` (n_problems,) over its problems: (n_units,). Without
    ``groups`` every problem is its own unit (the values themselves)."""
    return values if groups is None else np.bincount(groups, weights=values)


def hierarchical_bootstrap(
    scores_a: NDArray[np.float64],
    scores_b: NDArray[np.float64],
    problem_counts: NDArray[np.float64],
    rng: np.random.Generator,
    groups: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.float64], float]:
    """Bootstrap distribution of ``mean(b) - mean(a)`` resampling whole seeds and problems (or clusters).

    scores_a, scores_b: (n_seeds_arm, n_problems) per-problem scores of each seed, same problems.
    problem_counts: (n_boot, n_units), one resample of the units shared by both arms; a unit is a problem,
    or with ``groups`` (n_problems,) a cluster index per problem (0..n_units-1), a whole cluster.
    Returns (deltas (n_boot,), df).

    Seeds and problems are crossed, so resampling raw cells counts the seed x problem residual
    twice. Instead the estimate is split into effects that are resampled separately and rescaled
    so their spread matches the moment estimates (a rescaled random-effects bootstrap, Carpenter,
    Goldstein & Rasbash 2003):
    - seed effects of each arm, ``x_r - mean(x)`` on per-seed scores, drawn within the arm and
      scaled by sqrt(r / (r - 1)): variance ``s_a^2 / r_a``, unbiased for seed + residual/n;
    - unit effects of the paired difference, ``e_u`` = the unit's sum of ``D_i - mean(D)``, drawn once
      for both arms and shrunk so the variance of their mean is ``V = U/(U-1) sum(e_u^2)/n^2 -
      sum_a MS_res,a / (r_a n)``: the arm x problem (or x cluster) interaction, the residual being in the
      seed term already. With one problem per unit, ``V = omega^2 / n``, ``omega^2 = var(D) - sum_a
      MS_res,a / r_a``; with clusters, ``V`` is the cluster-robust variance less that residual.
    ``df`` is the Satterthwaite degrees of freedom of that variance (U - 1 for the unit term), for
    ``small_sample_interval``.
    """
    n_boot, n_units = problem_counts.shape
    n = scores_a.shape[1]
    seed_part = np.zeros(n_boot)
    terms, dfs = [], []
    for sign, s in ((-1.0, scores_a), (1.0, scores_b)):
        x = s.mean(axis=1)
        r = x.size
        if r < 2:
            continue
        effects = (x - x.mean()) * np.sqrt(r / (r - 1))
        seed_part += sign * (resample_counts(rng, r, n_boot) @ effects) / r
        terms.append(x.var(ddof=1) / r)
        dfs.append(r - 1)
    d = scores_b.mean(axis=0) - scores_a.mean(axis=0)
    e = unit_sums(d - d.mean(), groups)  # (n_units,)
    residual = sum(variance_components(s).residual / s.shape[0] for s in (scores_a, scores_b) if s.shape[0] >= 2)
    boot_var = float(np.sum(e**2)) / n**2  # the variance the raw unit resample would give the mean
    robust = boot_var * n_units / (n_units - 1) if n_units > 1 else 0.0
    v = max(0.0, robust - residual / n)
    shrink = np.sqrt(v / boot_var) if boot_var > 0 else 0.0
    problem_part = problem_counts @ (e * shrink) / n
    terms.append(v)
    dfs.append(max(n_units - 1, 1))
    total = sum(terms)
    df = total**2 / sum(t**2 / f for t, f in zip(terms, dfs, strict=True)) if total > 0 else float("inf")
    return float(d.mean()) + seed_part + problem_part, float(df)


def small_sample_interval(
    boot: NDArray[np.float64], estimate: float, df: float, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of ``boot`` widened about ``estimate`` by ``t_{df} / z``.

    The bootstrap draws seeds as if their distribution were known; with r seeds per arm the seed
    spread is estimated on about ``df`` degrees of freedom, so its quantiles are stretched by the
    ratio of the t and normal critical values (1.0 when df is infinite or NaN).
    """
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    q = 0.5 + level / 2
    stretch = stats.t.ppf(q, df) / stats.norm.ppf(q) if np.isfinite(df) and df > 0 else 1.0
    return float(estimate + stretch * (lo - estimate)), float(estimate + stretch * (hi - estimate))
