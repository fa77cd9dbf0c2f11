"""Power: minimum detectable effects and seeds needed (two-sided tests, defaults alpha 0.05, power 0.8)."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.power import TTestIndPower


def mde_problems(sd_diff: float, n_problems: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """MDE of a paired per-problem comparison (Miller 2024): ``(z_{1-a/2} + z_power) * sd_diff / sqrt(n)``.

    sd_diff: sd over problems of the per-problem score difference (score units). 2.8016 * SE at the
    defaults. Returns the MDE in score units.
    """
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z * sd_diff / math.sqrt(n_problems))


def mde_from_se(se: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """MDE of a z-test whose estimate has standard error ``se``: ``(z_{1-a/2} + z_power) * se`` (same units)."""
    return float((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * se)


def mde_seeds(
    sigma_seed: float, n_seeds_a: int, n_seeds_b: int | None = None, alpha: float = 0.05, power: float = 0.8
) -> float:
    """MDE of a two-sample t-test over seeds: solved Cohen's d (statsmodels TTestIndPower) times sigma.

    sigma_seed: sd of per-seed scores within an arm (score units). NaN with fewer than 2 seeds per arm.
    """
    n_b = n_seeds_a if n_seeds_b is None else n_seeds_b
    if n_seeds_a < 2 or n_b < 2 or not np.isfinite(sigma_seed):
        return float("nan")
    d = TTestIndPower().solve_power(effect_size=None, nobs1=n_seeds_a, ratio=n_b / n_seeds_a, alpha=alpha, power=power)
    return float(np.asarray(d).item() * sigma_seed)


def seeds_needed(delta: float, sigma_seed: float, alpha: float = 0.05, power: float = 0.8, cap: int = 1000) -> float:
    """Seeds per arm for a two-sample t-test to detect ``delta`` with the given power.

    delta, sigma_seed in the same units. Returns an integer-valued float >= 2, ``inf`` when
    delta is 0 or the answer exceeds ``cap``, NaN when sigma is unknown.
    """
    if not np.isfinite(sigma_seed) or not np.isfinite(delta):
        return float("nan")
    if sigma_seed == 0:
        return 2.0
    d = abs(delta) / sigma_seed
    if d == 0:
        return float("inf")

    def gap(n: float) -> float:
        achieved = TTestIndPower().power(effect_size=d, nobs1=n, ratio=1.0, alpha=alpha)
        return float(np.nan_to_num(achieved, nan=1.0)) - power  # statsmodels gives NaN when power ~ 1

    if gap(2) >= 0:
        return 2.0
    if gap(cap) < 0:
        return float("inf")
    return float(math.ceil(optimize.brentq(gap, 2, cap, xtol=1e-6) - 1e-6))
