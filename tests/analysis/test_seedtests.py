import numpy as np
import pytest
from scipy import stats

from analysis.seedtests import (
    hedges_g,
    min_exact_permutation_p,
    paired_t_test,
    permutation_test,
    pooled_sd,
    probability_of_improvement,
    welch_test,
)

A = np.array([0.412, 0.398, 0.431, 0.405, 0.420])
B = np.array([0.441, 0.452, 0.430, 0.466, 0.447])


def test_welch_matches_scipy():
    ref = stats.ttest_ind(B, A, equal_var=False)
    res = welch_test(A, B)
    assert (res.t, res.df, res.p) == pytest.approx((ref.statistic, ref.df, ref.pvalue))
    ci = ref.confidence_interval(0.95)
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low, ci.high))
    assert res.delta == pytest.approx(B.mean() - A.mean())


def test_exact_permutation_matches_scipy():
    rng = np.random.default_rng(0)
    res = permutation_test(A, B, rng)
    ref = stats.permutation_test(
        (B, A), lambda x, y: np.mean(x) - np.mean(y), permutation_type="independent", n_resamples=np.inf
    )
    assert res.exact and res.n_splits == 252
    assert res.p == pytest.approx(ref.pvalue)


def test_three_vs_three_permutation_cannot_go_below_0_1():
    res = permutation_test([0.1, 0.2, 0.3], [0.7, 0.8, 0.9], np.random.default_rng(0))
    assert res.p == pytest.approx(0.1) and res.min_p == pytest.approx(0.1)
    assert min_exact_permutation_p(3, 3) == pytest.approx(0.1)
    assert min_exact_permutation_p(5, 5) == pytest.approx(2 / 252)


def test_monte_carlo_permutation_is_deterministic_given_the_rng():
    a, b = np.arange(12.0), np.arange(12.0) + 3
    p1 = permutation_test(a, b, np.random.default_rng(3), n_resamples=2000, max_exact=10).p
    p2 = permutation_test(a, b, np.random.default_rng(3), n_resamples=2000, max_exact=10).p
    exact = permutation_test(a, b, np.random.default_rng(3)).p
    assert p1 == p2
    assert p1 == pytest.approx(exact, abs=0.03)


def test_hedges_g_hand_case():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([3.0, 4.0, 5.0])  # d = 2 / 1 = 2
    assert hedges_g(a, b) == pytest.approx(2 * (1 - 3 / (4 * 6 - 9)))
    assert pooled_sd(a, b) == pytest.approx(1.0)


def test_probability_of_improvement_is_mann_whitney_u_over_pairs():
    a, b = np.array([0.1, 0.3, 0.5]), np.array([0.3, 0.4, 0.6, 0.2])
    u = stats.mannwhitneyu(b, a).statistic
    assert probability_of_improvement(a, b) == pytest.approx(u / 12)
    assert probability_of_improvement(a, a) == pytest.approx(0.5)


def test_paired_t_matches_scipy_and_refuses_a_spread_of_zero():
    d = np.array([0.105, 0.08, 0.065])
    res, ref = paired_t_test(d), stats.ttest_1samp(d, 0.0)
    assert res.p == pytest.approx(ref.pvalue) and res.ci_low == pytest.approx(ref.confidence_interval().low)
    same = paired_t_test(np.array([0.025, 0.025 + 1e-17, 0.025]))
    assert np.isnan(same.p) and np.isnan(same.ci_low) and same.delta == pytest.approx(0.025)
