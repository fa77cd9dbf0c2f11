"""Held-out evaluation for every kind: sample, judge in the sandbox, keep every per-problem outcome.

Per-problem outcomes are the raw data; pass@k and every later statistic derive from them. A kind may
plug extra metrics in (`EvalExtra`, e.g. the grpo kind's SPARK repair rate); evaluation knows none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from analysis.estimators import pass_at_k
from executors import SandboxExecutor
from trainables.common.diagnostics import broken_evaluation, lint_codes, profile, well_formed
from trainables.common.metrics import eval_key, pass_at
from trainables.common.params import EvalParams
from trainables.common.problems import Problem
from trainables.common.prompting import program, render_prompt
from trainables.common.rollouts import Rollout, sample_and_judge
from trainables.common.specs import ModelSpec

EvalExtra = Callable[[Any, Any, Sequence[Problem], list[list[Rollout]], int], dict[str, float]]
"""`extra(model, tokenizer, problems, rollouts, seed) -> {name: value}`: more metrics of one suite from
its judged samples (`rollouts[i][j]`: sample j of problems[i]); logged as eval/<suite>/<name>."""


def evaluate(
    model: Any,
    tokenizer: Any,
    suites: dict[str, tuple[Problem, ...]],
    params: EvalParams,
    model_spec: ModelSpec,
    executor: SandboxExecutor,
    *,
    condition: str,
    seed: int,
    iteration: int,
    extras: Sequence[EvalExtra] = (),
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Metrics `eval/<suite>/pass_at_{1,n}`, the diagnostics' profile (`completion_length`, `ruff/<category>`,
    `error/<kind>`), the format alarm (`format_failure_share`: samples not well formed, `alarm_broken_eval`)
    and the extras'; tidy outcome rows (one per sample: condition, seed, iteration, suite,
    problem_id, sample, passed, category, tests_passed, tests_total: how many of the problem's test cases
    the sample passed, for partial successes; completion_tokens; lint: its Ruff codes; well_formed;
    cluster: the problem's, where its suite declares them)."""
    metrics: dict[str, float] = {}
    rows: list[dict[str, Any]] = []
    n = params.eval_samples
    for s_idx, (suite, problems) in enumerate(sorted(suites.items())):
        suite_seed = seed * 100_003 + iteration * 101 + s_idx
        rollouts, out = sample_and_judge(
            model,
            tokenizer,
            executor,
            problems,
            [render_prompt(p, model_spec, tokenizer) for p in problems],
            n,
            temperature=params.eval_temperature,
            top_p=params.eval_top_p,
            max_new_tokens=params.eval_max_new_tokens,
            seed=suite_seed,
        )
        programs = [program(p, r.completion) for p, samples in zip(problems, rollouts, strict=True) for r in samples]
        codes = iter(lint_codes(programs))
        flat = [(p, r) for p, samples in zip(problems, rollouts, strict=True) for r in samples]
        formed = iter([r.passed_all or well_formed(p, prog) for (p, r), prog in zip(flat, programs, strict=True)])
        for p, samples, lengths in zip(problems, rollouts, out.lengths, strict=True):
            rows += [
                {"condition": condition, "seed": seed, "iteration": iteration, "suite": suite,
                 "problem_id": p.problem_id, "sample": j, "passed": r.passed_all, "category": r.category,
                 "tests_passed": r.tests_passed, "tests_total": r.tests_total, "completion_tokens": length,
                 "lint": next(codes), "well_formed": next(formed), "cluster": p.cluster}
                for j, (r, length) in enumerate(zip(samples, lengths, strict=True))
            ]  # fmt: skip
        correct = np.array([sum(r.passed_all for r in samples) for samples in rollouts])
        for k in sorted({1, n}):
            metrics[eval_key(suite, pass_at(k))] = float(np.mean(pass_at_k(n, correct, k)))
        mine = rows[-len(problems) * n :]
        diag = profile([r["category"] for r in mine], [r["lint"] for r in mine], [r["completion_tokens"] for r in mine])
        metrics.update({eval_key(suite, name): value for name, value in diag.items()})
        format_failures = float(np.mean([not r["well_formed"] for r in mine]))
        metrics[eval_key(suite, "format_failure_share")] = format_failures
        metrics[eval_key(suite, "alarm_broken_eval")] = float(
            broken_evaluation(float(correct.mean()) / n, format_failures)
        )
        for extra in extras:
            for name, value in extra(model, tokenizer, problems, rollouts, suite_seed + 50_000).items():
                metrics[eval_key(suite, name)] = value
    return metrics, rows
