"""Adaptive K rollouts: the selection rule on hand-made rewards, the rollout function against a real
GRPOTrainer and the real sandbox, and a real GRPO trial on the tiny model that reports train/k_mean."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from trainables.kinds.adaptive_k import AdaptiveK, extra_draws, has_variance, select_group


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


# --- the rollout function, against a real GRPOTrainer and the real sandbox -----------------------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path):
    """A real GRPOTrainer (smoke budget, K=4) over the tiny model, its reward functions and rollout log."""
    from executors import SandboxExecutor
    from study.profile import load_profile
    from study.resolve import Options, resolve_study
    from study.space import load_space
    from trainables.common.models import load_model, resolve_source
    from trainables.common.problems import load_train
    from trainables.common.rewards import RewardContext, build_rewards
    from trainables.common.rollouts import RolloutLog
    from trainables.kinds.grpo_trainer import LogBuffer, build_trainer

    out = tmp_path_factory.mktemp("ak")
    study = resolve_study(load_space("aux_kl"), load_profile("tiny"), Options(smoke=True, seeds=1), out, cache_dir)
    cfg = next(t for t in study.trials if t.condition == "A")
    cfg = cfg.model_copy(update={"params": cfg.params.model_copy(update={"num_generations": 4, "temperature": 1.5})})
    model, tokenizer = load_model(cfg.model, resolve_source(cfg.model, cfg.cache_dir, None))
    train = load_train(cfg.data)
    with SandboxExecutor(workers=1) as executor:
        log = RolloutLog()
        funcs, weights = build_rewards(cfg.params.rewards, RewardContext(train, executor, cfg.params, log))
        trainer = build_trainer(cfg, model, tokenizer, train, funcs, weights, LogBuffer())
        trainer.model.train()
        yield SimpleNamespace(trainer=trainer, funcs=funcs, weights=weights, log=log, train=train, tokenizer=tokenizer)


def test_rollout_returns_k_per_group_and_logs_no_rollouts(real) -> None:
    from trainables.common.prompting import render_prompt
    from trainables.common.rewards import combined

    prompts_all = [render_prompt(p, _spec(), real.tokenizer) for p in real.train]
    ak = AdaptiveK(real.funcs, real.weights, prompts_all, max_generations=8, seed=0)
    prompts = [prompts_all[0]] * 4 + [prompts_all[1]] * 4
    real.trainer._metrics["train"].clear()
    out = ak(prompts, real.trainer)
    assert len(out["completion_ids"]) == 8 and len(out["prompt_ids"]) == 8
    k_mean = real.trainer._metrics["train"]["rollout/k_mean"]
    assert len(k_mean) == 1 and 4.0 <= k_mean[0] <= 8.0
    assert real.log.drain() == []  # pre-scoring records nothing: the trainer's own scoring does
    texts = real.tokenizer.batch_decode(out["completion_ids"], skip_special_tokens=True)
    rewards = combined(real.funcs, real.weights, prompts, texts, problem_index=[0] * 4 + [1] * 4)
    lacking = round((k_mean[0] - 4.0) / 4.0 * 2)  # groups that were refilled with 4 more draws each
    rescued = real.trainer._metrics["train"].get("rollout/rescued_frac", [0.0])[0] * lacking
    with_variance = sum(has_variance(g) for g in (rewards[:4], rewards[4:]))
    assert with_variance == (2 - lacking) + round(rescued)  # untouched groups keep theirs; rescued ones gained it


def test_groups_without_variance_are_refilled_to_the_cap_with_the_combined_reward(real) -> None:
    """Weight 0 makes the combined reward 0 for every completion (what the trainer would sum): no group has
    variance, every group draws max_generations - K more, and no draw can rescue one."""
    from trainables.common.prompting import render_prompt

    prompts_all = [render_prompt(p, _spec(), real.tokenizer) for p in real.train]
    ak = AdaptiveK(real.funcs, [0.0], prompts_all, max_generations=8, seed=0)
    real.trainer._metrics["train"].clear()
    out = ak([prompts_all[0]] * 4 + [prompts_all[1]] * 4, real.trainer)
    assert len(out["completion_ids"]) == 8
    assert real.trainer._metrics["train"]["rollout/k_mean"] == [8.0]
    assert real.trainer._metrics["train"]["rollout/rescued_frac"] == [0.0]
    assert real.log.drain() == []


def test_rollout_rejects_prompts_not_in_groups_of_k(real) -> None:
    ak = AdaptiveK(real.funcs, real.weights, ["a", "b"], 8, seed=0)
    with pytest.raises(ValueError, match="groups of num_generations"):
        ak(["a", "b", "a", "a"], real.trainer)


def _spec():
    from trainables.common.specs import ModelSpec

    return ModelSpec(source="tiny", chat=False)


# --- a real GRPO trial on the tiny model ---------------------------------------------------------------------------


def test_grpo_trial_with_adaptive_k_reports_k_mean(tmp_path: Path, cache_dir: Path) -> None:
    from study.profile import load_profile
    from study.resolve import Options, resolve_study
    from study.space import load_space
    from trainables.common.reporting import ListReporter
    from trainables.kinds import grpo

    trials = resolve_study(
        load_space("aux_kl"), load_profile("tiny"), Options(smoke=True, seeds=1), tmp_path, cache_dir
    ).trials
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
