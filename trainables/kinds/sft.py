"""The sft kind's trial: one TRL SFT run on verified examples, evaluated at evenly spaced steps.

Reads like the experiment: build the data (n_problems x solutions_per_problem, every solution passing
its tests in the sandbox), evaluate the base model (iteration 0, shared by the seed's conditions), then
one `train()` call, so the learning-rate schedule is that of one run. At each of `eval_points` evenly
spaced steps a callback has TRL save a checkpoint (adapter, optimizer, scheduler, RNG, step), then
evaluates, saves our checkpoint beside it and reports the point as an iteration. A resumed trial
hands TRL its last checkpoint (`resume_from_checkpoint`), which restores all of that and skips the
batches already seen.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from trainables.common.eval_points import TRL_DIR, eval_steps

if TYPE_CHECKING:
    from trainables.common.config import TrialConfig
    from trainables.common.reporting import Reporter

__all__ = ["TRL_DIR", "eval_steps", "run"]


def run(cfg: TrialConfig, reporter: Reporter, progress: Any = print) -> None:
    """Run one trial to completion (or on from its restored checkpoint), reporting every evaluation point."""
    import json

    import torch
    from datasets import Dataset
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    from executors import SandboxExecutor
    from trainables.common import base_eval
    from trainables.common.eval_points import EvalPoints, train_with_points
    from trainables.common.evaluation import evaluate
    from trainables.common.models import load_model, lora_config, resolve_source, use_nf4
    from trainables.common.problems import load_suite, load_train
    from trainables.common.prompting import render_prompt, target
    from trainables.kinds.sft_data import build

    torch.set_num_threads(cfg.torch_threads)
    p = cfg.params
    set_seed(cfg.seed)
    model, tokenizer = load_model(cfg.model, resolve_source(cfg.model, cfg.cache_dir, progress))
    # The pool's front: a little more than n_problems, so a problem without enough verified solutions
    # can be passed over (the same pool for every condition: a data seed, not a training seed).
    # With whole_pool: exactly the profile's train pool (the RL conditions' problems), each verified one.
    n_problems = cfg.data.n_train if p.whole_pool else p.n_problems
    extra = 0 if p.whole_pool else math.ceil(1.25 * n_problems) + 8
    pool = load_train(cfg.data.model_copy(update={"n_train": max(cfg.data.n_train, extra)}), cfg.mbpp_dir)
    suites = {s.name: load_suite(s, cfg.data, cfg.mbpp_dir) for s in cfg.data.suites}
    with SandboxExecutor(workers=cfg.executor_workers, mode=cfg.sandbox_mode) as executor:
        prompts = [render_prompt(t, cfg.model, tokenizer) for t in pool]
        data = build(
            pool,
            prompts,
            n_problems,
            p.solutions_per_problem,
            p.duplicate_solutions,
            executor,
            lambda problem, solution: target(problem, solution, cfg.model),
            require_all=not p.whole_pool,
        )
        problems = sorted({e.problem_id for e in data.examples})
        record = {"sha256": data.sha256, **data.facts(), "problems": problems}
        (cfg.trial_dir / "sft_data.json").write_text(json.dumps(record, indent=1))
        data_facts = data.facts()
        dataset = Dataset.from_list([{"prompt": e.prompt, "completion": e.completion} for e in data.examples])
        per_step = p.batch_size * p.grad_accum
        total = max(1, math.ceil(math.ceil(len(data.examples) / per_step) * p.epochs))
        if total < p.eval_points:  # fewer steps than points: the final iteration would never be reported
            raise ValueError(
                f"sft: the run has {total} optimizer steps, fewer than eval_points={p.eval_points}; "
                "lower eval_points or raise epochs / examples"
            )
        points = eval_steps(total, p.eval_points)
        cuda = torch.cuda.is_available()
        args = SFTConfig(
            output_dir=str(cfg.trial_dir / TRL_DIR),
            seed=cfg.seed,
            data_seed=cfg.seed,
            max_steps=total,
            per_device_train_batch_size=p.batch_size,
            gradient_accumulation_steps=p.grad_accum,
            learning_rate=p.lr,
            lr_scheduler_type=p.lr_scheduler,
            warmup_steps=p.warmup_ratio,  # a float in [0, 1) is a share of the steps (transformers 5)
            max_grad_norm=p.max_grad_norm,
            max_length=p.max_length,
            completion_only_loss=True,
            packing=False,
            logging_steps=1,
            save_strategy="no",  # the callback asks for a save at each evaluation point
            save_total_limit=2,
            report_to="none",
            disable_tqdm=True,
            use_cpu=not cuda,
            bf16=cuda and use_nf4(cfg.model),  # SFTConfig(use_cpu=True) would turn bf16 on by itself
            activation_checkpointing=cuda,  # ... and activation checkpointing
            dataloader_num_workers=0,
        )

        def run_eval(iteration: int) -> base_eval.Evaluation:
            return evaluate(trainer.model, tokenizer, suites, p, cfg.model, executor, condition=cfg.condition,
                            seed=cfg.seed, iteration=iteration)  # fmt: skip

        callback = EvalPoints(cfg, reporter, points, run_eval, data_facts, logged={"loss": "train/loss"})
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=lora_config(cfg.lora),
            callbacks=[callback],
        )
        train_with_points(trainer, callback, p.eval_at_start)
