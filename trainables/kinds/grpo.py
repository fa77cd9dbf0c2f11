"""The grpo kind's trial: iterated TRL GRPO with named sandbox rewards, evaluated every iteration.

Reads like the experiment: load the policy and tasks, then per iteration roll out and update (GRPO
phase), optionally learn from the rollouts (SPARK's auxiliary phase), evaluate on held-out suites,
checkpoint, report. A checkpoint holds the adapter, AdamW's state (one trainer, one optimizer for the
whole trial), the RNG states and the drift alarms' baseline, so a resumed trial continues exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from executors import SandboxExecutor
from trainables.common import base_eval, checkpoints
from trainables.common.config import TrialConfig
from trainables.common.diagnostics import lint_codes, profile
from trainables.common.evaluation import evaluate
from trainables.common.models import load_model, resolve_source
from trainables.common.outcomes import write_outcomes
from trainables.common.problems import Problem, load_suite, load_train
from trainables.common.prompting import program
from trainables.common.reporting import Reporter
from trainables.common.rewards import RewardContext, build_rewards
from trainables.common.rollouts import Rollout, RolloutLog
from trainables.kinds.grpo_trainer import LogBuffer, build_trainer, start_phase
from trainables.kinds.spark import aux_phase, drift_alarms, fix_rate_extra


def run(cfg: TrialConfig, reporter: Reporter, progress: Any = print) -> None:
    """Run one trial to completion (or on from its restored checkpoint), reporting every iteration."""
    from transformers import set_seed

    torch.set_num_threads(cfg.torch_threads)
    p = cfg.params
    set_seed(cfg.seed)
    model, tokenizer = load_model(cfg.model, resolve_source(cfg.model, cfg.cache_dir, progress))
    train = load_train(cfg.data, cfg.mbpp_dir)
    per_generation = p.prompts_per_step * (p.steps_per_generation or p.grad_accum)
    if len(train) < per_generation:  # TRL's sampler would yield no batch and train() would silently do nothing
        raise ValueError(
            f"grpo: the train pool has {len(train)} problems, fewer than one generation batch's {per_generation} "
            "prompts (prompts_per_step x steps_per_generation); lower them or raise the profile's n_train"
        )
    suites = {s.name: load_suite(s, cfg.data, cfg.mbpp_dir) for s in cfg.data.suites}
    with SandboxExecutor(workers=cfg.executor_workers, mode=cfg.sandbox_mode) as executor:
        log = RolloutLog()
        funcs, weights = build_rewards(p.rewards, RewardContext(train, executor, p, log))
        logs = LogBuffer()
        trainer = build_trainer(cfg, model, tokenizer, train, funcs, weights, logs)
        policy = trainer.model
        extras = [fix_rate_extra(p, cfg.model, executor)]

        def evaluate_and_save(iteration: int) -> dict[str, float]:
            def run_eval() -> base_eval.Evaluation:
                return evaluate(policy, tokenizer, suites, p, cfg.model, executor, condition=cfg.condition,
                                seed=cfg.seed, iteration=iteration, extras=extras)  # fmt: skip

            # iteration 0 is the base model: the same for every condition of a seed, evaluated once
            (metrics, rows), _ = base_eval.shared(cfg, run_eval) if iteration == 0 else (run_eval(), False)
            write_outcomes(cfg.trial_dir, iteration, rows)
            return metrics

        state: dict[str, Any] = {"drift_baseline": None}
        restored = reporter.restored_checkpoint()
        if restored is not None:
            trainer.create_optimizer()  # TRL's AdamW, carried across iterations: restore its moments
            checkpoints.restore(restored, policy, trainer.optimizer)
            state = dict(restored.kind_state)
        elif p.eval_at_start:
            reporter.report({"iteration": 0, **evaluate_and_save(0)}, None)  # iteration 0 = the base model
        for iteration in range((restored.iteration if restored else 0) + 1, p.iterations + 1):
            set_seed(cfg.seed * 1000 + iteration)
            start_phase(trainer, seed=cfg.seed * 1000 + iteration)
            trainer.train()  # GRPO phase: rollouts, sandbox rewards, updates
            rollouts = log.drain()
            metrics = {"iteration": iteration, **logs.drain_means(), **_rollout_metrics(rollouts, train)}
            alarms, state["drift_baseline"] = drift_alarms(
                metrics.get("train/kl", math.nan), metrics.get("train/completion_length", math.nan),
                state["drift_baseline"],
            )  # fmt: skip
            metrics.update(alarms)
            if p.aux_loss_scale > 0:  # auxiliary phase on this iteration's rollouts
                metrics.update(aux_phase(trainer, rollouts, train, p, tokenizer, iteration, model_spec=cfg.model))
            metrics.update(evaluate_and_save(iteration))
            path = checkpoints.save(cfg.trial_dir, cfg.key, iteration, policy, optimizer=trainer.optimizer,
                                    kind_state=state, metrics=metrics)  # fmt: skip
            reporter.report(metrics, path)


def _rollout_metrics(rollouts: list[Rollout], train: tuple[Problem, ...]) -> dict[str, float]:
    """The phase's rollouts: pass rate, Ruff profile and error profile (train/ruff/..., train/error/...;
    their length is TRL's train/completion_length)."""
    if not rollouts:
        return {}
    by_id = {p.problem_id: p for p in train}
    codes = lint_codes([program(by_id[r.problem_id], r.completion) for r in rollouts])
    diag = profile([r.category for r in rollouts], codes)
    return {
        "train/pass_rate": float(np.mean([r.passed_all for r in rollouts])),
        **{f"train/{k}": v for k, v in diag.items()},
    }
