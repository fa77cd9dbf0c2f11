"""The dpo kind on the tiny model: an execution-verified pool (every pair re-verified in the sandbox),
nested across pair counts, cached under the hash of what made it; real TRL DPO steps reported at
evaluation points with their margins and log-probs; a resumed trial equal to an uninterrupted one."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pandas as pd
import pytest

from executors import SandboxExecutor
from study.profile import load_profile
from study.resolve import Options, resolve_study
from study.space import load_space
from trainables.common.models import load_model, resolve_source
from trainables.common.outcomes import read_outcomes
from trainables.common.pairs import Pair
from trainables.common.prompting import job
from trainables.common.reporting import ListReporter
from trainables.kinds import dpo
from trainables.kinds.dpo_pool import choose, line_difference, problem_of


@pytest.fixture(scope="module")
def trials(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> dict:
    out = tmp_path_factory.mktemp("dpo")
    study = resolve_study(load_space("dpo_pairs"), load_profile("tiny"), Options(smoke=True, seeds=1), out, cache_dir)
    return {t.condition: t for t in study.trials}


def test_every_pair_of_the_pool_reverifies_and_conditions_share_it(trials) -> None:
    cfg = trials["p500"]
    model, tok = load_model(cfg.model, resolve_source(cfg.model, cfg.cache_dir, lambda m: None))
    with SandboxExecutor(workers=2) as ex:
        rows, info, path, _ = dpo.pair_pool(cfg, model, tok, ex, lambda m: None)
        again = dpo.pair_pool(trials["p120"], model, tok, ex, lambda m: None)
        assert again[2] == path and again[0] == rows  # one pool for every pair count: nested prefixes
        chosen = ex.run([job(problem_of(r), r.chosen, f"c{i}") for i, r in enumerate(rows)])
        rejected = ex.run([job(problem_of(r), r.rejected, f"r{i}") for i, r in enumerate(rows)])
    assert rows and all(c.category == "pass" for c in chosen)
    assert all(r.category != "pass" for r in rejected)
    assert [r.rejected_category for r in rows] == [r.category for r in rejected]
    assert info["pairs"] == len(rows) and info["tasks_with_pairs"] == len({r.task_id for r in rows})
    lines = path.read_text().splitlines()
    assert len(lines) == len(rows) and {"task_id", "prompt", "chosen", "rejected", "rejected_category", "tests"} <= set(
        json.loads(lines[0])
    )


def test_the_pairing_rule_keeps_the_most_different_pairs() -> None:
    assert line_difference("a\nb\nc", "a\nx\nc") == 1 and line_difference("a", "a\nb\nc") == 2
    rejected = ("def f():\n    return 2\n", "x = 1\ny = 2\nz = 3\n", "def f():\n    return 1\n# no\n")
    pairs = [Pair("t", "p", "def f():\n    return 1\n", rej, "wrong_answer") for rej in rejected]
    top = choose(pairs, 1, "max_line_diff", random.Random(0))
    assert top == [pairs[1]]
    assert choose(pairs, 2, "random", random.Random(0)) == choose(pairs, 2, "random", random.Random(0))


def test_dpo_trial_reports_points_and_resumes_exactly(trials, tmp_path: Path) -> None:
    base = trials["p120"]
    params = base.params.model_copy(update={"eval_points": 3, "batch_size": 1})
    whole = base.model_copy(update={"params": params, "trial_dir": tmp_path / "whole"})
    whole.trial_dir.mkdir()
    first = ListReporter()
    dpo.run(whole, first, progress=lambda m: None)
    assert [r["iteration"] for r in first.results] == [0, 1, 2, 3]
    last = first.results[-1]
    assert {"train/loss", "train/reward_margin", "train/reward_accuracy", "train/logp_chosen"} <= set(last)
    assert last["train/pairs_trained"] == 8 and last["train/alarm_divergence"] == 0.0
    resumed = whole.model_copy(update={"trial_dir": tmp_path / "resumed"})
    ours = first.checkpoints[2]
    shutil.copytree(ours, resumed.trial_dir / "checkpoints" / ours.name)
    shutil.copytree(whole.trial_dir / "trl", resumed.trial_dir / "trl")
    again = ListReporter(resume_from=resumed.trial_dir / "checkpoints" / ours.name)
    dpo.run(resumed, again, progress=lambda m: None)
    assert [r["iteration"] for r in again.results] == [3]
    expected = read_outcomes(whole.trial_dir)
    pd.testing.assert_frame_equal(
        read_outcomes(resumed.trial_dir), expected[expected.iteration == 3].reset_index(drop=True)
    )


def test_divergence_alarm() -> None:
    assert dpo.divergence({"train/loss": 18.2}, 2.0) == {"train/alarm_divergence": 1.0}
    assert dpo.divergence({"train/loss": 0.69}, 2.0) == {"train/alarm_divergence": 0.0}
    assert dpo.divergence({"train/loss": float("inf")}, 2.0) == {"train/alarm_divergence": 1.0}
    assert dpo.divergence({"train/loss": float("nan")}, 2.0) == {"train/alarm_divergence": 1.0}  # diverged to NaN
    assert dpo.divergence({}, 2.0) == {}  # no loss logged: no verdict


def test_an_off_policy_pool_is_sampled_by_the_other_profiles_model(trials, tmp_path: Path) -> None:
    """pool_policy names another profile (here a YAML file whose model is a perturbed copy of the tiny model in a
    local folder): that model writes the candidates, through the local-path loading of a real profile; the pool
    is cached apart from the on-policy one and every pair still re-verifies."""
    import torch
    import yaml

    cfg = trials["p120"]
    tiny = Path(resolve_source(cfg.model, cfg.cache_dir, lambda m: None))
    other, tok = load_model(cfg.model, str(tiny))
    torch.manual_seed(1)
    with torch.no_grad():
        for w in other.parameters():
            w.add_(0.1 * w.std() * torch.randn_like(w))  # a sibling model: still passes some tasks, other samples
    other.save_pretrained(tmp_path / "sibling")
    tok.save_pretrained(tmp_path / "sibling")
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "profiles" / "tiny.yaml").read_text())
    raw |= {"name": "sibling", "model": {**raw["model"], "source": str(tmp_path / "sibling")}}
    (tmp_path / "sibling.yaml").write_text(yaml.safe_dump(raw))
    off = cfg.model_copy(
        update={"params": cfg.params.model_copy(update={"pool_policy": str(tmp_path / "sibling.yaml")})}
    )
    model, _ = load_model(cfg.model, str(tiny))
    with SandboxExecutor(workers=2) as ex:
        on_rows, _, on_path, _ = dpo.pair_pool(cfg, model, tok, ex, lambda m: None)
        rows, info, path, prompts = dpo.pair_pool(off, model, tok, ex, lambda m: None)
        chosen = ex.run([job(problem_of(r), r.chosen, f"c{i}") for i, r in enumerate(rows)])
        rejected = ex.run([job(problem_of(r), r.rejected, f"r{i}") for i, r in enumerate(rows)])
    assert path != on_path and rows and rows != on_rows  # another model's candidates, cached apart
    assert all(c.category == "pass" for c in chosen) and all(r.category != "pass" for r in rejected)
    assert set(prompts) >= {r.task_id for r in rows} and info["pairs"] == len(rows)
