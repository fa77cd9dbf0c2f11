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


def hierarchical_bootstrap(
    scores_a: NDArray[np.float64],
    scores_b: NDArray[np.float64],
    problem_counts: NDArray[np.float64],
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], float]:
    """Bootstrap distribution of ``mean(b) - mean(a)`` resampling whole seeds and problems.

    scores_a, scores_b: (n_seeds_arm, n_problems) per-problem scores of each seed, same problems.
    problem_counts: (n_boot, n_problems), one problem resample shared by both arms.
    Returns (deltas (n_boot,), df).

    Seeds and problems are crossed, so resampling raw cells counts the seed x problem residual
    twice. Instead the estimate is split into effects that are resampled separately and rescaled
    so their spread matches the moment estimates (a rescaled random-effects bootstrap, Carpenter,
    Goldstein & Rasbash 2003):
    - seed effects of each arm, ``x_r - mean(x)`` on per-seed scores, drawn within the arm and
      scaled by sqrt(r / (r - 1)): variance ``s_a^2 / r_a``, unbiased for seed + residual/n;
    - problem effects of the paired difference ``D_i - mean(D)``, drawn once for both arms and
      shrunk so their variance is ``omega^2 / n`` with ``omega^2 = var(D) - sum_a MS_res,a / r_a``
      (the arm x problem interaction; the residual is already in the seed term).
    ``df`` is the Satterthwaite degrees of freedom of that variance, for ``small_sample_interval``.
    """
    n_boot, n = problem_counts.shape
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
    residual = sum(variance_components(s).residual / s.shape[0] for s in (scores_a, scores_b) if s.shape[0] >= 2)
    var_d = d.var(ddof=1) if n > 1 else 0.0
    omega2 = max(0.0, var_d - residual)
    shrink = np.sqrt(omega2 / var_d * n / (n - 1)) if var_d > 0 else 0.0
    problem_part = problem_counts @ ((d - d.mean()) * shrink) / n
    terms.append(omega2 / n)
    dfs.append(n - 1)
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
