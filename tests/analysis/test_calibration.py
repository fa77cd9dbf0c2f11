"""Calibration by simulation (see analysis.calibrate). The quick run uses few studies and wide bands;
the slow one checks the stated targets: type-I in [0.03, 0.07], coverage in [0.93, 0.97]."""

import pytest

from analysis.calibrate import SCENARIOS, calibrate


def test_quick_calibration_is_in_wide_bands():
    table = calibrate(n_studies=150, seed=11, scenarios=SCENARIOS[:4])
    type_i = table[table["kind"] == "type-I"]["rate"]
    coverage = table[table["kind"] == "coverage"]["rate"]
    assert type_i.between(0.0, 0.11).all(), table
    assert coverage.between(0.89, 1.0).all(), table


def test_problem_level_tests_reject_too_often_when_seeds_shift():
    table = calibrate(n_studies=100, seed=2, scenarios=SCENARIOS[4:5])
    assert table["rate"].iloc[0] > 0.2  # why verdicts use the seed-level tests


def test_undeclared_clusters_undercover_and_declared_ones_do_not():
    names = ("clustered effects, declared", "diagnostic: clustered, not declared")
    table = calibrate(n_studies=250, seed=4, scenarios=tuple(s for s in SCENARIOS if s.name in names))
    null_cover = table[(table["statistic"] == "hier_ci") & (table["effect"] == 0)].set_index("scenario")["rate"]
    assert null_cover[names[0]] > null_cover[names[1]] + 0.02


@pytest.mark.slow
def test_calibration_meets_targets():
    table = calibrate(n_studies=4000, seed=0)  # the figures printed by `python -m analysis.calibrate`
    judged = table[table["pass"] != "-"]
    assert (judged["pass"] == "yes").all(), judged
