"""Diagnostic profiles over iterations: error shares, Ruff findings per category and completion length,
from hand-built outcomes and metrics, into the report as a figure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import AnalysisSpec, analyze, write_report
from analysis.profiles import eval_profiles, rollout_profiles
from trainables.common.diagnostics import error_kind, profile


def _sample(cond: str, seed: int, it: int, pid: str, category: str, lint: str, tokens: int) -> dict:
    return {"condition": cond, "seed": seed, "iteration": it, "suite": "test", "problem_id": pid, "sample": 0,
            "passed": category == "pass", "category": category, "lint": lint, "completion_tokens": tokens}  # fmt: skip


def test_profile_of_a_batch() -> None:
    got = profile(["pass", "runtime_error:ValueError", "wrong_answer", "pass"], ["F401", "", "F841 F401", ""], [4, 8])
    assert got["error/pass"] == 0.5 and got["error/runtime_error_ValueError"] == 0.25
    assert got["ruff/suspicious"] == 0.5 and got["ruff/correctness"] == 0.25 and got["ruff/style"] == 0.0
    assert got["completion_length"] == 6.0
    assert error_kind("runtime_error:ZeroDivisionError") == "runtime_error_ZeroDivisionError"


def test_eval_profiles_are_means_over_seeds() -> None:
    rows = []
    for seed in (0, 1):
        rows += [
            _sample("A", seed, 1, "p1", "pass", "", 10),
            _sample("A", seed, 1, "p2", "syntax_error", "invalid-syntax", 30),
        ]
        rows += [
            _sample("A", seed, 2, "p1", "pass", "F401" if seed else "", 20),
            _sample("A", seed, 2, "p2", "pass", "", 20),
        ]
    got = eval_profiles(pd.DataFrame(rows)).set_index(["iteration", "profile", "key"])["value"]
    assert got[(1, "error", "syntax_error")] == 0.5 and got[(2, "error", "pass")] == 1.0
    assert got[(1, "ruff", "correctness")] == 0.5  # a syntax error counts as a correctness finding
    assert got[(2, "ruff", "suspicious")] == pytest.approx(0.25)  # seed 0: 0, seed 1: 0.5
    assert got[(1, "length", "completion_tokens")] == 20.0


def test_rollout_profiles_and_the_report_figure(tmp_path: Path) -> None:
    rows = [_sample(c, s, it, f"p{i}", "pass" if (i + it) % 2 else "wrong_answer", "", 5)
            for c in ("A", "B") for s in (0, 1) for it in (0, 1, 2) for i in range(4)]  # fmt: skip
    outcomes = pd.DataFrame(rows)
    metrics = pd.DataFrame(
        [{"condition": c, "seed": s, "iteration": it, "metric": m, "value": v}
         for c in ("A", "B") for s in (0, 1) for it in (1, 2)
         for m, v in (("train/error/pass", 0.5), ("train/ruff/style", 0.2), ("train/completion_length", 9.0),
                      ("eval/test/pass_at_1", 0.5))]
    )  # fmt: skip
    roll = rollout_profiles(metrics).set_index(["condition", "iteration", "profile", "key"])["value"]
    assert (
        roll[("A", 1, "ruff", "style")] == pytest.approx(0.2) and roll[("B", 2, "length", "completion_tokens")] == 9.0
    )
    spec = AnalysisSpec(baseline="A", comparisons=(("B", "A"), ("A", "base@0")), n_boot=100)  # a base arm too
    res = analyze(outcomes, spec, metrics_df=metrics)
    assert set(res.profiles["suite"]) == {"test", "rollouts"}
    assert set(res.profiles[res.profiles.suite == "test"]["profile"]) == {"error", "ruff", "length"}
    paths = write_report(res, tmp_path, metrics_df=metrics)
    assert (tmp_path / "profiles_test.png").is_file() and (tmp_path / "profiles_rollouts.png").is_file()
    assert tmp_path / "profiles.csv" in paths


def test_a_kind_missing_from_a_seeds_rollouts_counts_as_zero() -> None:
    metrics = pd.DataFrame([
        {"condition": "A", "seed": 0, "iteration": 1, "metric": "train/error/timeout", "value": 0.2},
        {"condition": "A", "seed": 0, "iteration": 1, "metric": "train/error/pass", "value": 0.8},
        {"condition": "A", "seed": 1, "iteration": 1, "metric": "train/error/pass", "value": 1.0},
    ])  # fmt: skip
    got = rollout_profiles(metrics).set_index(["profile", "key"])["value"]
    assert got[("error", "timeout")] == pytest.approx(0.1) and got[("error", "pass")] == pytest.approx(0.9)
