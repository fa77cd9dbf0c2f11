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
    diffs: NDArray[np.float64], problem_counts: NDArray[np.float64], level: float = 0.95
) -> PairedBootstrapResult:
    """Paired bootstrap over problems.

    diffs: (n_problems,) per-problem score difference (treatment - baseline, each averaged over
    seeds and samples). problem_counts: (n_boot, n_problems) multinomial resampling counts, shared
    by both arms. Returns the percentile interval and ``p = (1 + #{|D* - D| >= |D|}) / (B + 1)``.
    """
    n = diffs.size
    delta = float(diffs.mean())
    boot = problem_counts @ diffs / n
    hits = int(np.sum(np.abs(boot - delta) >= abs(delta) - 1e-12))
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return PairedBootstrapResult(delta, (1 + hits) / (1 + boot.size), float(lo), float(hi))
