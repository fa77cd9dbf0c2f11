"""The registry of trainer kinds: what a kind provides, in one place.

A kind is a name, its typed params (a `KindParams` subclass: its own knobs plus the shared
`EvalParams`), its runner (`module:function`, imported only when a trial runs, so validating a space
never imports torch or TRL), the train/ metrics it reports, and the TRL names users may type for its
knobs. The space schema, the resolver, `--help`, errors and hints all read `KINDS`. Adding a kind is
one module (config + runner) and one entry here.

Everything else a runner uses is shared and knows no kind: trainables/common/ (models, tasks,
prompting, rollouts, rewards, evaluation, checkpoints, outcomes, reporting).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Union

from pydantic import Field

from trainables.common.params import KindParams
from trainables.kinds.base import BaseParams
from trainables.kinds.dpo_config import TRL_NAMES as DPO_TRL_NAMES
from trainables.kinds.dpo_config import DPOParams
from trainables.kinds.grpo_config import TRL_NAMES as GRPO_TRL_NAMES
from trainables.kinds.grpo_config import GRPOParams
from trainables.kinds.sft_config import TRL_NAMES as SFT_TRL_NAMES
from trainables.kinds.sft_config import SFTParams
from trainables.registry import Registry


@dataclass(frozen=True)
class Kind:
    """One trainer kind as the rest of the project sees it."""

    name: str
    summary: str
    params: type[KindParams]
    runner: str  # "module:function" with signature (TrialConfig, Reporter, progress) -> None
    train_metrics: tuple[str, ...] = ()
    eval_metrics: tuple[str, ...] = ()  # eval/<suite>/<name> from its evaluation extras, beyond pass_at_k
    trl_names: dict[str, str] = field(default_factory=dict)

    def run_function(self) -> Callable[..., Any]:
        module, name = self.runner.split(":")
        return getattr(importlib.import_module(module), name)

    def user_params(self) -> set[str]:
        """Parameter names a space file may set for this kind."""
        return set(self.params.model_fields) - {"kind"}


GRPO_METRICS = (
    "train/pass_rate",
    "train/reward",
    "train/kl",
    "train/completion_length",
    "train/loss",
    "train/aux_nll",
    "train/k_mean",
    "train/rescued_frac",
    "train/frac_reward_zero_std",
    "train/step_time_s",
    "train/aux_pool_pointwise",
    "train/aux_pool_pairwise",
    "train/aux_pool_reflection",
    "train/aux_pool_total",
    "train/aux_dropped",
    "train/aux_time_s",
    "train/alarm_kl_growth",
    "train/alarm_length_collapse",
)

SFT_METRICS = (
    "train/loss",
    "train/step",
    "train/epoch",
    "train/examples",
    "train/problems",
    "train/solutions_per_problem",
    "train/unverified_solutions",
    "train/skipped_problems",
)

DPO_METRICS = (
    "train/loss",
    "train/step",
    "train/epoch",
    "train/reward_margin",
    "train/reward_accuracy",
    "train/logp_chosen",
    "train/logp_rejected",
    "train/pairs",
    "train/pairs_trained",
    "train/pool_pairs",
    "train/pool_tasks_with_pairs",
    "train/alarm_divergence",
)

KINDS: Registry[Kind] = Registry(
    "trainer kind",
    {
        "grpo": Kind(
            name="grpo",
            summary="iterated TRL GRPO (optimizer: gspo for TRL's off-policy GSPO recipe), named reward mixes "
            "(exec, ruff), optional SPARK auxiliary SFT phase (seed documents 000, 003)",
            params=GRPOParams,
            runner="trainables.kinds.grpo:run",
            train_metrics=GRPO_METRICS,
            eval_metrics=("fix_rate",),
            trl_names=GRPO_TRL_NAMES,
        ),
        "sft": Kind(
            name="sft",
            summary="one TRL SFT run (LoRA, completion-only loss) on n_problems x solutions_per_problem "
            "sandbox-verified examples, evaluated at evenly spaced steps (seed document 001)",
            params=SFTParams,
            runner="trainables.kinds.sft:run",
            train_metrics=SFT_METRICS,
            trl_names=SFT_TRL_NAMES,
        ),
        "dpo": Kind(
            name="dpo",
            summary="one TRL DPO run (LoRA, the base model as reference) on the first `pairs` pairs of an "
            "execution-verified pool, evaluated at evenly spaced steps (seed document 002)",
            params=DPOParams,
            runner="trainables.kinds.dpo:run",
            train_metrics=DPO_METRICS,
            trl_names=DPO_TRL_NAMES,
        ),
        "base": Kind(
            name="base",
            summary="the untrained model, evaluated once (iteration 0): a study's base-model arm",
            params=BaseParams,
            runner="trainables.kinds.base:run",
        ),
    },
)

PLANNED: tuple[str, ...] = ()
"""Kinds whose seed documents are known (claims and spaces may name them) but have no runner yet."""

TrialParams = Annotated[Union[tuple(k.params for k in KINDS.values())], Field(discriminator="kind")]  # noqa: UP007
"""The params of one trial: a union of every registered kind's params, discriminated by `kind`."""
