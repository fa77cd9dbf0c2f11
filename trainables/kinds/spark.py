"""SPARK-Code auxiliary objective (seed 000): recycle each iteration's GRPO rollouts into supervised
pointwise / pairwise / reflection examples, and learn from them before the iteration is evaluated.

Order, as in the seed: GRPO phase of iteration i -> mine its rollouts -> aux phase -> evaluate. The aux
phase trains the same PeftModel the one GRPOTrainer holds (adapter 'default'), so the KL reference
stays the base model with the adapter disabled; no second trainer is ever built. It keeps no state
between iterations (seeds derive from the trial seed and the iteration), so a resumed trial mines
and trains exactly as an uninterrupted one. Also here: the drift alarms and the reflection fix rate
(an evaluation extra), which the grpo kind reports for every condition, exec-only included.

Where the scale enters, and why it means what it says. The aux phase minimises the weighted NLL
`L = sum_t w_t * NLL_t / n` (per-example mean token NLL, w_t the type weight) with a fresh AdamW whose
step size is `lr * aux_loss_scale`. A constant factor on an AdamW loss cancels in m / sqrt(v) (the seed's
naive recipe: scale 0.03 and 1.0 move the weights alike), but a factor on the step size does not:
each aux step moves the adapter `aux_loss_scale` times as far as a GRPO step at the same lr moves
it, which is what the scale does to `L_GRPO + scale * L` under plain SGD. It is exact from the first
step, independent of how large the GRPO gradients happen to be (often zero on all-fail groups, which
would let a mixed loss hand AdamW the aux gradient alone and undo the scale again), and scale 0
makes no change. We chose this over mixing the aux loss into the next GRPO phase because that would
train iteration i's examples only after iteration i is evaluated, and the last pool not at all.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from trainables.common.evaluation import EvalExtra
from trainables.common.problems import Problem
from trainables.common.prompting import render_prompt
from trainables.common.rollouts import Rollout, judge, sample
from trainables.common.specs import ModelSpec
from trainables.kinds.grpo_config import GRPOParams
from trainables.kinds.spark_mining import AuxPool, build_pool
from trainables.kinds.spark_prompts import RENDER, Encoded, encode, repair_prompt

KINDS = ("pointwise", "pairwise", "reflection")


@dataclass(frozen=True)
class SparkSettings:
    """Aux-phase mechanics and drift-alarm thresholds (not experiment parameters: see GRPOParams)."""

    batch_size: int = 8  # aux examples per optimizer step
    micro_batch: int = 4  # examples per forward pass (memory)
    kl_growth: float = 10.0  # alarm: iteration KL > kl_growth x the first iteration's KL ...
    kl_floor: float = 1e-4  # ... and above this floor (the first iteration's KL may be ~0)
    length_collapse: float = 0.6  # alarm: mean completion length < this x the first iteration's


def aux_phase(
    trainer: Any,
    rollouts: list[Rollout],
    problems: Sequence[Problem],
    params: GRPOParams,
    tokenizer: Any,
    iteration: int,
    model_spec: ModelSpec | None = None,
    settings: SparkSettings = SparkSettings(),
) -> dict[str, float]:
    """Mine iteration `iteration`'s rollouts, train on the pool (scale = step-size multiplier), return
    `train/aux_*` metrics (`train/aux_nll` only when some example was trained).
    `model_spec` None: inferred from the rollout prompts (chat or raw)."""
    start = time.perf_counter()
    metrics: dict[str, float] = {}
    spec = model_spec or infer_spec(rollouts, problems, tokenizer)
    model = trainer.model
    max_len = min(params.aux_max_len, getattr(model.config, "max_position_embeddings", params.aux_max_len))
    rng = random.Random(trainer.args.seed * 1000 + iteration)
    by_id = {p.problem_id: p for p in problems}
    fits = _fits(by_id, spec, tokenizer, max_len)
    pool, dropped = build_pool(rollouts, problems, params, rng, fits=fits)
    examples = encode_pool(pool, by_id, spec, tokenizer, params, max_len)
    dropped += sum(pool.sizes().values()) - len(examples)
    nll = aux_update(
        model,
        [e for e in examples if e.weight > 0],
        lr=trainer.args.learning_rate * params.aux_loss_scale,
        epochs=params.aux_epochs,
        seed=trainer.args.seed * 1000 + iteration,
        settings=settings,
        max_grad_norm=params.max_grad_norm,
        optim_kwargs=_adam_kwargs(trainer.args),
        autocast=trainer.accelerator.autocast if hasattr(trainer, "accelerator") else contextlib.nullcontext,
    )
    sizes = {k: sum(e.kind == k for e in examples) for k in KINDS}
    metrics.update({f"train/aux_pool_{k}": float(n) for k, n in sizes.items()})
    metrics["train/aux_pool_total"] = float(sum(sizes.values()))
    metrics["train/aux_dropped"] = float(dropped)
    if not math.isnan(nll):  # nothing to train (e.g. only weight-0 types mined): no NLL to report
        metrics["train/aux_nll"] = nll
    metrics["train/aux_time_s"] = time.perf_counter() - start
    return metrics


def _fits(by_id: dict[str, Problem], spec: ModelSpec, tokenizer: Any, max_len: int) -> Callable[[str, Any], bool]:
    def fits(kind: str, item: Any) -> bool:
        prompt, target = RENDER[kind](by_id[item.problem_id], item, spec, tokenizer)
        p, t = encode(prompt, target, tokenizer)
        return len(p) + len(t) <= max_len

    return fits


def encode_pool(
    pool: AuxPool,
    by_id: dict[str, Problem],
    spec: ModelSpec,
    tokenizer: Any,
    params: GRPOParams,
    max_len: int,
) -> list[Encoded]:
    """Token ids and type weight of every pool example within `max_len` tokens (longer ones are dropped)."""
    weights = {
        "pointwise": params.aux_weight_pointwise,
        "pairwise": params.aux_weight_pairwise,
        "reflection": params.aux_weight_reflection,
    }
    out = []
    for kind in KINDS:
        for item in getattr(pool, kind):
            p, t = encode(*RENDER[kind](by_id[item.problem_id], item, spec, tokenizer), tokenizer)
            if len(p) + len(t) <= max_len:
                out.append(Encoded(kind, tuple(p + t), len(p), weights[kind]))
    return out


def aux_update(
    model: Any,
    examples: Sequence[Encoded],
    *,
    lr: float,
    epochs: int,
    seed: int,
    settings: SparkSettings = SparkSettings(),
    max_grad_norm: float = 1.0,
    optim_kwargs: dict[str, Any] | None = None,
    autocast: Callable[[], Any] = contextlib.nullcontext,
) -> float:
    """`epochs` passes of AdamW(lr) steps on mean_batch(w * NLL) over the trainable (LoRA) parameters.

    Returns the mean weighted NLL over the examples visited (nan when there are none). lr 0 trains
    nothing (the NLL is still measured, without gradients).
    """
    if not examples:
        return float("nan")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, **(optim_kwargs or {})) if lr > 0 else None
    gen = torch.Generator().manual_seed(seed)  # example order
    torch.manual_seed(seed)  # LoRA dropout
    was_training = model.training
    model.train(opt is not None)
    total, count = 0.0, 0
    for _ in range(epochs if opt is not None else 1):
        order = torch.randperm(len(examples), generator=gen).tolist()
        for b in range(0, len(order), settings.batch_size):
            batch = [examples[i] for i in order[b : b + settings.batch_size]]
            for m in range(0, len(batch), settings.micro_batch):
                micro = batch[m : m + settings.micro_batch]
                with torch.set_grad_enabled(opt is not None), autocast():
                    nll = example_nll(model, micro)
                weighted = nll * torch.tensor([e.weight for e in micro], device=nll.device)
                if opt is not None:
                    (weighted.sum() / len(batch)).backward()
                total += float(weighted.detach().sum())
                count += len(micro)
            if opt is not None:
                torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
                opt.step()
                opt.zero_grad(set_to_none=True)
    model.train(was_training)
    return total / count


def example_nll(model: Any, examples: Sequence[Encoded]) -> torch.Tensor:
    """(n_examples,) mean token NLL of each target (right-padded batch, loss only on target tokens)."""
    device = next(model.parameters()).device
    width = max(len(e.ids) for e in examples)
    ids = torch.zeros(len(examples), width, dtype=torch.long)
    mask = torch.zeros(len(examples), width, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    for i, e in enumerate(examples):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        mask[i, : len(e.ids)] = 1
        labels[i, e.n_prompt : len(e.ids)] = torch.tensor(e.ids[e.n_prompt :])
    ids, mask, labels = ids.to(device), mask.to(device), labels.to(device)
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    target = labels[:, 1:]
    tok = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, ignore_index=-100, reduction="none")
    n_tok = (target != -100).sum(dim=1).clamp(min=1)
    return tok.sum(dim=1) / n_tok


def _adam_kwargs(args: Any) -> dict[str, Any]:
    return {
        "betas": (args.adam_beta1, args.adam_beta2),
        "eps": args.adam_epsilon,
        "weight_decay": args.weight_decay,
    }


def drift_alarms(
    kl: float, length: float, baseline: tuple[float, float] | None, settings: SparkSettings = SparkSettings()
) -> tuple[dict[str, float], tuple[float, float]]:
    """`train/alarm_kl_growth` and `train/alarm_length_collapse` (0/1) of a GRPO phase with mean `kl` and
    mean completion `length`, against the first phase's (`baseline`; None: this is the first phase,
    which sets it and raises no alarm). Returns (alarms, the baseline to keep)."""
    if baseline is None:
        return {"train/alarm_kl_growth": 0.0, "train/alarm_length_collapse": 0.0}, (kl, length)
    kl0, len0 = baseline
    kl_limit = max(settings.kl_growth * (0.0 if math.isnan(kl0) else kl0), settings.kl_floor)
    kl_alarm = not math.isnan(kl) and kl > kl_limit
    len_alarm = not math.isnan(length) and not math.isnan(len0) and length < settings.length_collapse * len0
    return {"train/alarm_kl_growth": float(kl_alarm), "train/alarm_length_collapse": float(len_alarm)}, baseline


def infer_spec(rollouts: Sequence[Rollout], problems: Sequence[Problem], tokenizer: Any) -> ModelSpec:
    """The prompt rendering the rollouts were sampled with: chat iff a non-tiny prompt is not the raw
    user message (the system prompt is then taken to be the default; pass model_spec to be exact)."""
    by_id = {p.problem_id: p for p in problems}
    raw = ModelSpec(source="inferred", chat=False)
    for r in rollouts:
        problem = by_id.get(r.problem_id)
        if problem is not None and problem.style != "tiny":
            chat = r.prompt != render_prompt(problem, raw, tokenizer)
            return ModelSpec(source="inferred", chat=chat)
    return raw


def reflection_fix_rate(
    model: Any,
    tokenizer: Any,
    failed: list[tuple[Problem, str, str]],
    params: GRPOParams,
    model_spec: ModelSpec,
    executor: Any,
    seed: int,
) -> float:
    """Share of failed first-pass samples `(problem, completion, feedback)` that one repair sample (the
    training repair prompt, evaluation sampling settings) fixes, re-executed in the sandbox; nan if none."""
    if not failed:
        return float("nan")
    prompts = [repair_prompt(p, c, f, model_spec, tokenizer) for p, c, f in failed]
    out = sample(
        model,
        tokenizer,
        prompts,
        n=1,
        temperature=params.eval_temperature,
        top_p=params.eval_top_p,
        max_new_tokens=params.eval_max_new_tokens,
        seed=seed,
    )
    rollouts, _ = judge(executor, [p for p, _, _ in failed], [c[0] for c in out.completions], prompts, tag="fix")
    return float(np.mean([r.passed_all for r in rollouts]))


def fix_rate_extra(params: GRPOParams, model_spec: ModelSpec, executor: Any) -> EvalExtra:
    """The evaluation extra `fix_rate`: repair each problem's first failed sample (sandbox errors are not
    failures); absent when no sample failed."""

    def extra(
        model: Any, tokenizer: Any, problems: Sequence[Problem], rollouts: list[list[Rollout]], seed: int
    ) -> dict[str, float]:
        failed = []
        for p, samples in zip(problems, rollouts, strict=True):
            first = next((r for r in samples if r.category not in ("pass", "sandbox_error")), None)
            if first is not None:
                failed.append((p, first.completion, first.feedback))
        if not failed:
            return {}
        return {"fix_rate": reflection_fix_rate(model, tokenizer, failed, params, model_spec, executor, seed)}

    return extra
