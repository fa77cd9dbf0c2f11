from analysis.verdict import INCONCLUSIVE, NO_EFFECT, SUPPORTED, verdict


def test_supported_needs_adjusted_p_and_an_interval_excluding_zero():
    assert verdict(0.01, 0.5, 3.0, 2.0) == SUPPORTED
    assert verdict(0.01, -0.1, 3.0, 2.0) == INCONCLUSIVE
    assert verdict(0.08, 0.5, 3.0, 2.0) == INCONCLUSIVE


def test_no_effect_needs_the_interval_inside_the_margin():
    assert verdict(0.6, -1.0, 1.5, 2.0) == NO_EFFECT
    assert verdict(0.6, -1.0, 2.5, 2.0) == INCONCLUSIVE


def test_missing_numbers_are_inconclusive():
    assert verdict(float("nan"), -1.0, 1.0, 2.0) == INCONCLUSIVE
