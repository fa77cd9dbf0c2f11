"""The GRPO trial: iterated TRL GRPO with the sandboxed exec reward, evaluated every iteration.

Reads like the experiment: load the policy and tasks, then per iteration roll out and update (GRPO
phase), optionally learn from the rollouts (auxiliary phase), evaluate on held-out suites, report.
One GRPOTrainer serves every iteration, so the KL reference stays the base model throughout (a new
trainer over an adapted model would silently make the current adapter the reference).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import TrainerCallback

from executors import SandboxExecutor, Shaping
from trainables.config import TrialConfig
from trainables.evaluation import evaluate
from trainables.models import load_model, lora_config, resolve_source, use_nf4
from trainables.outcomes import write_outcomes
from trainables.problems import Problem, load_suite, load_train
from trainables.prompting import render_prompt
from trainables.report import Reporter
from trainables.rewards import ExecReward, Rollout

STATE_FILE = "trial_state.json"
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


def run(cfg: TrialConfig, reporter: Reporter, progress: Any = print) -> None:
    """Run one trial to completion (or from its restored checkpoint), reporting every iteration."""
    from transformers import set_seed

    torch.set_num_threads(cfg.torch_threads)
    p = cfg.params
    set_seed(cfg.seed)
    model, tokenizer = load_model(cfg.model, resolve_source(cfg.model, cfg.cache_dir, progress))
    train = load_train(cfg.data, cfg.mbpp_dir)
    suites = {s.name: load_suite(s, cfg.data, cfg.mbpp_dir) for s in cfg.data.suites}
    shaping = Shaping(syntax=p.syntax_penalty, runtime=p.runtime_penalty, timeout=p.timeout_penalty)
    with SandboxExecutor(workers=cfg.executor_workers, shaping=shaping, mode=cfg.sandbox_mode) as executor:
        reward = ExecReward(train, executor)
        logs = _LogBuffer()
        trainer = build_trainer(cfg, model, tokenizer, train, reward, logs)
        policy = trainer.model

        def evaluate_and_save(iteration: int) -> dict[str, float]:
            metrics, rows = evaluate(policy, tokenizer, suites, p, cfg.model, executor,
                                     condition=cfg.condition, seed=cfg.seed, iteration=iteration)  # fmt: skip
            write_outcomes(cfg.trial_dir, iteration, rows)
            return metrics

        start = _restore(reporter.restored_checkpoint(), policy)
        if start == 1 and p.eval_at_start:
            reporter.report({"iteration": 0, **evaluate_and_save(0)}, None)  # iteration 0 = the base model
        for iteration in range(start, p.iterations + 1):
            set_seed(cfg.seed * 1000 + iteration)
            trainer.train()  # GRPO phase: rollouts, exec rewards, updates
            rollouts = reward.drain()
            metrics = {"iteration": iteration, **logs.drain_means(), **_rollout_metrics(rollouts)}
            if p.aux_loss_scale > 0:  # auxiliary phase on this iteration's rollouts
                from trainables.spark import aux_phase

                metrics.update(aux_phase(trainer, rollouts, train, p, tokenizer, model_spec=cfg.model))
            metrics.update(evaluate_and_save(iteration))
            reporter.report(metrics, _checkpoint(cfg, policy, iteration))


def build_trainer(
    cfg: TrialConfig, model: Any, tokenizer: Any, train: tuple[Problem, ...], reward: ExecReward, logs: Any
) -> Any:
    """One GRPOTrainer for the whole trial (GSPO when importance_sampling_level is 'sequence')."""
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
        max_grad_norm=p.max_grad_norm,
        loss_type=p.loss_type,
        importance_sampling_level=p.importance_sampling_level,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=not cuda,
        bf16=cuda and use_nf4(cfg.model),
        activation_checkpointing=cuda,
        dataloader_num_workers=0,
    )
    trainer_cls = GRPOTrainer
    if cfg.params.aux_loss_scale > 0:
        from trainables.spark import AuxGRPOTrainer

        trainer_cls = AuxGRPOTrainer
    rollout_func = None
    if p.adaptive_k:  # draw up to max_generations for groups without reward variance (biased; see adaptive_k)
        from trainables.adaptive_k import AdaptiveK

        rollout_func = AdaptiveK(reward, dataset["prompt"], p.max_generations, seed=cfg.seed)
    trainer = trainer_cls(
        model=model,
        args=args,
        reward_funcs=[reward],
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(cfg.lora),
        callbacks=[logs],
        rollout_func=rollout_func,
    )
    trainer.remove_callback(PrinterCallback)  # our reporter shows per-iteration results instead
    return trainer


class _LogBuffer(TrainerCallback):
    """Keeps TRL's per-step logs until the iteration ends."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kw: Any) -> None:
        if logs and "loss" in logs:
            self.rows.append(dict(logs))

    def drain_means(self) -> dict[str, float]:
        out = {}
        for src, dst in _TRL_KEYS.items():
            values = [r[src] for r in self.rows if src in r]
            if values:
                out[dst] = float(np.mean(values))
        self.rows = []
        return out


def _rollout_metrics(rollouts: list[Rollout]) -> dict[str, float]:
    if not rollouts:
        return {}
    return {"train/pass_rate": float(np.mean([r.passed_all for r in rollouts]))}


def _checkpoint(cfg: TrialConfig, policy: Any, iteration: int) -> Path:
    """Adapter + trial state in a fresh directory that the reporter hands to Ray Tune."""
    path = cfg.trial_dir / "checkpoints" / f"iter_{iteration:03d}"
    if path.exists():
        shutil.rmtree(path)
    policy.save_pretrained(str(path))
    (path / STATE_FILE).write_text(json.dumps({"iteration": iteration, "trial_key": cfg.key}))
    return path


def _restore(checkpoint: Path | None, policy: Any) -> int:
    """Load the adapter of a restored checkpoint; returns the first iteration still to run."""
    if checkpoint is None or not (checkpoint / STATE_FILE).is_file():
        return 1
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(policy, load_file(str(checkpoint / "adapter_model.safetensors")))
    return int(json.loads((checkpoint / STATE_FILE).read_text())["iteration"]) + 1
