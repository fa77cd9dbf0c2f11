"""Rollouts: the one sampler, and the one path from completions to judged rollouts.

`judge` turns completions of problems into `Rollout`s (and the executor's verdicts) through the
sandbox; training rewards and adaptive K call it on what TRL sampled, `sample_and_judge` samples
first (evaluation, SPARK's repair metric). Nothing here knows a trainer kind or a reward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from executors import ExecResult, SandboxExecutor
from trainables.common.problems import Problem
from trainables.common.prompting import feedback, job


@dataclass(frozen=True)
class Rollout:
    """One completion of a problem and its verdict (`step`: the optimizer step it was sampled at)."""

    problem_id: str
    prompt: str
    completion: str
    passed_all: bool
    category: str
    feedback: str
    step: int = 0
    tests_passed: int = 0  # test cases (asserts, check() asserts or stdin/stdout cases) this completion passed
    tests_total: int = 0


class RolloutLog:
    """The rollouts of one phase, kept by the trial (not by a reward function) until it drains them."""

    def __init__(self) -> None:
        self._rows: list[Rollout] = []

    def extend(self, rollouts: Sequence[Rollout]) -> None:
        self._rows.extend(rollouts)

    def drain(self) -> list[Rollout]:
        out, self._rows = self._rows, []
        return out


def judge(
    executor: SandboxExecutor,
    problems: Sequence[Problem],
    completions: Sequence[str],
    prompts: Sequence[str] | None = None,
    step: int = 0,
    tag: str = "j",
) -> tuple[list[Rollout], list[ExecResult]]:
    """Run completion i against problems[i] in the sandbox: (rollouts, verdicts), aligned with the input."""
    jobs = [job(p, c, f"{tag}{i}") for i, (p, c) in enumerate(zip(problems, completions, strict=True))]
    results = executor.run(jobs)
    shown = prompts if prompts is not None else [p.text for p in problems]
    rollouts = [
        Rollout(
            problem_id=p.problem_id,
            prompt=pr if isinstance(pr, str) else str(pr),
            completion=c,
            passed_all=r.category == "pass",
            category=r.category,
            feedback=feedback(r) if r.category != "pass" else "",
            step=step,
            tests_passed=r.passed,
            tests_total=r.total,
        )
        for p, pr, c, r in zip(problems, shown, completions, results, strict=True)
    ]
    return rollouts, results


@dataclass(frozen=True)
class Samples:
    """completions[i][j]: sample j of prompt i; lengths in generated tokens (up to EOS)."""

    completions: list[list[str]]
    lengths: list[list[int]]


@torch.no_grad()
def sample(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    n: int,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    seed: int,
    batch_prompts: int = 16,
) -> Samples:
    """Sample n completions per prompt at (temperature, top_p); deterministic given `seed` on CPU."""
    torch.manual_seed(seed)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    completions: list[list[str]] = []
    lengths: list[list[int]] = []
    for start in range(0, len(prompts), batch_prompts):
        chunk = prompts[start : start + batch_prompts]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        out = model.generate(
            **enc,
            do_sample=True,
            temperature=temperature,
            top_p=top_p,
            max_new_tokens=max_new_tokens,
            num_return_sequences=n,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        new = out[:, enc["input_ids"].shape[1] :]
        texts = tokenizer.batch_decode(new, skip_special_tokens=True)
        stop = (new == tokenizer.eos_token_id) | (new == tokenizer.pad_token_id)
        has_stop = stop.any(dim=1)
        lens = torch.where(
            has_stop, stop.int().argmax(dim=1), torch.full_like(has_stop, new.shape[1], dtype=torch.long)
        )
        for i in range(len(chunk)):
            completions.append(texts[i * n : (i + 1) * n])
            lengths.append([int(x) for x in lens[i * n : (i + 1) * n]])
    if was_training:
        model.train()
    return Samples(completions, lengths)


def sample_and_judge(
    model: Any,
    tokenizer: Any,
    executor: SandboxExecutor,
    problems: Sequence[Problem],
    prompts: list[str],
    n: int,
    *,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    seed: int,
) -> tuple[list[list[Rollout]], Samples]:
    """n samples per problem, judged: rollouts[i][j] is sample j of problems[i]."""
    out = sample(model, tokenizer, prompts, n, temperature, top_p, max_new_tokens, seed)
    flat_problems = [p for p in problems for _ in range(n)]
    flat_prompts = [pr for pr in prompts for _ in range(n)]
    flat = [c for comps in out.completions for c in comps]
    rollouts, _ = judge(executor, flat_problems, flat, flat_prompts, tag="s")
    return [rollouts[i * n : (i + 1) * n] for i in range(len(problems))], out
