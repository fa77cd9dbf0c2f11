"""Group-sequential decisions over seeds (analysis/sequential.py): the boundaries spend alpha as the
O'Brien-Fleming-type function says, decisions follow the repeated confidence interval, and the whole
adaptive procedure keeps its type-I error (the slow test at the printed scale)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis import sequential as sq


def test_boundaries_spend_alpha_as_the_spending_function_says():
    fractions = (0.2, 0.4, 0.6, 0.8, 1.0)
    c = np.array(sq.boundaries(fractions))
    assert c[0] == pytest.approx(stats.norm.ppf(0.975) / math.sqrt(0.2), rel=1e-4)  # the first look spends alpha(t1)
    assert np.all(np.diff(c) < 0) and c[-1] > 1.96  # strict early, near 1.96 at the end
    rng = np.random.default_rng(0)  # an independent Brownian motion: first crossings by each look
    steps = rng.standard_normal((300_000, 5)) * np.sqrt(np.diff((0.0, *fractions)))
    z = steps.cumsum(axis=1) / np.sqrt(fractions)
    crossed = (np.cumsum(np.abs(z) >= c, axis=1) > 0).mean(axis=0)
    spent = [sq.obf_spent(t) for t in fractions]
    assert crossed == pytest.approx(spent, abs=0.0015)
    assert sq.boundaries((1.0,)) == pytest.approx((stats.norm.ppf(0.975),), rel=1e-6)
    with pytest.raises(ValueError, match="increase"):
        sq.boundaries((0.5, 0.4))


def test_a_clear_effect_is_supported_and_a_flat_one_is_equivalent_or_continues():
    both = ((5, 5), (10, 10))
    a = np.array([0.40, 0.41, 0.39, 0.40, 0.42, 0.40, 0.41, 0.39, 0.40, 0.42])
    up = sq.decide(a, a + 0.10, both, max_seeds=10, final=True)
    assert up.decision == sq.SUPPORTED and up.rci_low_pp > 0 and up.p < up.nominal_p
    flat = sq.decide(a[:5], a[:5] + 0.001, both[:1], max_seeds=10, margin_pp=5.0)
    assert flat.decision == sq.EQUIVALENT and flat.rci_low_pp > -5 and flat.rci_high_pp < 5
    early = sq.decide(a[:5], a[:5][::-1] + 0.005, both[:1], max_seeds=10)
    assert early.decision == sq.CONTINUE
    assert sq.decide(a, a[::-1] + 0.005, both, max_seeds=10, final=True).decision == sq.UNRESOLVED


def test_the_repeated_interval_uses_the_looks_nominal_level():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.4, 0.03, 4), rng.normal(0.45, 0.03, 4)
    look = sq.decide(a, b, ((4, 4),), max_seeds=8)
    res = stats.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(1 - look.nominal_p)
    assert (look.rci_low_pp, look.rci_high_pp) == pytest.approx((100 * ci.low, 100 * ci.high))
    assert look.nominal_p == pytest.approx(2 * stats.norm.sf(look.boundary_z))


def test_nominal_levels_spend_alpha_for_the_welch_p_values():
    looks = ((3, 3), (6, 6), (9, 9))
    q = sq.nominal_levels(looks, 9)
    assert all(np.diff(q) > 0) and q[-1] < 0.05
    rng = np.random.default_rng(9)  # fresh null studies, other draws than the levels were set on
    a, b = rng.standard_normal((100_000, 9)), rng.standard_normal((100_000, 9))
    rates = {}
    for ratio in sq.SPREAD_RATIOS:  # the treatment's seed sd over the baseline's
        first = np.zeros(100_000, dtype=bool)
        for (na, nb), level in zip(looks, q, strict=True):
            first |= sq.t_tests(a[:, :na], ratio * b[:, :nb])[3] < level
        rates[ratio] = first.mean()
    assert max(rates.values()) == pytest.approx(0.05, abs=0.002)  # exact at the least favourable ratio
    assert all(0.04 <= r <= 0.052 for r in rates.values()), rates  # conservative at the others
    ref = stats.ttest_ind(b[:3, :6], a[:3, :6], axis=1, equal_var=False)
    delta, se, df, p = sq.t_tests(a[:3, :6], b[:3, :6])
    assert p == pytest.approx(ref.pvalue) and df == pytest.approx(ref.df) and delta / se == pytest.approx(ref.statistic)


def test_futility_stops_when_the_declared_effect_is_out_of_reach():
    first = ((6, 6),)
    a = np.array([0.40, 0.42, 0.38, 0.41, 0.39, 0.40])
    down = sq.decide(a, a - 0.001, first, max_seeds=12, effect_pp=0.3)
    assert down.conditional_power < 0.1 and down.decision == sq.FUTILE
    hopeful = sq.decide(a, a + 0.02, first, max_seeds=12, effect_pp=3.0)
    assert hopeful.conditional_power > 0.5 and hopeful.decision != sq.FUTILE


def test_quick_adaptive_type_i_and_saving():
    design = sq.Design(start=3, batch=3, max_seeds=12, effect_pp=5.0, sd_pp=3.0)
    rng = np.random.default_rng(2)
    null = sq.simulate(design, 0.0, 20_000, rng)
    assert 0.03 <= null["supported"] <= 0.055  # 0.05 + 1.7x its Monte Carlo error
    hit = sq.simulate(design, 5.0, 2000, rng)
    assert hit["supported"] > 0.8 and hit["mean_seeds"] < sq.fixed_seeds_for(hit["supported"], 5.0, 3.0)


def test_the_vectorised_simulation_decides_as_a_study_does():
    design = sq.Design(start=3, batch=2, max_seeds=9, effect_pp=3.0, sd_pp=3.0, margin_pp=3.0)
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 0.03, (60, 9)), rng.normal(0.02, 0.03, (60, 9))
    looks = design.looks()
    ended, used = [], 0
    for i in range(60):  # each study look by look through decide, as analysis/adaptive.py runs them
        for k, n in enumerate(looks):
            got = sq.decide(a[i, :n], b[i, :n], tuple((m, m) for m in looks[: k + 1]), max_seeds=9, margin_pp=3.0,
                            effect_pp=3.0, final=k == len(looks) - 1)  # fmt: skip
            if got.decision != sq.CONTINUE:
                ended.append(got.decision)
                used += n
                break
    shares = sq.simulate(design, 0.0, 60, rng, scores=(a, b))
    assert len(set(ended)) >= 2  # the draws reach more than one kind of decision
    for decision in (sq.SUPPORTED, sq.EQUIVALENT, sq.FUTILE, sq.UNRESOLVED):
        assert shares[decision] == pytest.approx(ended.count(decision) / 60)
    assert shares["mean_seeds"] == pytest.approx(used / 60)


def test_welch_levels_hold_when_one_arm_spreads_three_times_more():
    design = sq.Design(start=3, batch=2, max_seeds=9, effect_pp=5.0, sd_pp=3.0)
    rng = np.random.default_rng(7)
    for a_sd, b_sd in ((0.03, 0.09), (0.09, 0.03)):
        a, b = rng.normal(0, a_sd, (40_000, 9)), rng.normal(0, b_sd, (40_000, 9))
        assert sq.simulate(design, 0.0, 40_000, rng, scores=(a, b))["supported"] <= 0.054  # 0.05 + 1.8 MC sd
    unequal = sq.nominal_levels(((3, 5), (5, 7)), 9)  # unequal seeds: both directions of the ratio count
    assert all(0 < q < 0.05 for q in unequal)


@pytest.mark.slow
def test_sequential_calibration_meets_its_type_i_target():
    from analysis.calibrate_sequential import sequential_table

    assert sequential_table(100_000, 0, 0.0) == 0  # the table `python -m analysis.calibrate --sequential` prints
