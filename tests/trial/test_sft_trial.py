"""An SFT trial without Ray: real TRL SFT steps on the tiny model, evaluation points as iterations with a
TRL checkpoint each, and a resumed trial that reproduces the uninterrupted one bit for bit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from study.profile import load_profile
from study.resolve import Options, resolve_study
from study.space import load_space
from trainables.common.outcomes import read_outcomes
from trainables.common.reporting import ListReporter
from trainables.kinds import sft


def _timing(key: str) -> bool:
    return key.endswith(("_s", "time_s")) or key == "trial_s"


def test_sft_trial_reports_each_point_and_resumes_exactly(tmp_path: Path, cache_dir: Path) -> None:
    study = resolve_study(
        load_space("sft_diversity"), load_profile("tiny"), Options(smoke=True, seeds=1), tmp_path, cache_dir
    )
    base = next(t for t in study.trials if t.condition == "diverse")
    params = base.params.model_copy(update={"eval_points": 3})
    whole = base.model_copy(update={"params": params, "trial_dir": tmp_path / "whole"})
    whole.trial_dir.mkdir()
    first = ListReporter()
    sft.run(whole, first, progress=lambda m: None)
    assert [r["iteration"] for r in first.results] == [0, 1, 2, 3]
    steps = [r["train/step"] for r in first.results[1:]]
    assert steps == sorted(steps) and steps[-1] == max(steps)
    assert all(r["train/examples"] == 200 and r["train/problems"] == 40 for r in first.results)
    record = json.loads((whole.trial_dir / "sft_data.json").read_text())
    assert len(record["sha256"]) == 64 and len(record["problems"]) == 40
    assert (whole.trial_dir / "trl" / f"checkpoint-{int(steps[1])}").is_dir()

    resumed = whole.model_copy(update={"trial_dir": tmp_path / "resumed"})
    ours = first.checkpoints[2]  # iteration 2; TRL keeps its own checkpoint beside ours
    shutil.copytree(ours, resumed.trial_dir / "checkpoints" / ours.name)
    shutil.copytree(whole.trial_dir / "trl", resumed.trial_dir / "trl")
    again = ListReporter(resume_from=resumed.trial_dir / "checkpoints" / ours.name)
    sft.run(resumed, again, progress=lambda m: None)
    assert [r["iteration"] for r in again.results] == [3]
    expected = read_outcomes(whole.trial_dir)
    pd.testing.assert_frame_equal(
        read_outcomes(resumed.trial_dir), expected[expected.iteration == 3].reset_index(drop=True)
    )
    a, b = first.results[-1], again.results[0]
    assert {k: v for k, v in a.items() if not _timing(k)} == {k: v for k, v in b.items() if not _timing(k)}


def test_a_wrong_budget_is_refused_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (Path(__file__).resolve().parents[2] / "search_spaces" / "sft_diversity.yaml").read_text()
    wrong = "diverse:     {n_problems: 30, solutions_per_problem: 5}"
    bad.write_text(text.replace("diverse:     {solutions_per_problem: 5}", wrong))
    with pytest.raises(Exception, match="the product equals the budget"):
        resolve_study(load_space(str(bad)), load_profile("tiny"), Options(seeds=1), tmp_path, tmp_path)


def test_more_points_than_steps_is_refused_before_training(tmp_path: Path, cache_dir: Path) -> None:
    study = resolve_study(
        load_space("sft_diversity"), load_profile("tiny"), Options(smoke=True, seeds=1), tmp_path, cache_dir
    )
    base = next(t for t in study.trials if t.condition == "deep")
    cfg = base.model_copy(update={"params": base.params.model_copy(update={"eval_points": 500})})
    cfg.trial_dir.mkdir(parents=True)
    reporter = ListReporter()
    with pytest.raises(ValueError, match="fewer than eval_points=500; lower eval_points"):
        sft.run(cfg, reporter, progress=lambda m: None)
    assert reporter.results == []
