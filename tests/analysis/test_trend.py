"""The seed-level trend over a numeric level: each seed's least-squares slope, their mean, interval and p,
recovered from scores built with a known slope; through analyze(), the report and a resolved space."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisSpec, analyze
from analysis.trend import trend

VALUES = {"p0": 0, "p120": 120, "p500": 500, "p1k": 1000, "p2k": 2000}


def test_the_slope_is_recovered_per_500_pairs() -> None:
    rng = np.random.default_rng(0)
    rows = [{"suite": "t", "condition": c, "seed": s, "score": 0.5 - 0.04 * x / 1000 + 0.1 * s + rng.normal(0, 0.005)}
            for s in range(4) for c, x in VALUES.items()]  # fmt: skip
    got = trend(pd.DataFrame(rows), "pairs", VALUES, 500, 0.95).iloc[0]
    assert got.slope_pp == pytest.approx(-2.0, abs=0.3) and got.ci_low_pp < got.slope_pp < got.ci_high_pp < 0
    assert got.n_seeds == 4 and got.n_conditions == 5 and got.p < 0.01
    assert len(got.seed_slopes_pp.split()) == 4


def test_trend_through_the_analysis_from_a_space(tmp_path: Path) -> None:
    from study.profile import load_profile
    from study.resolve import Options, resolve_study
    from study.space import load_space

    study = resolve_study(load_space("dpo_pairs"), load_profile("tiny"), Options(), tmp_path, tmp_path)
    assert study.trend == ("pairs", 500.0, tuple((c, float(x)) for c, x in VALUES.items()))
    rows = []
    for s in range(3):
        for c, x in VALUES.items():  # 20 problems; the count solved falls by one per 500 pairs
            solved = 12 - x // 500 + s
            rows += [{"condition": c, "seed": s, "iteration": 1, "suite": "transfer", "problem_id": f"q{i}",
                      "sample": 0, "passed": i < solved} for i in range(20)]  # fmt: skip
    res = analyze(pd.DataFrame(rows), AnalysisSpec(baseline="p0", trend=study.trend, n_boot=100))
    assert res.trend.iloc[0].slope_pp == pytest.approx(-5.0, abs=0.6)  # one problem of 20 per 500 pairs
    assert "trend/pairs/slope_pp" in res.mlflow_metrics()
