"""The dpo kind's trial: one TRL DPO run on the first `pairs` pairs of an execution-verified pool,
evaluated at evenly spaced steps.

Reads like the experiment: get the pool (built once per machine from the policy's own samples on the
training tasks, judged in the sandbox; trainables/kinds/dpo_pool.py), take its first `pairs` (nested
across conditions), evaluate the base model (iteration 0, shared by the seed's conditions), then one
`train()` call with LoRA on the policy and the base model (adapters disabled) as the reference, its
log-probs precomputed. At each evaluation point: loss, reward margin and accuracy, chosen and rejected
log-probs since the previous point, the pairs TRL kept after its length filter, and a divergence alarm.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trainables.common.config import TrialConfig
    from trainables.common.reporting import Reporter

LOGGED = {
    "loss": "train/loss",
    "rewards/margins": "train/reward_margin",
    "rewards/accuracies": "train/reward_accuracy",
    "logps/chosen": "train/logp_chosen",
    "logps/rejected": "train/logp_rejected",
}
"""TRL DPO's logged values -> our metrics (means since the previous evaluation point)."""


def run(cfg: TrialConfig, reporter: Reporter, progress: Any = print) -> None:
    """Run one trial to completion (or on from its restored checkpoint), reporting every evaluation point."""
    import json

    import torch
    from datasets import Dataset
    from transformers import set_seed
    from trl import DPOConfig, DPOTrainer

    from executors import SandboxExecutor
    from trainables.common import base_eval
    from trainables.common.eval_points import TRL_DIR, EvalPoints, eval_steps, train_with_points
    from trainables.common.evaluation import evaluate
    from trainables.common.models import load_model, lora_config, resolve_source, use_nf4
    from trainables.common.problems import load_suite

    torch.set_num_threads(cfg.torch_threads)
    p = cfg.params
    set_seed(cfg.seed)
    model, tokenizer = load_model(cfg.model, resolve_source(cfg.model, cfg.cache_dir, progress))
    suites = {s.name: load_suite(s, cfg.data, cfg.mbpp_dir) for s in cfg.data.suites}
    with SandboxExecutor(workers=cfg.executor_workers, mode=cfg.sandbox_mode) as executor:
        rows, info, path, prompts = pair_pool(cfg, model, tokenizer, executor, progress)
        if len(rows) < p.pairs:
            raise ValueError(
                f"dpo: the pool has {len(rows)} pairs ({info['tasks_with_pairs']} tasks), {p.pairs} were asked; "
                "lower pairs, or raise pool_tasks, pool_samples or pool_max_pairs"
            )
        chosen = rows[: p.pairs]
        # the prompt as the trained model sees it (an off-policy pool was sampled with another's format)
        dataset = Dataset.from_list(
            [{"prompt": prompts[r.task_id], "chosen": r.chosen, "rejected": r.rejected} for r in chosen]
        )
        cuda = torch.cuda.is_available()
        args = DPOConfig(
            output_dir=str(cfg.trial_dir / TRL_DIR),
            seed=cfg.seed,
            data_seed=cfg.seed,
            max_steps=1,  # set below, once TRL's length filter has said how many pairs remain
            per_device_train_batch_size=p.batch_size,
            gradient_accumulation_steps=p.grad_accum,
            learning_rate=p.lr,
            lr_scheduler_type=p.lr_scheduler,
            max_grad_norm=p.max_grad_norm,
            beta=p.beta,
            loss_type=["sigmoid", "sft"] if p.loss == "rpo" else ["sigmoid"],
            loss_weights=[1.0, p.rpo_alpha] if p.loss == "rpo" else None,
            precompute_ref_log_probs=True,
            max_length=p.max_length,
            logging_steps=1,
            save_strategy="no",  # the callback asks for a save at each evaluation point
            report_to="none",
            disable_tqdm=True,
            use_cpu=not cuda,
            bf16=cuda and use_nf4(cfg.model),  # DPOConfig(use_cpu=True) would turn bf16 on by itself
            gradient_checkpointing=False,
            activation_checkpointing=cuda,  # ... and activation checkpointing
            dataloader_num_workers=0,
        )
        facts = {"train/pairs": float(p.pairs), "train/pool_pairs": float(info["pairs"]),
                 "train/pool_tasks_with_pairs": float(info["tasks_with_pairs"])}  # fmt: skip

        def run_eval(iteration: int) -> base_eval.Evaluation:
            return evaluate(trainer.model, tokenizer, suites, p, cfg.model, executor, condition=cfg.condition,
                            seed=cfg.seed, iteration=iteration)  # fmt: skip

        callback = EvalPoints(cfg, reporter, [], run_eval, facts, LOGGED, alarm=lambda m: divergence(m, p.alarm_loss))
        trainer = DPOTrainer(
            model=model,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=lora_config(cfg.lora),
            callbacks=[callback],
        )
        kept = len(trainer.train_dataset)  # TRL drops pairs whose prompt alone reaches max_length
        if kept == 0:
            raise ValueError(f"dpo: every pair's prompt reaches max_length={p.max_length} tokens; raise max_length")
        per_step = p.batch_size * p.grad_accum
        total = p.steps if p.budget == "steps" else max(1, math.ceil(math.ceil(kept / per_step) * p.epochs))
        if total < p.eval_points:
            raise ValueError(
                f"dpo: the run has {total} optimizer steps, fewer than eval_points={p.eval_points}; "
                "lower eval_points or raise pairs, epochs or steps"
            )
        trainer.args.max_steps = total
        callback.points = eval_steps(total, p.eval_points)
        facts["train/pairs_trained"] = float(kept)
        record = {
            "pool": str(path),
            "pool_policy": p.pool_policy,
            **info,
            "pairs_asked": p.pairs,
            "pairs_kept_by_trl": kept,
        }
        (cfg.trial_dir / "pairs.json").write_text(json.dumps(record, indent=1))
        train_with_points(trainer, callback, p.eval_at_start)


