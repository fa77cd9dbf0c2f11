"""Held-out evaluation: sample, execute in the sandbox, keep every per-problem outcome.

Per-problem outcomes are the raw data; pass@k and every later statistic derive from them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.estimators import pass_at_k
from executors import ExecResult, SandboxExecutor
from trainables.params import GRPOParams
from trainables.problems import Problem
from trainables.prompting import feedback, job, render_prompt
from trainables.rollouts import sample
from trainables.specs import ModelSpec


def evaluate(
    model: Any,
    tokenizer: Any,
    suites: dict[str, tuple[Problem, ...]],
    params: GRPOParams,
    model_spec: ModelSpec,
    executor: SandboxExecutor,
    *,
    condition: str,
    seed: int,
    iteration: int,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Metrics `eval/<suite>/pass_at_{1,k}` and tidy outcome rows (one per sample)."""
    metrics: dict[str, float] = {}
    rows: list[dict[str, Any]] = []
    n = params.eval_samples
    for s_idx, (suite, problems) in enumerate(sorted(suites.items())):
        prompts = [render_prompt(p, model_spec, tokenizer) for p in problems]
        out = sample(
            model,
            tokenizer,
            prompts,
            n=n,
            temperature=params.eval_temperature,
            top_p=params.eval_top_p,
            max_new_tokens=params.eval_max_new_tokens,
            seed=seed * 100_003 + iteration * 101 + s_idx,
        )
        jobs = [
            job(p, c, f"{p.problem_id}#{j}")
            for p, comps in zip(problems, out.completions, strict=True)
            for j, c in enumerate(comps)
        ]
        results = executor.run(jobs)
        passed = np.array([r.category == "pass" for r in results]).reshape(len(problems), n)
        cats = [r.category for r in results]
        for i, p in enumerate(problems):
            for j in range(n):
                rows.append(
                    {
                        "condition": condition,
                        "seed": seed,
                        "iteration": iteration,
                        "suite": suite,
                        "problem_id": p.problem_id,
                        "sample": j,
                        "passed": bool(passed[i, j]),
                        "category": cats[i * n + j],
                    }
                )
        correct = passed.sum(axis=1)
        for k in sorted({1, n}):
            metrics[f"eval/{suite}/pass_at_{k}"] = float(np.mean(pass_at_k(n, correct, k)))
        metrics[f"eval/{suite}/completion_length"] = float(np.mean(out.lengths))
        failed = _first_failures(problems, out.completions, results, n)
        if failed:
            from trainables.spark import reflection_fix_rate

            metrics[f"eval/{suite}/fix_rate"] = reflection_fix_rate(
                model,
                tokenizer,
                failed,
                params,
                model_spec,
                executor,
                seed=seed * 100_003 + iteration * 101 + s_idx + 50_000,
            )
    return metrics, rows


def _first_failures(
    problems: tuple[Problem, ...], completions: list[list[str]], results: list[ExecResult], n: int
) -> list[tuple[Problem, str, str]]:
    """(problem, completion, feedback) of each problem's first failed sample; sandbox errors are not failures."""
    out = []
    for i, p in enumerate(problems):
        for j in range(n):
            r = results[i * n + j]
            if r.category not in ("pass", "sandbox_error"):
                out.append((p, completions[i][j], feedback(r)))
                break
    return out
