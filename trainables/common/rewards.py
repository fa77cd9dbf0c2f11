"""Rewards: named reward functions, shaped from the sandbox's verdicts, mixed with weights by TRL.

The executor returns verdicts only (per-test statuses and a category); what a verdict is worth is RL
policy and lives here. A trial builds the functions its params name (`rewards: {exec: 1.0}`) and hands
them to TRL as `reward_funcs` / `reward_weights`; TRL logs each one's mean (`rewards/<name>/mean`,
our `train/reward/<name>`) and sums them with NaN-skipping (a function returns None to abstain).
`combined` applies the same rule outside TRL, so adaptive K judges group variance with exactly the
reward the trainer uses.

The exec rule (n tests, k passed; statuses per test, see executors/verdicts.py):
- the program does not compile -> `syntax` penalty;
- k == n -> 1.0; 0 < k < n -> k / n (partial passes keep their fraction);
- k == 0 and any test timed out -> `timeout` penalty;
- k == 0 and every failure error-like (runtime error, memory, crash, output flood, unrepresentable
  value) -> `runtime` penalty: crashing on purpose earns no more than raising;
- k == 0 with a wrong answer -> 0.0;
- `sandbox_error` (an infrastructure fault, never the program's doing) -> None: not scored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from executors import ExecResult, SandboxExecutor, verdicts
from trainables.common.problems import Problem
from trainables.registry import Registry

if TYPE_CHECKING:  # rollouts imports torch; validating a space's `rewards` must not
    from trainables.common.rollouts import RolloutLog

Reward = float | None  # None: abstain (not judged); TRL reads it as NaN


@dataclass(frozen=True)
class Shaping:
    """Rewards that replace k/n when nothing passed."""

    syntax: float = -0.2
    runtime: float = -0.1
    timeout: float = -0.3


def exec_reward(result: ExecResult, shaping: Shaping = Shaping()) -> Reward:
    """The exec reward of one verdict (module docstring); None for a sandbox error."""
    statuses = [verdicts.base(t.status) for t in result.tests]
    if verdicts.SANDBOX in statuses or result.category == verdicts.SANDBOX:
        return None
    if verdicts.SYNTAX in statuses:
        return shaping.syntax
    n, k = len(statuses), statuses.count(verdicts.PASS)
    if n and k == n:
        return 1.0
    if k > 0:
        return k / n
    if verdicts.TIMEOUT in statuses:
        return shaping.timeout
    if statuses and all(s in verdicts.ERROR_LIKE for s in statuses):
        return shaping.runtime
    return 0.0


@dataclass(frozen=True)
class RewardContext:
    """What a reward function may use: the training problems, the sandbox, the trial's params (for its
    own knobs) and the phase's rollout log (a judging function records what it judged there)."""

    problems: tuple[Problem, ...]
    executor: SandboxExecutor
    params: Any
    log: RolloutLog | None = None


class RewardFunction(Protocol):
    """TRL reward function `f(prompts, completions, problem_index=[...], **kw) -> rewards`; `record=False`
    scores without writing to the rollout log (adaptive K's pre-scoring)."""

    __name__: str

    def __call__(self, prompts: list[Any], completions: list[Any], **kw: Any) -> list[Reward]: ...


def _text(completion: Any) -> str:
    return completion if isinstance(completion, str) else completion[-1]["content"]


class ExecReward:
    """Fraction of unit tests passed, shaped (module docstring); records each judged rollout."""

    __name__ = "exec"

    def __init__(self, ctx: RewardContext) -> None:
        p = ctx.params
        self.ctx = ctx
        self.shaping = Shaping(syntax=p.syntax_penalty, runtime=p.runtime_penalty, timeout=p.timeout_penalty)

    def __call__(self, prompts: list[Any], completions: list[Any], record: bool = True, **kw: Any) -> list[Reward]:
        from trainables.common.rollouts import judge

        problems = [self.ctx.problems[i] for i in kw["problem_index"]]
        state = kw.get("trainer_state")
        step = int(state.global_step) if state is not None else 0
        shown = [pr if isinstance(pr, str) else str(pr) for pr in prompts]
        rollouts, results = judge(self.ctx.executor, problems, [_text(c) for c in completions], shown, step, "r")
        if record and self.ctx.log is not None:
            self.ctx.log.extend(rollouts)
        return [exec_reward(r, self.shaping) for r in results]


REWARDS: Registry[Callable[[RewardContext], RewardFunction]] = Registry("reward function", {"exec": ExecReward})
"""Reward name -> factory(context) -> TRL reward function. A new reward is one class and one entry."""


def build_rewards(weights: dict[str, float], ctx: RewardContext) -> tuple[list[RewardFunction], list[float]]:
    """The functions and weights a trial's `rewards` names, in its order (TRL reward_funcs / reward_weights)."""
    return [REWARDS[name](ctx) for name in weights], [float(w) for w in weights.values()]


def combined(
    funcs: Sequence[RewardFunction], weights: Sequence[float], prompts: list[Any], completions: list[Any], **kw: Any
) -> list[Reward]:
    """sum_i w_i * f_i per completion, skipping functions that abstained (TRL's nansum); None when all
    abstained. Scores without recording rollouts."""
    per_func = [f(prompts, completions, record=False, **kw) for f in funcs]
    out: list[Reward] = []
    for values in zip(*per_func, strict=True):
        scored = [w * v for w, v in zip(weights, values, strict=True) if v is not None and not math.isnan(v)]
        out.append(sum(scored) if scored else None)
    return out
