"""A GRPO trial without Ray: real TRL steps on the tiny model, sandboxed rewards, per-problem outcomes,
adapter checkpoints, and resumption from a checkpoint at the next iteration."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from study.profile import load_profile
from study.resolve import Options, resolve_study
from study.space import load_space
from trainables.common import checkpoints
from trainables.common.config import TrialConfig
from trainables.common.outcomes import read_outcomes
from trainables.common.reporting import ListReporter
from trainables.kinds import grpo


@pytest.fixture(scope="module")
def smoke_trial(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[TrialConfig, ListReporter]:
    out = tmp_path_factory.mktemp("trial")
    trials = resolve_study(
        load_space("aux_kl"), load_profile("tiny"), Options(smoke=True, seeds=1), out, cache_dir
    ).trials
    cfg = next(t for t in trials if t.condition == "A")
    cfg.trial_dir.mkdir(parents=True)
    reporter = ListReporter()
    grpo.run(cfg, reporter, progress=lambda m: None)
    return cfg, reporter


def test_reports_every_iteration_with_eval_and_train_metrics(smoke_trial) -> None:
    _cfg, rep = smoke_trial
    assert [r["iteration"] for r in rep.results] == [0, 1, 2]
    for r in rep.results:
        for suite in ("heldout", "transfer"):
            assert 0.0 <= r[f"eval/{suite}/pass_at_1"] <= r[f"eval/{suite}/pass_at_5"] <= 1.0
    for r in rep.results[1:]:
        assert {"train/kl", "train/pass_rate", "train/completion_length", "train/reward"} <= set(r)
        assert r["train/kl"] >= 0.0 and 0.0 <= r["train/pass_rate"] <= 1.0
        assert r["train/reward/exec"] == pytest.approx(r["train/reward"])  # one function, weight 1
        assert {"train/alarm_kl_growth", "train/alarm_length_collapse"} <= set(r)  # exec-only A reports them too


def test_outcomes_are_per_problem_per_sample(smoke_trial) -> None:
    cfg, _ = smoke_trial
    table = read_outcomes(cfg.trial_dir)
    n = cfg.data.suites[0].n
    assert len(table) == 3 * 2 * n * cfg.params.eval_samples
    assert set(table.condition) == {"A"} and set(table.seed) == {cfg.seed}
    per = table.groupby(["iteration", "suite", "problem_id"])["sample"].nunique()
    assert (per == cfg.params.eval_samples).all()
    # pass@1 reported = mean of the per-sample outcomes
    last = table[(table.iteration == 2) & (table.suite == "heldout")]
    assert smoke_trial[1].results[-1]["eval/heldout/pass_at_1"] == pytest.approx(last.passed.mean())


def test_checkpoints_hold_the_adapter(smoke_trial) -> None:
    _cfg, rep = smoke_trial
    assert rep.checkpoints[0] is None  # iteration 0 is the base model
    for ckpt in rep.checkpoints[1:]:
        assert (ckpt / "adapter_model.safetensors").is_file() and (ckpt / "trial_state.json").is_file()


def test_resume_from_checkpoint_runs_only_the_rest(smoke_trial, tmp_path: Path) -> None:
    cfg, rep = smoke_trial
    resumed = cfg.model_copy(update={"trial_dir": tmp_path / "resumed"})
    resumed.trial_dir.mkdir()
    again = ListReporter(resume_from=rep.checkpoints[1])
    grpo.run(resumed, again, progress=lambda m: None)
    assert [r["iteration"] for r in again.results] == [2]
    assert set(pd.unique(read_outcomes(resumed.trial_dir).iteration)) == {2}


def _timing(key: str) -> bool:
    return key.endswith(("_s", "time_s")) or key == "trial_s"


def test_resumed_trial_reproduces_the_uninterrupted_one_bit_for_bit(tmp_path: Path, cache_dir: Path) -> None:
    """C-light (aux phase on) for 3 iterations; a copy resumed from iteration 2's checkpoint must give the
    same outcomes and the same train metrics (AdamW moments, RNG states and the kind's state restored)."""
    study = resolve_study(load_space("aux_kl"), load_profile("tiny"), Options(smoke=True, seeds=1), tmp_path, cache_dir)
    base = next(t for t in study.trials if t.condition == "C-light")
    params = base.params.model_copy(update={"iterations": 3, "steps_per_iteration": 2})
    whole = base.model_copy(update={"params": params, "trial_dir": tmp_path / "whole"})
    whole.trial_dir.mkdir()
    first = ListReporter()
    grpo.run(whole, first, progress=lambda m: None)
    assert checkpoints.read(first.checkpoints[1]) is None  # older than the newest two: adapter only
    assert (first.checkpoints[1] / "adapter_model.safetensors").is_file()
    with pytest.raises(ValueError, match="not a resumable checkpoint"):  # never a silent restart from scratch
        ListReporter(resume_from=first.checkpoints[1]).restored_checkpoint()
    resumed = whole.model_copy(update={"trial_dir": tmp_path / "resumed"})
    shutil.copytree(first.checkpoints[2], resumed.trial_dir / "checkpoints" / first.checkpoints[2].name)
    again = ListReporter(resume_from=resumed.trial_dir / "checkpoints" / first.checkpoints[2].name)
    grpo.run(resumed, again, progress=lambda m: None)
    expected = read_outcomes(whole.trial_dir)
    expected = expected[expected.iteration >= 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(read_outcomes(resumed.trial_dir), expected)
    for a, b in zip(first.results[3:], again.results, strict=True):
        assert {k: v for k, v in a.items() if not _timing(k)} == {k: v for k, v in b.items() if not _timing(k)}


def test_base_kind_samples_what_a_trained_kind_evaluates_at_iteration_0(smoke_trial, tmp_path: Path) -> None:
    """The base kind (no training) is the untrained arm: same seed, same samples, same outcomes as the grpo
    kind's iteration-0 evaluation (a fresh LoRA adapter changes no logit)."""
    from trainables.kinds import KINDS

    grpo_cfg, _ = smoke_trial
    params = KINDS["base"].params.model_validate(
        {k: v for k, v in grpo_cfg.params.model_dump().items() if k.startswith("eval_")} | {"kind": "base"}
    )
    cfg = grpo_cfg.model_copy(update={"params": params, "trial_dir": tmp_path / "base"})
    cfg.trial_dir.mkdir()
    reporter = ListReporter()
    KINDS["base"].run_function()(cfg, reporter, progress=lambda m: None)
    assert [r["iteration"] for r in reporter.results] == [0] and reporter.checkpoints == [None]
    trained = read_outcomes(grpo_cfg.trial_dir)
    pd.testing.assert_frame_equal(read_outcomes(cfg.trial_dir), trained[trained.iteration == 0].reset_index(drop=True))


def test_iteration_0_is_evaluated_once_per_seed_and_reused_by_other_conditions(smoke_trial, cache_dir) -> None:
    """C-reg of the same seed reads A's iteration-0 evaluation from the study's base_eval folder instead of
    computing it again: the same outcomes (relabelled), the same metrics."""
    from trainables.common import base_eval

    a_cfg, a_rep = smoke_trial
    entry = a_cfg.base_eval_dir / base_eval.key(a_cfg)
    written = (entry / "metrics.json").stat().st_mtime_ns
    before = sorted(a_cfg.base_eval_dir.iterdir())
    study = resolve_study(
        load_space("aux_kl"), load_profile("tiny"), Options(smoke=True, seeds=1), a_cfg.trial_dir.parent.parent,
        cache_dir,
    )  # fmt: skip
    c_cfg = next(t for t in study.trials if t.condition == "C-reg")
    assert c_cfg.base_eval_dir == a_cfg.base_eval_dir
    c_cfg.trial_dir.mkdir(parents=True)
    c_rep = ListReporter()
    grpo.run(c_cfg, c_rep, progress=lambda m: None)
    assert base_eval.key(c_cfg) == entry.name  # the same seed and kind: the same evaluation
    assert (entry / "metrics.json").stat().st_mtime_ns == written and sorted(a_cfg.base_eval_dir.iterdir()) == before
    assert c_rep.results[0] == a_rep.results[0]
    a0 = read_outcomes(a_cfg.trial_dir).query("iteration == 0").reset_index(drop=True)
    c0 = read_outcomes(c_cfg.trial_dir).query("iteration == 0").reset_index(drop=True)
    pd.testing.assert_frame_equal(c0, a0.assign(condition="C-reg"))
