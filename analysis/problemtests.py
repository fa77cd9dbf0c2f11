"""Tests across problems, paired because both arms answer the same problems.

These treat the trained models as fixed: they ask whether these models differ on problems like
these, not whether the training condition does (that is the seed-level question).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from statsmodels.stats.contingency_tables import mcnemar


def mcnemar_exact_p(b: int, c: int) -> float:
    """Exact two-sided McNemar p from discordant counts.

    b: problems the baseline solved and the treatment failed; c: the reverse.
    ``p = min(1, 2 * BinomCDF(min(b, c); b + c, 1/2))`` (statsmodels ``mcnemar(exact=True)``).
    """
    if b + c == 0:
        return 1.0
    return float(mcnemar([[0, b], [c, 0]], exact=True).pvalue)


def best_case_exact_p(net_change: int) -> float:
    """Smallest exact McNemar p a net change of ``m`` problems can reach: ``2^(1-m)`` (all discordant
    pairs in one direction). A net gain of at least 6 problems is necessary for p < 0.05."""
    m = abs(int(net_change))
    return 1.0 if m == 0 else min(1.0, 2.0 ** (1 - m))


def discordant_counts(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> tuple[int, int]:
    """Discordant counts of paired binary outcomes.

    a, b: (n_pairs, n_problems) bool, one sample per problem, row j of ``a`` paired with row j of ``b``
    (seed pairs). Returns (b_count, c_count) = (#a passed & b failed, #a failed & b passed), summed
    over pairs; under the null that paired models are exchangeable each discordant pair is a fair coin.
    """
    return int(np.sum(a & ~b)), int(np.sum(~a & b))


@dataclass(frozen=True)
class PairedBootstrapResult:
    delta: float
    p: float
    ci_low: float
    ci_high: float


def paired_bootstrap(
    diffs: NDArray[np.float64],
    problem_counts: NDArray[np.float64],
    level: float = 0.95,
    groups: NDArray[np.int64] | None = None,
) -> PairedBootstrapResult:
    """Paired bootstrap over problems, or over whole clusters of problems.

    diffs: (n_problems,) per-problem score difference (treatment - baseline, each averaged over
    seeds and samples). problem_counts: (n_boot, n_units) multinomial resampling counts of the units
    (problems; with ``groups`` (n_problems,) cluster indices, clusters), shared by both arms. A resampled
    mean is the sum of the drawn units' differences over their problem count (a ratio estimator when
    clusters differ in size). Returns the percentile interval and ``p = (1 + #{|D* - D| >= |D|}) / (B + 1)``.
    """
    from analysis.bootstrap import unit_sums

    delta = float(diffs.mean())
    sums = unit_sums(diffs, groups)
    sizes = unit_sums(np.ones_like(diffs), groups)
    boot = (problem_counts @ sums) / (problem_counts @ sizes)
    hits = int(np.sum(np.abs(boot - delta) >= abs(delta) - 1e-12))
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return PairedBootstrapResult(delta, (1 + hits) / (1 + boot.size), float(lo), float(hi))


def cluster_robust_se(diffs: NDArray[np.float64], groups: NDArray[np.int64] | None = None) -> float:
    """Standard error of ``mean(diffs)`` (n_problems,): ``sqrt(U/(U-1) sum_u e_u^2) / n`` with ``e_u`` the
    unit's sum of centred differences (CR1, Liang-Zeger); one problem per unit without ``groups``, where
    it equals ``sd(diffs) / sqrt(n)``."""
    from analysis.bootstrap import unit_sums

    n = diffs.size
    e = unit_sums(diffs - diffs.mean(), groups)
    u = e.size
    return float(np.sqrt(u / (u - 1) * np.sum(e**2)) / n) if u > 1 else float("nan")
