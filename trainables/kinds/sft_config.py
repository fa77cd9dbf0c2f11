"""The sft kind's parameters: the training data as parameters (problems x solutions), TRL SFT knobs,
and the evaluation points of the one training run."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trainables.common.params import KindParams


class SFTParams(KindParams):
    """One TRL SFT run per trial on n_problems x solutions_per_problem verified examples, evaluated at
    `eval_points` evenly spaced steps (iterations 1..eval_points)."""

    kind: Literal["sft"] = "sft"
    n_problems: int = Field(
        0, ge=0, description="Distinct training problems (the first of the train pool); 0: the budget "
        "`examples` divided by solutions_per_problem, so one space fits every profile's budget.",
    )  # fmt: skip
    solutions_per_problem: int = Field(1, ge=1, description="Examples per problem (k).")
    duplicate_solutions: bool = Field(
        False, description="k copies of one solution instead of k distinct ones (the diverse_dup control)."
    )
    whole_pool: bool = Field(
        False, description="Train on every problem of the profile's train pool (its n_train), one example per "
        "solution: the SFT-only baseline of an RL study on the same problems (n_problems and examples unused).",
    )  # fmt: skip
    examples: int | None = Field(
        None, ge=1, description="The example budget: n_problems x solutions_per_problem must equal it, so "
        "that conditions train on as many examples (None: not checked).",
    )  # fmt: skip
    epochs: float = Field(2.0, gt=0, description="Passes over the examples.")
    batch_size: int = Field(8, ge=1, description="Examples per device step.")
    grad_accum: int = Field(1, ge=1, description="Gradient accumulation steps.")
    lr: float = Field(2e-4, gt=0, description="AdamW learning rate (LoRA).")
    lr_scheduler: Literal["linear", "cosine", "constant"] = Field("linear", description="Schedule of the one run.")
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="Share of steps warming the rate up.")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping.")
    max_length: int = Field(1024, ge=16, description="Max tokens of prompt + completion (longer are cut).")
    eval_points: int = Field(8, ge=1, description="Evaluations evenly spaced over the run, one iteration each.")

    @model_validator(mode="after")
    def _budget(self) -> SFTParams:
        k = self.solutions_per_problem
        if self.whole_pool:
            return self  # n_problems is the profile's pool size, known to the trial (sft.run)
        if self.n_problems == 0:
            if self.examples is None or self.examples % k:
                raise ValueError(
                    f"n_problems is 0 (derived), so the budget `examples` must be a multiple of "
                    f"solutions_per_problem={k}, not {self.examples}; set examples, or n_problems itself"
                )
            object.__setattr__(self, "n_problems", self.examples // k)
        total = self.n_problems * k
        if self.examples is not None and total != self.examples:
            raise ValueError(
                f"n_problems x solutions_per_problem = {total}, but the example budget `examples` is "
                f"{self.examples}; set them so the product equals the budget"
            )
        return self

    def final_iteration(self) -> int:
        return self.eval_points


TRL_NAMES = {
    "learning_rate": "lr",
    "num_train_epochs": "epochs",
    "per_device_train_batch_size": "batch_size",
    "gradient_accumulation_steps": "grad_accum",
    "lr_scheduler_type": "lr_scheduler",
    "eval_steps": "eval_points",
}
"""TRL / common names users type, mapped to ours, for 'did you mean' hints."""
