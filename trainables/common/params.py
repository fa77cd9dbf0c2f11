"""Typed parameters every trainer kind shares: evaluation, and the `kind` tag that types a trial.

A kind's params (e.g. trainables/kinds/grpo_config.py) subclass `KindParams` with `kind` narrowed to
its name, so `TrialConfig.params` is a union discriminated by kind. Each field is documented once.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FrozenParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvalParams(FrozenParams):
    """Held-out evaluation, the same for every kind so that arms of any kind are compared alike."""

    eval_samples: int = Field(5, ge=1, description="Samples per held-out problem for pass@k.")
    eval_temperature: float = Field(0.2, gt=0, description="Evaluation sampling temperature.")
    eval_top_p: float = Field(0.95, gt=0, le=1, description="Evaluation nucleus sampling.")
    eval_max_new_tokens: int = Field(512, ge=8, description="Max new tokens per evaluation sample.")
    eval_at_start: bool = Field(True, description="Also evaluate the base model as iteration 0.")


class KindParams(EvalParams):
    """Base of every kind's params; `kind` is set by the resolver from the condition's trainer kind."""

    kind: str

    def final_iteration(self) -> int:
        """The iteration of this kind's last evaluation (what a study's analysis compares by default)."""
        raise NotImplementedError

    @classmethod
    def condition_defaults(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Defaults a condition's own values imply (e.g. an optimizer's recipe): they sit above the
        profile's defaults and below anything the space or the condition sets."""
        return {}


RESERVED = frozenset({"kind"})
"""Fields a space file may not set as parameters (a condition names its kind with `trainable:`)."""
