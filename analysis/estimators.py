"""Point estimators and intervals: unbiased pass@k, Wilson and t intervals, variance components."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats


def pass_at_k(n: ArrayLike, c: ArrayLike, k: int) -> NDArray[np.float64]:
    """Unbiased pass@k of Chen et al. (2021): ``1 - C(n-c, k) / C(n, k)``.

    n: samples drawn per problem, c: how many of them passed; any broadcastable shapes.
    Returns an array of the broadcast shape in [0, 1]. Requires ``k <= n``.
    """
    n_arr, c_arr = np.broadcast_arrays(np.asarray(n, dtype=np.int64), np.asarray(c, dtype=np.int64))
    if np.any(k > n_arr) or k < 1:
        raise ValueError(f"pass@{k} needs 1 <= k <= n samples per problem (got n={n_arr.min()})")
    # comb() is 0 when n - c < k, which gives pass@k = 1 exactly as the product form does.
    return 1.0 - special.comb(n_arr - c_arr, k) / special.comb(n_arr, k)


def per_problem_scores(outcomes: NDArray[np.bool_], k: int = 1) -> NDArray[np.float64]:
    """Per-problem unbiased pass@k over the sample axis.

    outcomes: (..., n_samples) bool. Returns (...) float; for k=1 the mean over samples.
    """
    n = outcomes.shape[-1]
    if k == 1:
        return outcomes.mean(axis=-1)
    return pass_at_k(n, outcomes.sum(axis=-1), k)


def wilson_interval(successes: ArrayLike, n: ArrayLike, level: float = 0.95) -> tuple[NDArray, NDArray]:
    """Wilson score interval for a binomial proportion; arrays broadcast. Returns (low, high)."""
    x = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    p = x / m
    centre = (p + z * z / (2 * m)) / (1 + z * z / m)
    half = z / (1 + z * z / m) * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m))
    return centre - half, centre + half


def t_interval(values: ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """Student-t interval for the mean of ``values`` (1-D, e.g. per-seed scores). NaNs if < 2 values."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return float(v.mean() - half), float(v.mean() + half)


@dataclass(frozen=True)
class VarianceComponents:
    """Two-way random-effects ANOVA (seed x problem, one cell each) on per-problem scores.

    Model ``s_ri = mu + u_r + v_i + e_ri``; components are variances on the score scale
    (fraction solved, not pp). ``se_mean`` is the standard error of the condition mean over
    seeds and problems when both are treated as random.
    """

    seed: float
    problem: float
    residual: float
    n_seeds: int
    n_problems: int

    @property
    def se_mean(self) -> float:
        r, n = self.n_seeds, self.n_problems
        return float(np.sqrt(self.seed / r + self.problem / n + self.residual / (r * n)))


def variance_components(scores: NDArray[np.float64]) -> VarianceComponents:
    """Method-of-moments variance components of a (n_seeds, n_problems) score matrix.

    ``sigma2_seed = max(0, (MS_seed - MS_res) / n)``, ``sigma2_problem = max(0, (MS_prob - MS_res) / r)``,
    ``sigma2_residual = MS_res``. With one seed the seed and residual parts are NaN.
    """
    r, n = scores.shape
    grand = scores.mean()
    seed_means = scores.mean(axis=1)
    prob_means = scores.mean(axis=0)
    if r < 2 or n < 2:
        ms_prob = r * np.sum((prob_means - grand) ** 2) / max(n - 1, 1)
        return VarianceComponents(float("nan"), float(ms_prob / r), float("nan"), r, n)
    resid = scores - seed_means[:, None] - prob_means[None, :] + grand
    ms_seed = n * np.sum((seed_means - grand) ** 2) / (r - 1)
    ms_prob = r * np.sum((prob_means - grand) ** 2) / (n - 1)
    ms_res = np.sum(resid**2) / ((r - 1) * (n - 1))
    return VarianceComponents(
        seed=float(max(0.0, (ms_seed - ms_res) / n)),
        problem=float(max(0.0, (ms_prob - ms_res) / r)),
        residual=float(ms_res),
        n_seeds=r,
        n_problems=n,
    )
