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

The ruff rule (findings under the trial's rule selection, each weighted by its rule's category from
ruff's own metadata): -min(1, sum of weights / ruff_scale), in [-1, 0]; a program that does not parse,
or lacks the entry point its tests call, gets the minimum -1 (never a lint-clean bonus for code that
cannot run). Every function of one batch reads one set of sandbox verdicts (`BatchJudge`): a program
the sandbox could not judge is None for every component, so TRL's nansum cannot pay it the lint
reward alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from executors import ExecResult, SandboxExecutor, verdicts
from trainables.common.diagnostics import well_formed
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


def lint_reward(codes: Sequence[str], weights: Mapping[str, float], scale: float) -> float:
    """The ruff rule (module docstring) for one program's finding codes; `weights` per category."""
    from trainables.common.lint import SYNTAX, rule_categories

    if SYNTAX in codes:
        return -1.0
    table = rule_categories()
    total = sum(weights.get(table.get(code, ""), 0.0) for code in codes)
    return -min(1.0, total / scale)


class BatchJudge:
    """The sandbox verdicts of the batch TRL is scoring, run once and shared by every reward function
    (TRL calls them one after another on the same completions)."""

    def __init__(self, executor: SandboxExecutor) -> None:
        self.executor = executor
        self._key: tuple[Any, ...] | None = None
        self._out: tuple[list[Any], list[ExecResult]] = ([], [])

    def __call__(
        self, problems: Sequence[Problem], texts: Sequence[str], shown: Sequence[str], step: int
    ) -> tuple[list[Any], list[ExecResult]]:
        from trainables.common.rollouts import judge

        key = (tuple(p.problem_id for p in problems), tuple(texts), tuple(shown), step)
        if key != self._key:
            self._out = judge(self.executor, problems, list(texts), list(shown), step, "r")
            self._key = key
        return self._out


@dataclass(frozen=True)
class RewardContext:
    """What a reward function may use: the training problems, the sandbox, the trial's params (for its
    own knobs), the phase's rollout log (a judging function records what it judged there) and the
    batch's shared verdicts."""

    problems: tuple[Problem, ...]
    executor: SandboxExecutor
    params: Any
    log: RolloutLog | None = None
    judged: BatchJudge = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "judged", BatchJudge(self.executor))

    def batch(self, prompts: list[Any], completions: list[Any], kw: dict[str, Any]) -> Batch:
        """A TRL call's problems, completion texts, rollouts and verdicts, judged once per batch."""
        problems = [self.problems[i] for i in kw["problem_index"]]
        state = kw.get("trainer_state")
        step = int(state.global_step) if state is not None else 0
        shown = [pr if isinstance(pr, str) else str(pr) for pr in prompts]
        texts = [_text(c) for c in completions]
        rollouts, results = self.judged(problems, texts, shown, step)
        return Batch(problems, texts, rollouts, results)


@dataclass(frozen=True)
class Batch:
    """One scored batch, aligned: problems[i], texts[i] (completions), rollouts[i], results[i]."""

    problems: list[Problem]
    texts: list[str]
    rollouts: list[Any]
    results: list[ExecResult]


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
        batch = self.ctx.batch(prompts, completions, kw)
        if record and self.ctx.log is not None:
            self.ctx.log.extend(batch.rollouts)
        return [exec_reward(r, self.shaping) for r in batch.results]


class RuffReward:
    """Ruff findings weighted by rule category (module docstring): one ruff call per batch."""

    __name__ = "ruff"

    def __init__(self, ctx: RewardContext) -> None:
        self.ctx = ctx

    def __call__(self, prompts: list[Any], completions: list[Any], record: bool = True, **kw: Any) -> list[Reward]:
        from trainables.common.prompting import program

        batch = self.ctx.batch(prompts, completions, kw)
        programs = [program(pr, t) for pr, t in zip(batch.problems, batch.texts, strict=True)]
        return ruff_rewards(batch.problems, programs, batch.results, self.ctx.params)


def ruff_rewards(
    problems: Sequence[Problem], programs: Sequence[str], results: Sequence[ExecResult], params: Any
) -> list[Reward]:
    """The ruff rule for aligned programs and their sandbox verdicts (`params`: ruff_select, ruff_ignore,
    ruff_weights, ruff_scale): None where the sandbox could not judge, -1 for a program without its
    entry point, else lint_reward. One ruff call for all of them."""
    from trainables.common.lint import findings

    codes = findings(programs, params.ruff_select, ignore=params.ruff_ignore)
    out: list[Reward] = []
    for problem, prog, found, result in zip(problems, programs, codes, results, strict=True):
        if exec_reward(result) is None:  # unjudgeable: no component may score it (TRL nansums the rest)
            out.append(None)
        elif result.category != verdicts.PASS and not well_formed(problem, prog):
            out.append(-1.0)
        else:
            out.append(lint_reward(found, params.ruff_weights, params.ruff_scale))
    return out


REWARDS: Registry[Callable[[RewardContext], RewardFunction]] = Registry(
    "reward function", {"exec": ExecReward, "ruff": RuffReward}
)
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
