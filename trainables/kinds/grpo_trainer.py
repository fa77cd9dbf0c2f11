"""The TRL side of the grpo kind: one GRPOTrainer per trial, and its per-step logs as our metrics."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch
from transformers import TrainerCallback

from trainables.common.config import TrialConfig
from trainables.common.models import lora_config, use_nf4
from trainables.common.problems import Problem
from trainables.common.prompting import render_prompt
from trainables.common.rewards import RewardFunction

_TRL_KEYS = {
    "kl": "train/kl",
    "completions/mean_length": "train/completion_length",
    "reward": "train/reward",
    "frac_reward_zero_std": "train/frac_reward_zero_std",
    "loss": "train/loss",
    "step_time": "train/step_time_s",
    "rollout/k_mean": "train/k_mean",
    "rollout/rescued_frac": "train/rescued_frac",
}
_COMPONENT = re.compile(r"^rewards/([A-Za-z0-9_]+)/mean$")  # TRL's per-function mean -> train/reward/<name>


def build_trainer(
    cfg: TrialConfig,
    model: Any,
    tokenizer: Any,
    train: tuple[Problem, ...],
    funcs: list[RewardFunction],
    weights: list[float],
    logs: Any,
) -> Any:
    """One GRPOTrainer for the whole trial (GSPO when importance_sampling_level is 'sequence'; off-policy
    when steps_per_generation > grad_accum or num_iterations > 1), so the KL reference stays the base
    model (a new trainer over an adapted model would make it the adapter)."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    p = cfg.params
    dataset = Dataset.from_dict(
        {
            "prompt": [render_prompt(t, cfg.model, tokenizer) for t in train],
            "problem_index": list(range(len(train))),
        }
    )
    cuda = torch.cuda.is_available()
    args = GRPOConfig(
        output_dir=str(cfg.trial_dir / "trl"),
        seed=cfg.seed,
        max_steps=p.steps_per_iteration,
        per_device_train_batch_size=p.prompts_per_step * p.num_generations,
        gradient_accumulation_steps=p.grad_accum,
        num_generations=p.num_generations,
        max_completion_length=p.max_completion_length,
        temperature=p.temperature,
        top_p=p.top_p,
        learning_rate=p.lr,
        beta=p.kl_coeff,
        epsilon=p.clip_ratio,
        epsilon_high=p.clip_ratio_high,
        steps_per_generation=p.steps_per_generation,
        num_iterations=p.num_iterations,
        max_grad_norm=p.max_grad_norm,
        loss_type=p.loss_type,
        importance_sampling_level=p.importance_sampling_level,
        reward_weights=weights,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=not cuda,
        bf16=cuda and use_nf4(cfg.model),
        activation_checkpointing=cuda,
        dataloader_num_workers=0,
    )
    rollout_func = None
    if p.adaptive_k:  # draw up to max_generations for groups without reward variance (biased; see adaptive_k)
        from trainables.kinds.adaptive_k import AdaptiveK

        rollout_func = AdaptiveK(funcs, weights, dataset["prompt"], p.max_generations, seed=cfg.seed)
    trainer = _phased(GRPOTrainer)(
        model=model,
        args=args,
        reward_funcs=list(funcs),
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(cfg.lora),
        callbacks=[logs],
        rollout_func=rollout_func,
    )
    trainer.remove_callback(PrinterCallback)  # our reporter shows per-iteration results instead
    return trainer


def _phased(base: type) -> type:
    """GRPOTrainer whose prompt order is drawn per phase: TRL seeds its RepeatSampler with `args.seed` at
    every train() call, so each iteration would train on the same prompts in the same order (with the
    tiny profile's former 6 steps x 4 prompts, the same 24 of 64 tasks every iteration)."""

    class PhasedGRPOTrainer(base):  # type: ignore[misc, valid-type]
        phase_seed: int | None = None

        def _get_train_sampler(self, dataset: Any = None) -> Any:
            sampler = super()._get_train_sampler(dataset)
            if self.phase_seed is not None and getattr(sampler, "generator", None) is not None:
                sampler.seed = self.phase_seed
                sampler.generator.manual_seed(self.phase_seed)
            return sampler

    return PhasedGRPOTrainer


def start_phase(trainer: Any, seed: int) -> None:
    """Begin an iteration's GRPO phase: prompts in this phase's own order (`seed`), and a clean rollout
    buffer (TRL keeps its micro-step counter and buffered generations across train() calls; a phase must
    not reuse the previous one's rollouts, nor a resumed trial differ from an uninterrupted one by them)."""
    trainer.phase_seed = seed
    trainer._step = 0
    trainer._buffered_inputs = None


class LogBuffer(TrainerCallback):
    """Keeps TRL's per-step logs until the iteration ends; `drain_means` maps them to our names."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kw: Any) -> None:
        if logs and "loss" in logs:
            self.rows.append(dict(logs))

    def drain_means(self) -> dict[str, float]:
        keys = dict(_TRL_KEYS)
        for row in self.rows:
            for src in row:
                m = _COMPONENT.match(src)
                if m:
                    keys[src] = f"train/reward/{m.group(1)}"
        out = {}
        for src, dst in keys.items():
            values = [r[src] for r in self.rows if src in r]
            if values:
                out[dst] = float(np.mean(values))
        self.rows = []
        return out
