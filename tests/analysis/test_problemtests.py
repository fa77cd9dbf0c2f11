import numpy as np
import pytest
from scipy import stats

from analysis.bootstrap import resample_counts
from analysis.problemtests import best_case_exact_p, discordant_counts, mcnemar_exact_p, paired_bootstrap


@pytest.mark.parametrize(("b", "c"), [(3, 12), (10, 10), (0, 6), (25, 9)])
def test_mcnemar_matches_binomial_test(b, c):
    assert mcnemar_exact_p(b, c) == pytest.approx(stats.binomtest(min(b, c), b + c, 0.5).pvalue)


def test_mcnemar_without_discordant_pairs_is_one():
    assert mcnemar_exact_p(0, 0) == 1.0


def test_best_case_p_is_two_to_one_minus_m():
    assert best_case_exact_p(6) == pytest.approx(0.03125)
    assert best_case_exact_p(5) == pytest.approx(0.0625)
    assert best_case_exact_p(-6) == best_case_exact_p(6)
    assert best_case_exact_p(0) == 1.0
    # the bound is attained: all 6 discordant pairs one way
    assert mcnemar_exact_p(0, 6) == pytest.approx(best_case_exact_p(6))


def test_discordant_counts_sum_over_seed_pairs():
    a = np.array([[1, 1, 0, 0], [1, 0, 1, 0]], dtype=bool)
    b = np.array([[1, 0, 1, 0], [0, 0, 1, 1]], dtype=bool)
    assert discordant_counts(a, b) == (2, 2)


def test_paired_bootstrap_is_deterministic_and_centred():
    d = np.random.default_rng(1).normal(0.05, 0.2, 164)
    r1 = paired_bootstrap(d, resample_counts(np.random.default_rng(9), 164, 4000))
    r2 = paired_bootstrap(d, resample_counts(np.random.default_rng(9), 164, 4000))
    assert r1 == r2
    assert r1.ci_low < d.mean() < r1.ci_high
    se = d.std(ddof=1) / np.sqrt(164)
    assert r1.ci_high - r1.ci_low == pytest.approx(2 * 1.96 * se, rel=0.08)
