"""Typed hyperparameters of the grpo kind: the only place each knob is defined and documented.

A space file's `params` and condition overrides are validated against this model (plus the shared
`EvalParams`), so an unknown or mistyped parameter is rejected before Ray starts. Profiles set defaults.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from trainables.common.lint import RUFF_IGNORE, RUFF_SELECT
from trainables.common.params import KindParams

GSPO_RECIPE = {
    "importance_sampling_level": "sequence",
    "clip_ratio": 3e-4,
    "clip_ratio_high": 4e-4,
    "kl_coeff": 0.0,
    "steps_per_generation": 4,
}
"""TRL's GSPO recipe (paper index): sequence-level ratios, a tight asymmetric clip, no KL, and four
optimizer steps per generation batch (steps_per_generation is 4 x grad_accum micro-steps), so that
training is off-policy: fully on-policy (the TRL
default), every ratio is 1 and GSPO's gradient equals GRPO's (research note dpo-sft-gspo-ruff.md)."""

RUFF_WEIGHTS = {
    "correctness": 1.0, "suspicious": 0.5, "security": 0.5, "complexity": 0.2, "performance": 0.2,
    "style": 0.1, "pedantic": 0.1, "restriction": 0.1, "formatting": 0.05,
}  # fmt: skip
"""The lint reward's defaults (the seed paper publishes no formula): by category, most serious first."""


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
    optimizer: Literal["grpo", "gspo"] = Field(
        "grpo", description="The policy-gradient recipe: gspo sets GSPO_RECIPE's values as the condition's "
        "defaults (a space or condition may still set each one).",
    )  # fmt: skip
    importance_sampling_level: Literal["token", "sequence"] = Field(
        "token", description="Importance ratio per token (GRPO) or per sequence (GSPO)."
    )
    clip_ratio_high: float | None = Field(
        None, gt=0, description="Upper clip epsilon (TRL epsilon_high; None: clip_ratio, a symmetric clip)."
    )
    steps_per_generation: int | None = Field(
        None, ge=1, description="Optimizer micro-steps served by one generation batch (TRL; None: grad_accum). "
        "Above grad_accum, later steps train on rollouts of an older policy: off-policy.",
    )  # fmt: skip
    num_iterations: int = Field(
        1, ge=1, description="Updates per generation batch (TRL num_iterations, PPO's mu); above 1 is off-policy."
    )
    temperature: float = Field(1.0, gt=0, description="Rollout sampling temperature.")
    top_p: float = Field(1.0, gt=0, le=1, description="Rollout nucleus sampling.")
    max_completion_length: int = Field(512, ge=8, description="Max new tokens per rollout (tokens).")
    rewards: dict[str, float] = Field(
        default_factory=lambda: {"exec": 1.0},
        description="Reward functions and their weights (TRL reward_funcs / reward_weights); names in "
        "trainables/common/rewards.py.",
    )
    ruff_select: tuple[str, ...] = Field(
        RUFF_SELECT, description="Ruff rules the ruff reward runs (always --isolated: no project config)."
    )
    ruff_ignore: tuple[str, ...] = Field(RUFF_IGNORE, description="Rules left out of ruff_select.")
    ruff_weights: dict[str, float] = Field(
        default_factory=lambda: dict(RUFF_WEIGHTS),
        description="Weight of a finding by its rule's category (ruff's own metadata); unknown categories are refused.",
    )
    ruff_scale: float = Field(2.0, gt=0, description="Summed finding weight at which the ruff reward reaches -1.")
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

    @classmethod
    def condition_defaults(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Defaults of a condition from its own values, above the profile's (the GSPO recipe)."""
        if values.get("optimizer") != "gspo":
            return {}
        # TRL counts steps_per_generation in micro-steps: 4 optimizer steps per generation batch whatever
        # the accumulation (with grad_accum 4, a recipe of 4 would be one step: on-policy, GRPO again)
        return {
            **GSPO_RECIPE,
            "steps_per_generation": GSPO_RECIPE["steps_per_generation"] * int(values.get("grad_accum", 1)),
        }

    @field_validator("ruff_select", "ruff_ignore")
    @classmethod
    def _known_rules(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from trainables.common.lint import rule_categories

        codes = rule_categories()
        for sel in v:
            if sel != "ALL" and not any(code.startswith(sel) for code in codes):
                raise ValueError(f"'{sel}' selects no ruff rule; use rule codes or prefixes, e.g. F401 or E")
        return v

    @field_validator("ruff_weights")
    @classmethod
    def _known_categories(cls, v: dict[str, float]) -> dict[str, float]:
        from trainables.common.lint import CATEGORIES

        for name in v:
            if name not in CATEGORIES:
                raise ValueError(f"ruff_weights: unknown category '{name}'; ruff's are {', '.join(CATEGORIES)}")
        return v

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
    "epsilon_high": "clip_ratio_high",
    "mu": "num_iterations",
}
"""TRL / common names users type, mapped to ours, for 'did you mean' hints."""
