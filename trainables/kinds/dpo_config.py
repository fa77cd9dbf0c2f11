"""The dpo kind's parameters: how many pairs of the pool, the budget, TRL DPO knobs, the pair pool's
construction, and the evaluation points of the one training run."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trainables.common.params import KindParams


class DPOParams(KindParams):
    """One TRL DPO run per trial on the first `pairs` pairs of an execution-verified pool, evaluated at
    `eval_points` evenly spaced steps (iterations 1..eval_points); the reference is the base model."""

    kind: Literal["dpo"] = "dpo"
    pairs: int = Field(500, ge=1, description="Pairs trained on: the pool's first `pairs` (nested across conditions).")
    budget: Literal["epochs", "steps"] = Field(
        "epochs", description="epochs: `epochs` passes (steps grow with pairs); steps: `steps` optimizer steps "
        "(pairs seen vary): a grid over both separates more pairs from more steps.",
    )  # fmt: skip
    epochs: float = Field(1.0, gt=0, description="Passes over the pairs (budget: epochs).")
    steps: int = Field(100, ge=1, description="Optimizer steps (budget: steps).")
    beta: float = Field(0.1, gt=0, description="DPO beta: strength of the pull towards the reference.")
    loss: Literal["sigmoid", "rpo"] = Field("sigmoid", description="sigmoid (DPO) or rpo (sigmoid + rpo_alpha x SFT).")
    rpo_alpha: float = Field(1.0, ge=0, description="Weight of the SFT term on the chosen answers (loss: rpo).")
    lr: float = Field(5e-6, gt=0, description="AdamW learning rate: the same for every pair count.")
    lr_scheduler: Literal["linear", "cosine", "constant"] = Field("linear", description="Schedule of the one run.")
    batch_size: int = Field(8, ge=1, description="Pairs per device step.")
    grad_accum: int = Field(1, ge=1, description="Gradient accumulation steps.")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping.")
    max_length: int = Field(1024, ge=16, description="Max tokens of prompt + answer; TRL drops longer prompts.")
    eval_points: int = Field(4, ge=1, description="Evaluations evenly spaced over the run, one iteration each.")
    alarm_loss: float = Field(
        2.0, gt=0, description="Divergence alarm: a point's mean loss above this (DPO starts at ln 2 = 0.69)."
    )
    pool_tasks: int | None = Field(None, ge=1, description="Train tasks the pool samples (None: profile n_train).")
    pool_samples: int = Field(8, ge=2, description="Candidates sampled per task (K).")
    pool_temperature: float = Field(1.0, gt=0, description="Sampling temperature of the candidates.")
    pool_max_new_tokens: int = Field(128, ge=8, description="Max new tokens per candidate.")
    pool_max_pairs: int = Field(12, ge=1, description="Pairs kept per task at most (M).")
    pool_rule: Literal["random", "max_line_diff"] = Field(
        "random", description="Which M pairs a task keeps: a seeded draw, or the most differing lines (seed 002)."
    )
    pool_seed: int = Field(0, description="Seed of the pool's sampling, pair choice and order (a data seed).")
    pool_path: str | None = Field(
        None, description="A pool of your own: a JSONL file in the pool's format (trainables/kinds/dpo_pool.py, "
        "PoolRow); every pair is re-verified in the sandbox and the ones that do not hold are dropped.",
    )  # fmt: skip
    pool_policy: str = Field(
        "base", description="Who samples the candidates: base (this profile's model: on-policy) or another "
        "profile's name (off-policy, as seed document 002).",
    )  # fmt: skip

    @model_validator(mode="after")
    def _loss(self) -> DPOParams:
        if self.loss == "sigmoid" and "rpo_alpha" in self.model_fields_set and self.rpo_alpha != 1.0:
            raise ValueError("rpo_alpha only acts with loss: rpo; set loss: rpo or drop rpo_alpha")
        return self

    def final_iteration(self) -> int:
        return self.eval_points


TRL_NAMES = {
    "learning_rate": "lr",
    "num_train_epochs": "epochs",
    "max_steps": "steps",
    "per_device_train_batch_size": "batch_size",
    "gradient_accumulation_steps": "grad_accum",
    "loss_type": "loss",
    "num_pairs": "pairs",
}
"""TRL / common names users type, mapped to ours, for 'did you mean' hints."""
