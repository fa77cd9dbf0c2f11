"""Per-task head-to-head on a hand-built table: improved and regressed ids per seed, both-pass and both-fail
counts, the tasks that flip the same way in every seed, into the report and MLflow metrics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import AnalysisSpec, analyze, write_report

# per seed: the problems each condition solves (one sample per problem)
SOLVED = {
    ("base", 0): {"p0", "p1", "p2"}, ("dpo", 0): {"p0", "p3", "p4"},
    ("base", 1): {"p0", "p1", "p5"}, ("dpo", 1): {"p0", "p3", "p5"},
    ("base", 2): {"p0", "p1"},       ("dpo", 2): {"p3", "p1"},
}  # fmt: skip
PROBLEMS = [f"p{i}" for i in range(7)]


def _table() -> pd.DataFrame:
    rows = [{"condition": c, "seed": s, "iteration": 1, "suite": "test", "problem_id": p, "sample": 0,
             "passed": p in solved} for (c, s), solved in SOLVED.items() for p in PROBLEMS]  # fmt: skip
    return pd.DataFrame(rows)


def test_head_to_head_per_seed_and_across_seeds(tmp_path: Path) -> None:
    res = analyze(_table(), AnalysisSpec(baseline="base", n_boot=100))
    per = res.head_to_head.set_index("seed")
    assert per.loc[0, "improved_ids"] == "p3 p4" and per.loc[0, "regressed_ids"] == "p1 p2"
    assert (per.loc[0, "both_pass"], per.loc[0, "both_fail"]) == (1, 2)  # p0; p5, p6
    assert (per.loc[2, "improved"], per.loc[2, "regressed"]) == (1, 1)  # p3 up, p0 down
    both = res.head_to_head_consistent.iloc[0]
    assert both.always_improved_ids == "p3" and both.always_regressed_ids == "" and both.n_seeds == 3
    metrics = res.mlflow_metrics()
    assert metrics["h2h/dpo_vs_base/always_improved"] == 1.0 and metrics["h2h/dpo_vs_base/improved_mean"] == 4 / 3
    write_report(res, tmp_path)
    assert (tmp_path / "h2h_test.png").is_file() and "flip the same way in every seed" in (
        tmp_path / "report.md"
    ).read_text()
