from analysis.verdict import INCONCLUSIVE, SUPPORTED, equivalent, verdict


def test_supported_needs_adjusted_p_and_an_interval_excluding_zero():
    assert verdict(0.01, 0.5, 3.0, 2.0) == SUPPORTED
    assert verdict(0.01, -0.1, 3.0, 2.0) == INCONCLUSIVE
    assert verdict(0.08, 0.5, 3.0, 2.0) == INCONCLUSIVE


def test_equivalence_needs_a_declared_margin_and_the_interval_inside_it():
    assert verdict(0.6, -1.0, 1.5, 2.0) == equivalent(2.0) == "equivalent within +/-2 pp"
    assert verdict(0.6, -1.0, 2.5, 2.0) == INCONCLUSIVE
    assert verdict(0.6, -0.1, 0.1, None) == INCONCLUSIVE  # no margin declared: never "no effect"


def test_missing_numbers_are_inconclusive():
    assert verdict(float("nan"), -1.0, 1.0, 2.0) == INCONCLUSIVE
