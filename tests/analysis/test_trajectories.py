"""Forgetting events, partial successes and error shares on hand-built trajectories."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import AnalysisSpec, analyze
from analysis.trajectories import forgetting, per_seed, summary


def _rows(cond: str, seed: int, problem: str, passes: list[bool], **extra) -> list[dict]:
    """One sample per iteration 0..len-1 for one problem."""
    return [
        {"condition": cond, "seed": seed, "iteration": i, "suite": "test", "problem_id": problem, "sample": 0,
         "passed": ok, **extra}
        for i, ok in enumerate(passes)
    ]  # fmt: skip


def test_forgetting_counts_solved_then_failed_between_trained_checkpoints() -> None:
    rows = _rows("deep", 0, "p1", [False, True, False, True, False])  # two forgettings (1->2, 3->4)
    rows += _rows("deep", 0, "p2", [True, False, True, True, True])  # 0 -> 1 is not between trained ones
    rows += _rows("diverse", 0, "p1", [False, True, True, True, True])
    got = forgetting(pd.DataFrame(rows)).set_index("condition")["forgetting_events"]
    assert got.to_dict() == {"deep": 2.0, "diverse": 0.0}


def test_partial_successes_and_error_shares_at_the_reported_checkpoint() -> None:
    df = pd.DataFrame(
        _rows("deep", 0, "p1", [False, False], category="wrong_answer", tests_passed=2, tests_total=4)
        + _rows("deep", 0, "p2", [False, False], category="runtime_error:ValueError", tests_passed=0, tests_total=4)
        + _rows("deep", 0, "p3", [True, True], category="pass", tests_passed=4, tests_total=4)
        + _rows("deep", 0, "p4", [False, False], category="syntax_error", tests_passed=0, tests_total=4)
    )
    row = per_seed(df, None, {"deep": 1}).iloc[0]
    assert row.partial_success_share == pytest.approx(0.25)  # only p1 passes some but not all cases
    assert (row.share_pass, row.share_wrong_answer, row.share_runtime_error, row.share_syntax_error) == (
        0.25, 0.25, 0.25, 0.25,
    )  # fmt: skip
    chosen = per_seed(df, {("deep", 0): 0}, {"deep": 1}).iloc[0]
    assert chosen.checkpoint == 0


def test_summary_is_a_mean_over_seeds_with_an_interval_and_reaches_the_analysis() -> None:
    rows = []
    for seed, track in enumerate(([False, True, False], [False, True, True], [False, True, False])):
        for problem in ("p1", "p2"):
            rows += _rows("deep", seed, problem, track, category="pass", tests_passed=1, tests_total=1)
            rows += _rows("diverse", seed, problem, [False, True, True], category="pass", tests_passed=1, tests_total=1)
    df = pd.DataFrame(rows)
    table = summary(per_seed(df, None, {}), 0.95).set_index(["condition", "quantity"])
    assert table.loc[("deep", "forgetting_events"), "mean"] == pytest.approx(4 / 3)  # 2 problems x 2 of 3 seeds
    assert table.loc[("deep", "forgetting_events"), "n_seeds"] == 3
    res = analyze(df, AnalysisSpec(baseline="deep", n_boot=200))
    got = res.trajectory_summary.set_index(["condition", "quantity"])
    assert got.loc[("diverse", "forgetting_events"), "mean"] == 0.0
    assert set(res.problem_trajectory.columns) >= {"problem_id", "iteration", "pass_rate"}


def test_conditions_are_compared_seed_by_seed_on_each_quantity() -> None:
    rows = []
    for seed, deep_track in enumerate(([False, True, False], [False, True, False], [False, True, True])):
        for problem in ("p1", "p2"):  # deep forgets both problems in seeds 0 and 1, none in seed 2
            rows += _rows("deep", seed, problem, deep_track, category="pass", tests_passed=1, tests_total=1)
            rows += _rows("diverse", seed, problem, [False, True, True], category="pass", tests_passed=1, tests_total=1)
    res = analyze(pd.DataFrame(rows), AnalysisSpec(baseline="deep", n_boot=200))
    got = res.trajectory_comparisons.set_index(["treatment", "baseline", "quantity"])
    lost = got.loc[("diverse", "deep", "forgetting_events")]
    assert lost.delta == pytest.approx(-4 / 3) and lost.n_seeds == 3  # per seed: -2, -2, 0
    assert (lost.seeds_up, lost.seeds_down) == (0, 2)
    assert lost.ci_low < lost.delta < lost.ci_high and 0 < lost.p <= lost.p_adj <= 1
    assert "base@0" not in set(res.trajectory_comparisons["baseline"])
