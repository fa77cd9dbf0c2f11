"""The exec reward for TRL: fraction of unit tests passed, shaped, judged by the sandbox.

It also keeps the iteration's rollout log (what was sampled, what it earned), from which the train
pass rate and the auxiliary examples are derived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from executors import SandboxExecutor
from trainables.problems import Problem
from trainables.prompting import feedback, job


@dataclass(frozen=True)
class Rollout:
    """One sampled completion and its verdict."""

    problem_id: str
    prompt: str
    completion: str
    reward: float
    passed_all: bool
    category: str
    feedback: str
    step: int


class ExecReward:
    """TRL reward function `f(prompts, completions, **columns) -> list[float]`.

    The dataset column `problem_index` maps each prompt to its Problem.
    """

    __name__ = "exec"

    def __init__(self, problems: tuple[Problem, ...], executor: SandboxExecutor) -> None:
        self.problems = problems
        self.executor = executor
        self.log: list[Rollout] = []

    def __call__(self, prompts: list[Any], completions: list[Any], **kw: Any) -> list[float]:
        texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
        indices = kw["problem_index"]
        jobs = [job(self.problems[i], t, f"r{n}") for n, (i, t) in enumerate(zip(indices, texts, strict=True))]
        results = self.executor.run(jobs)
        state = kw.get("trainer_state")
        step = int(state.global_step) if state is not None else 0
        for i, prompt, text, res in zip(indices, prompts, texts, results, strict=True):
            self.log.append(
                Rollout(
                    problem_id=self.problems[i].problem_id,
                    prompt=prompt if isinstance(prompt, str) else str(prompt),
                    completion=text,
                    reward=res.reward,
                    passed_all=res.category == "pass",
                    category=res.category,
                    feedback=feedback(res) if res.category != "pass" else "",
                    step=step,
                )
            )
        return [r.reward if r.category != "sandbox_error" else None for r in results]  # type: ignore[misc]

    def drain(self) -> list[Rollout]:
        """The rollouts logged since the last drain (one iteration's worth)."""
        out, self.log = self.log, []
        return out
