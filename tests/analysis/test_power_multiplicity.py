import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower

from analysis.multiplicity import adjust, benjamini_hochberg, holm
from analysis.power import mde_problems, mde_seeds, seeds_needed


def test_mde_problems_uses_2_8016_standard_errors():
    assert mde_problems(0.5, 198) == pytest.approx(2.8016 * 0.5 / math.sqrt(198), rel=1e-4)


def test_mde_seeds_matches_ttestindpower():
    d = TTestIndPower().solve_power(effect_size=None, nobs1=5, ratio=1.0, alpha=0.05, power=0.8)
    assert mde_seeds(0.02, 5) == pytest.approx(d * 0.02)
    assert math.isnan(mde_seeds(0.02, 1))


def test_seeds_needed_matches_ttestindpower():
    n = TTestIndPower().solve_power(effect_size=0.5, nobs1=None, ratio=1.0, alpha=0.05, power=0.8)
    assert seeds_needed(0.01, 0.02) == math.ceil(n)  # 64
    assert seeds_needed(0.0, 0.02) == math.inf
    assert seeds_needed(1.0, 0.001) == 2.0
    assert seeds_needed(1e-6, 1.0) == math.inf  # beyond the cap


def test_holm_and_bh_match_statsmodels():
    p = np.array([0.01, 0.04, 0.03, 0.20])
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])
    assert benjamini_hochberg(p) == pytest.approx(multipletests(p, method="fdr_bh")[1])
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])  # hand: 3p, 2p, max(...)


def test_adjust_picks_family_and_passes_nan():
    p = np.array([0.01, np.nan, 0.02])
    assert np.isnan(adjust(p, "declared")[1])
    assert adjust(p, "declared")[[0, 2]] == pytest.approx([0.02, 0.02])
    assert adjust(p, "exploratory")[[0, 2]] == pytest.approx([0.02, 0.02])
