"""GSPO is GSPO: from the same model, batch and seed, GRPO (token ratios) and GSPO (sequence ratios)
make the same update when training is on-policy (every ratio is 1) and different ones when the recipe's
steps_per_generation makes later steps train on an older policy's rollouts. Real TRL steps on tiny."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from executors import SandboxExecutor
from study.profile import load_profile
from study.resolve import Options, resolve_study
from study.space import load_space
from trainables.common.models import load_model, resolve_source
from trainables.common.problems import load_train
from trainables.common.rewards import RewardContext, build_rewards
from trainables.kinds.grpo_config import GSPO_RECIPE
from trainables.kinds.grpo_trainer import LogBuffer, build_trainer, start_phase

SPACE = """\
name: gspo_check
trainable: grpo
seeds: 1
baseline: grpo_on
params: {iterations: 1, steps_per_iteration: 2, prompts_per_step: 2, num_generations: 4, kl_coeff: 0.0,
         max_completion_length: 24, temperature: 1.0, lr: 1.0e-2}
conditions:
  grpo_on: {steps_per_generation: 1}
  gspo_on: {optimizer: gspo, steps_per_generation: 1}
  grpo_off: {steps_per_generation: 2}
  gspo_off: {optimizer: gspo, steps_per_generation: 2}
metrics: [{name: eval/heldout/pass_at_1}]
"""


@pytest.fixture(scope="module")
def trials(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> dict:
    path = tmp_path_factory.mktemp("space") / "gspo_check.yaml"
    path.write_text(SPACE)
    study = resolve_study(load_space(str(path)), load_profile("tiny"), Options(seeds=1), path.parent, cache_dir)
    return {t.condition: t for t in study.trials}


def _update(cfg) -> dict[str, torch.Tensor]:
    """The LoRA weights after two optimizer steps from the seed's initial adapter."""
    from transformers import set_seed

    set_seed(cfg.seed)
    model, tokenizer = load_model(cfg.model, resolve_source(cfg.model, cfg.cache_dir, lambda m: None))
    train = load_train(cfg.data)
    with SandboxExecutor(workers=1) as executor:
        funcs, weights = build_rewards(cfg.params.rewards, RewardContext(train, executor, cfg.params))
        trainer = build_trainer(cfg, model, tokenizer, train, funcs, weights, LogBuffer())
        start_phase(trainer, seed=cfg.seed)
        trainer.train()
    return {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_" in n}


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max(float((a[n] - b[n]).abs().max()) for n in a)


def test_the_gspo_recipe_is_the_conditions_default(trials) -> None:
    p = trials["gspo_off"].params
    assert (p.importance_sampling_level, p.clip_ratio, p.clip_ratio_high, p.kl_coeff) == (
        "sequence", GSPO_RECIPE["clip_ratio"], GSPO_RECIPE["clip_ratio_high"], 0.0,
    )  # fmt: skip
    assert trials["gspo_on"].params.steps_per_generation == 1  # a condition's own value wins over the recipe
    assert trials["grpo_off"].params.importance_sampling_level == "token"


def test_on_policy_gspo_equals_grpo_and_off_policy_it_does_not(trials, tmp_path: Path) -> None:
    runs = {}
    for name in ("grpo_on", "gspo_on", "grpo_off", "gspo_off"):
        cfg = trials[name].model_copy(update={"trial_dir": tmp_path / name})
        runs[name] = _update(cfg)
    on, off = _max_diff(runs["grpo_on"], runs["gspo_on"]), _max_diff(runs["grpo_off"], runs["gspo_off"])
    assert _max_diff(runs["grpo_on"], runs["grpo_off"]) > 1e-3  # the knob changes training at all
    # On-policy every ratio is 1 and the gradients agree up to float rounding (AdamW's normalisation
    # turns rounding in near-zero gradients into differences of ~1e-5); off-policy the second step's
    # ratios differ from 1 and the sequence-level weighting moves the weights ~300x further apart.
    assert off > 1e-3 and on < off / 30
