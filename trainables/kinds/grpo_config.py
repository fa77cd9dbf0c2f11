"""Typed hyperparameters of the grpo kind: the only place each knob is defined and documented.

A space file's `params` and condition overrides are validated against this model (plus the shared
`EvalParams`), so an unknown or mistyped parameter is rejected before Ray starts. Profiles set defaults.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from trainables.common.params import KindParams


class GRPOParams(KindParams):
    """Iterated GRPO (TRL GRPOTrainer) with named rewards and an optional auxiliary SFT objective (SPARK)."""

    kind: Literal["grpo"] = "grpo"

    iterations: int = Field(3, ge=1, description="Outer iterations: GRPO phase, aux phase, evaluation.")
    steps_per_iteration: int = Field(20, ge=1, description="Optimizer steps of the GRPO phase per iteration.")
    prompts_per_step: int = Field(8, ge=1, description="Distinct prompts per optimizer step.")
    num_generations: int = Field(4, ge=2, description="K rollouts per prompt (TRL num_generations).")
    adaptive_k: bool = Field(False, description="Draw up to max_generations when a group of K has no reward variance.")
    max_generations: int = Field(8, ge=2, description="Upper bound on rollouts per prompt with adaptive_k.")
    lr: float = Field(5e-6, gt=0, description="AdamW learning rate.")
    grad_accum: int = Field(1, ge=1, description="Gradient accumulation steps.")
    kl_coeff: float = Field(0.01, ge=0, description="GRPO beta: KL weight against the frozen base model.")
    clip_ratio: float = Field(0.2, gt=0, description="PPO-style clip epsilon (TRL epsilon).")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping norm.")
    loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo"] = Field("grpo", description="TRL GRPO loss.")
    importance_sampling_level: Literal["token", "sequence"] = Field(
        "token", description="'sequence' with loss_type grpo gives GSPO."
    )
    temperature: float = Field(1.0, gt=0, description="Rollout sampling temperature.")
    top_p: float = Field(1.0, gt=0, le=1, description="Rollout nucleus sampling.")
    max_completion_length: int = Field(512, ge=8, description="Max new tokens per rollout (tokens).")
    rewards: dict[str, float] = Field(
        default_factory=lambda: {"exec": 1.0},
        description="Reward functions and their weights (TRL reward_funcs / reward_weights); names in "
        "trainables/common/rewards.py.",
    )
    syntax_penalty: float = Field(-0.2, description="Reward of a program that does not parse.")
    runtime_penalty: float = Field(-0.1, description="Reward of a program that only raises.")
    timeout_penalty: float = Field(-0.3, description="Reward of a program that times out.")
    aux_loss_scale: float = Field(0.0, ge=0, description="Weight of the auxiliary SFT loss; 0 = exec-only.")
    aux_weight_pointwise: float = Field(1.0, ge=0, description="Aux weight of Correct/Incorrect judgments.")
    aux_weight_pairwise: float = Field(1.0, ge=0, description="Aux weight of A/B preference examples.")
    aux_weight_reflection: float = Field(1.0, ge=0, description="Aux weight of repair examples.")
    aux_pool_pointwise: int = Field(200, ge=0, description="Cap on pointwise examples per iteration.")
    aux_pool_pairwise: int = Field(200, ge=0, description="Cap on pairwise examples per iteration.")
    aux_pool_reflection: int = Field(300, ge=0, description="Cap on reflection examples per iteration.")
    aux_epochs: int = Field(1, ge=1, description="Passes over the aux pool per iteration.")
    aux_max_len: int = Field(1024, ge=16, description="Max tokens of an aux example.")
    reflection_target_mode: Literal["correct", "correct_or_canonical"] = Field(
        "correct_or_canonical", description="Repair target: a sibling correct rollout, else the canonical."
    )

    def final_iteration(self) -> int:
        return self.iterations

    @field_validator("rewards")
    @classmethod
    def _known_rewards(cls, v: dict[str, float]) -> dict[str, float]:
        from trainables.common.rewards import REWARDS

        if not v:
            raise ValueError("give at least one reward function, e.g. {exec: 1.0}")
        for name in v:
            if name not in REWARDS:
                raise ValueError(REWARDS.miss(name))
        return v


TRL_NAMES = {
    "learning_rate": "lr",
    "beta": "kl_coeff",
    "epsilon": "clip_ratio",
    "gradient_accumulation_steps": "grad_accum",
    "max_steps": "steps_per_iteration",
    "k": "num_generations",
    "max_new_tokens": "max_completion_length",
}
"""TRL / common names users type, mapped to ours, for 'did you mean' hints."""
