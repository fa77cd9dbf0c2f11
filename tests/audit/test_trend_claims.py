"""Trend claims: the seed's "-2 pp per 500 pairs" audited from its points (slope, fit interval, problem-
sampling noise) and placed against a re-run's seed-level slope."""

from __future__ import annotations

import pytest

from analysis.audit_trend import audit_trend, place_trend
from analysis.claims import TrendClaim
from study.audit import CLAIMS_DIR, load_trends

POINTS = [{"value": 0, "passed": 138}, {"value": 500, "passed": 135}, {"value": 1000, "passed": 132},
          {"value": 2052, "passed": 128}]  # fmt: skip


def _claim(**kw: object) -> TrendClaim:
    body = {"id": "t", "source": {"document": "d", "table": "t"}, "benchmark": "HumanEval", "metric": "pass@1",
            "n_problems": 164, "level": "pairs", "per": 500, "points": POINTS, "reported_slope_pp": -2.0}  # fmt: skip
    body.update(kw)
    return TrendClaim.model_validate(body)


def test_the_seed_trend_is_within_problem_sampling_noise() -> None:
    a = audit_trend(_claim())
    assert a.slope_pp == pytest.approx(-1.47, abs=0.01)  # 10 of 164 problems over 2,052 pairs
    assert a.ci_low_pp < a.slope_pp < a.ci_high_pp < 0  # the four points lie close to a line...
    assert a.p_problem > 0.05 and "seed variance unassessed" in a.verdict  # ...but problem sampling alone explains it
    (shipped,) = [t for t in load_trends(CLAIMS_DIR) if t.id == "dpo-pairs-slope-15b"]
    assert shipped.reproduce is not None and shipped.reproduce.space == "dpo_pairs"


def test_a_re_run_places_the_reported_slope() -> None:
    row = {"per": 500, "ci_low_pp": -3.0, "ci_high_pp": -0.5, "p": 0.02, "seed_slopes_pp": "-1.5 -2.0 -1.0"}
    placed = place_trend(_claim(), row)
    assert placed["inside_t_interval"] is True and placed["slope_pp"] == pytest.approx(-1.5)
    assert placed["pred_low_pp"] < -3.0 and placed["inside_prediction"] is True  # one seed's slope spreads wider
    flat = place_trend(
        _claim(), {**row, "ci_low_pp": float("nan"), "ci_high_pp": float("nan"), "seed_slopes_pp": "0 0"}
    )
    assert flat["inside_t_interval"] is None  # no spread over seeds: no interval to place it in
    assert flat["inside_prediction"] is None
    with pytest.raises(ValueError, match="not pass@k"):
        _claim(metric="accuracy")
