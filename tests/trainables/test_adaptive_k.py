"""Adaptive K rollouts: the selection rule on hand-made rewards, the rollout function against a scripted
trainer and sandbox, and a real GRPO trial on the tiny model that reports train/k_mean."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from trainables.adaptive_k import AdaptiveK, extra_draws, has_variance, select_group
from trainables.problems import Problem
from trainables.rewards import ExecReward


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- the selection rule -------------------------------------------------------------------------------------------


def test_group_with_variance_is_returned_unchanged() -> None:
    assert select_group([0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.5, 0.0], 4, rng()) == [0, 1, 2, 3]
    assert extra_draws([0.0, 1.0, 0.0, 0.0], max_generations=8) == 0


def test_all_equal_group_draws_more_and_keeps_variance() -> None:
    group = [0.0, 0.0, 0.0, 0.0]
    assert extra_draws(group, max_generations=8) == 4
    for seed in range(20):
        picked = select_group([*group, 0.0, 0.0, 1.0, 0.0], 4, rng(seed))
        assert len(picked) == len(set(picked)) == 4 and 6 in picked
    rewards = [1.0] * 4 + [1.0, 0.5, 0.0, 1.0]
    picked = select_group(rewards, 4, rng())
    assert {5, 6} <= set(picked) and has_variance([rewards[i] for i in picked])  # one of each level


def test_more_levels_than_k_still_gives_variance() -> None:
    rewards = [0.0, 0.0, 0.2, 0.4, 0.6, 0.8]
    picked = select_group(rewards, 2, rng())
    assert len(picked) == 2 and has_variance([rewards[i] for i in picked])


def test_no_second_level_keeps_the_original_group() -> None:
    assert select_group([0.0] * 8, 4, rng()) == [0, 1, 2, 3]
    assert select_group([0.0, None, 0.0, 0.0, None, 0.0, 0.0, 0.0], 4, rng()) == [0, 1, 2, 3]


def test_unjudged_rewards_neither_count_as_variance_nor_fill_first() -> None:
    assert not has_variance([0.0, None, 0.0, None])
    assert extra_draws([0.0, None, 0.0, None], max_generations=8) == 4
    rewards = [None, None, 0.0, 0.0, 1.0, None, 0.0, None]
    for seed in range(10):
        picked = select_group(rewards, 4, rng(seed))
        assert 4 in picked and sum(rewards[i] is None for i in picked) == 0


def test_cap_is_respected() -> None:
    for k in (2, 4, 8):
        for cap in (2, 4, 6, 8, 16):
            assert k + extra_draws([0.0] * k, max_generations=cap) == max(k, cap)
            assert k + extra_draws([0.0] * (k - 1) + [1.0], max_generations=cap) == k


def test_selection_is_deterministic_given_a_seed() -> None:
    rewards = [0.0] * 4 + [0.0, 1.0, 0.5, 1.0, 0.0, 0.5, 0.0, 1.0]
    draws = [select_group(rewards, 4, rng(7)) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]
    assert len({tuple(select_group(rewards, 4, rng(s))) for s in range(30)}) > 1  # the seed matters


def test_too_few_rewards_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least k"):
        select_group([0.0, 1.0], 4, rng())


# --- the rollout function, against a scripted trainer and sandbox -------------------------------------------------


class _Sandbox:
    """Judges a completion that reads '1' as a pass, anything else as a fail; counts programs run."""

    def __init__(self) -> None:
        self.runs = 0

    def run(self, jobs: list[Any]) -> list[Any]:
        self.runs += len(jobs)
        return [
            SimpleNamespace(reward=float(j.program == "1"), category="pass" if j.program == "1" else "fail")
            for j in jobs
        ]


class _Trainer:
    """The parts of GRPOTrainer that AdaptiveK uses; completions are scripted token ids (0 fails, 1 passes)."""

    def __init__(self, k: int, script: list[list[int]]) -> None:
        self.num_generations = self.num_generations_eval = k
        self.model = SimpleNamespace(training=True)
        self.state = SimpleNamespace(global_step=3)
        self.processing_class = SimpleNamespace(batch_decode=lambda ids, **kw: ["".join(map(str, c)) for c in ids])
        self._metrics: dict[str, defaultdict[str, list[float]]] = {"train": defaultdict(list)}
        self.script = list(script)
        self.calls: list[tuple[list[list[int]], int]] = []

    def _tokenize_prompts(self, prompts: list[str]) -> tuple[list[list[int]], None, dict]:
        return [[ord(c) for c in p] for p in prompts], None, {}

    def _generate_single_turn(self, prompt_ids: list[list[int]], images: Any, mm: dict, n: int) -> tuple[list, None]:
        self.calls.append((prompt_ids, n))
        tokens = self.script.pop(0)
        assert len(tokens) == len(prompt_ids)
        return [[t] for t in tokens], None


def _rollout(script: list[list[int]], k: int = 4, cap: int = 8) -> tuple[dict, _Trainer, ExecReward]:
    problems = tuple(
        Problem(problem_id=f"p{c}", style="tiny", text=c, entry_point="f", tests=("assert f()",)) for c in "ab"
    )
    reward = ExecReward(problems, _Sandbox())  # type: ignore[arg-type]
    trainer = _Trainer(k, script)
    out = AdaptiveK(reward, ["a", "b"], cap, seed=0)(["a"] * k + ["b"] * k, trainer)
    return out, trainer, reward


def test_rollout_refills_only_the_group_without_variance() -> None:
    out, trainer, reward = _rollout([[0, 1, 0, 0, 0, 0, 0, 0], [0, 0, 1, 0]])
    assert [c[0] for c in out["completion_ids"][:4]] == [0, 1, 0, 0]  # group a had variance: untouched
    assert sorted(c[0] for c in out["completion_ids"][4:]) == [0, 0, 0, 1]  # group b: the extra pass swapped in
    assert out["prompt_ids"] == [[ord("a")]] * 4 + [[ord("b")]] * 4 and out["logprobs"] is None
    assert len(trainer.calls) == 2 and trainer.calls[1] == ([[ord("b")]] * 4, 4)  # 4 more draws, of b only
    assert trainer._metrics["train"]["rollout/k_mean"] == [6.0]  # (4 + 8) / 2
    assert trainer._metrics["train"]["rollout/rescued_frac"] == [1.0]
    assert reward.log == [] and reward.executor.runs == 12  # pre-scoring logs nothing; the trainer scores later


def test_rollout_with_variance_everywhere_draws_k() -> None:
    out, trainer, _ = _rollout([[0, 1, 0, 0, 1, 1, 0, 1]])
    assert [c[0] for c in out["completion_ids"]] == [0, 1, 0, 0, 1, 1, 0, 1] and len(trainer.calls) == 1
    assert (
        trainer._metrics["train"]["rollout/k_mean"] == [4.0] and "rollout/rescued_frac" not in trainer._metrics["train"]
    )


def test_rollout_cap_at_k_never_draws_more() -> None:
    _out, trainer, _ = _rollout([[0] * 8], cap=4)
    assert len(trainer.calls) == 1 and trainer._metrics["train"]["rollout/k_mean"] == [4.0]


def test_rollout_rejects_prompts_not_in_groups_of_k() -> None:
    reward = ExecReward(
        (Problem(problem_id="p", style="tiny", text="a", entry_point="f", tests=("assert f()",)),), _Sandbox()
    )  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="groups of num_generations"):
        AdaptiveK(reward, ["a"], 8, seed=0)(["a", "b", "a", "a"], _Trainer(4, []))


# --- a real GRPO trial on the tiny model ---------------------------------------------------------------------------


def test_grpo_trial_with_adaptive_k_reports_k_mean(tmp_path: Path, cache_dir: Path) -> None:
    from study.profile import load_profile
    from study.resolve import Options, resolve_trials
    from study.space import load_space
    from trainables import grpo
    from trainables.report import ListReporter

    trials = resolve_trials(
        load_space("aux_kl"), load_profile("tiny"), Options(smoke=True, seeds=1), tmp_path, cache_dir
    )
    base = next(t for t in trials if t.condition == "A")
    params = base.params.model_copy(
        update={"adaptive_k": True, "num_generations": 4, "max_generations": 8, "iterations": 1, "eval_at_start": False}
    )
    cfg = base.model_copy(update={"params": params})
    cfg.trial_dir.mkdir(parents=True)
    reporter = ListReporter()
    grpo.run(cfg, reporter, progress=lambda m: None)
    [result] = reporter.results
    assert result["iteration"] == 1
    assert 4.0 <= result["train/k_mean"] <= 8.0
    assert 0.0 <= result["train/pass_rate"] <= 1.0