def divergence(metrics: dict[str, float], alarm_loss: float) -> dict[str, float]:
    """train/alarm_divergence = 1 when a point's mean loss is not finite (NaN included) or above `alarm_loss`
    (seed 002's 3B run ended at loss 18.2 with pass@1 down 13.5 pp). The threshold is for sigmoid DPO
    (which starts at ln 2); with loss: rpo the logged loss includes rpo_alpha x NLL: raise alarm_loss."""
    if "train/loss" not in metrics:
        return {}
    loss = metrics["train/loss"]
    return {"train/alarm_divergence": float(not (math.isfinite(loss) and loss <= alarm_loss))}


def pair_pool(
    cfg: TrialConfig, model: Any, tokenizer: Any, executor: Any, progress: Any
) -> tuple[list, dict, Any, dict[str, str]]:
    """The trial's pool (cached per machine under the hash of what produces it): rows, stats, path, and
    each task's prompt rendered for the trained model."""
    from trainables.common.models import load_model, resolve_source
    from trainables.common.problems import load_train
    from trainables.common.prompting import render_prompt
    from trainables.common.rollouts import sample_and_judge
    from trainables.kinds.dpo_pool import build, cached, pool_key, stats

    p = cfg.params
    data = cfg.data.model_copy(update={"n_train": p.pool_tasks or cfg.data.n_train})
    problems = load_train(data, cfg.mbpp_dir)
    spec, source = cfg.model, resolve_source(cfg.model, cfg.cache_dir, progress)
    if p.pool_policy != "base":  # off-policy: another profile's model writes the candidates
        from study.profile import load_profile

        spec = load_profile(p.pool_policy).model
        source = resolve_source(spec, cfg.cache_dir, progress)
    body = {
        "policy": spec.model_dump(mode="json"), "source": _fingerprint(source), "data": data.model_dump(mode="json"),
        "tasks": [t.problem_id for t in problems], "k": p.pool_samples, "temperature": p.pool_temperature,
        "max_new_tokens": p.pool_max_new_tokens, "m": p.pool_max_pairs, "rule": p.pool_rule, "seed": p.pool_seed,
        "sandbox": cfg.sandbox_mode,
    }  # fmt: skip

    def make() -> tuple[list, dict]:
        sampler, tok = (model, tokenizer) if p.pool_policy == "base" else load_model(spec, source)
        progress(f"dpo pool: sampling {p.pool_samples} candidates for each of {len(problems)} tasks")
        groups, _ = sample_and_judge(
            sampler, tok, executor, problems, [render_prompt(t, spec, tok) for t in problems], p.pool_samples,
            temperature=p.pool_temperature, top_p=1.0, max_new_tokens=p.pool_max_new_tokens, seed=p.pool_seed,
        )  # fmt: skip
        rows = build(problems, groups, p.pool_max_pairs, p.pool_rule, p.pool_seed)
        return rows, stats(rows, len(problems))

    prompts = {t.problem_id: render_prompt(t, cfg.model, tokenizer) for t in problems}
    if p.pool_path is not None:  # a pool of your own, re-verified; its prompts rendered from its tasks' text
        import hashlib
        from pathlib import Path

        from trainables.kinds.dpo_pool import read_verified

        source_file = Path(p.pool_path)
        file_key = pool_key({"file": hashlib.sha256(source_file.read_bytes()).hexdigest(), "sandbox": cfg.sandbox_mode}
                            ) if source_file.is_file() else "missing"  # fmt: skip
        # verified once per file (cached like a built pool): every condition and a resume read the same pairs
        rows, info, path = cached(cfg.cache_dir / "dpo_pools", f"file-{file_key}",
                                  lambda: read_verified(source_file, executor))  # fmt: skip
        # a task outside the profile's train pool keeps the file's own prompt (counted: its format may differ)
        info = {**info, "rows_outside_train_pool": sum(r.task_id not in prompts for r in rows)}
        return rows, info, path, {r.task_id: prompts.get(r.task_id, r.prompt) for r in rows}
    return (*cached(cfg.cache_dir / "dpo_pools", pool_key(body), make), prompts)


def _fingerprint(source: str) -> str:
    """A hub id as it is; a local model folder by its path, config hash and its files' names, sizes and
    modification times (cheap; a retrained model in the same folder is a new fingerprint)."""
    import hashlib
    from pathlib import Path

    folder = Path(source)
    if not folder.is_dir():
        return source
    parts = [f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in sorted(folder.iterdir()) if f.is_file()]
    config = folder / "config.json"
    digest = hashlib.sha256(config.read_bytes()).hexdigest()[:16] if config.is_file() else ""
    return ";".join([str(folder.resolve()), digest, *parts])
