"""Rewards: the exec rule on real sandbox verdicts, the registry, and TRL's mixing rule in `combined`."""

from __future__ import annotations

from typing import Any

import pytest

from executors import SandboxExecutor
from trainables.common.problems import Problem
from trainables.common.rewards import REWARDS, Shaping, combined, exec_reward
from trainables.registry import UnknownName

PROBLEM = Problem(problem_id="p", style="tiny", text="", entry_point="f",
                  tests=("assert f(1) == 2", "assert f(2) == 3"))  # fmt: skip


class Const:
    """A reward function that gives every completion the same value (None: abstains)."""

    def __init__(self, name: str, value: float | None) -> None:
        self.__name__ = name
        self.value = value

    def __call__(self, prompts: list[Any], completions: list[Any], record: bool = True, **kw: Any) -> list:
        return [self.value] * len(completions)


def test_combined_is_the_weighted_sum_skipping_abstentions() -> None:
    args = (["a", "b"], ["x", "y"])
    assert combined([Const("u", 1.0), Const("v", 0.5)], [2.0, -1.0], *args) == [1.5, 1.5]
    assert combined([Const("u", None), Const("v", 0.5)], [2.0, 3.0], *args) == [1.5, 1.5]  # TRL's nansum
    assert combined([Const("u", None), Const("v", None)], [1.0, 1.0], *args) == [None, None]  # all abstained


def test_exec_reward_shapes_real_verdicts() -> None:
    programs = [
        "def f(x):\n    return x + 1\n",  # 2 of 2
        "def f(x):\n    return 2\n",  # 1 of 2
        "def f(x) return\n",  # does not parse
        "def f(x):\n    raise ValueError\n",  # only raises
        "def f(x):\n    while True: pass\n",  # times out
        "def f(x):\n    return 0\n",  # wrong answers
    ]
    from trainables.common.rollouts import judge

    with SandboxExecutor(workers=1) as ex:
        _, results = judge(ex, [PROBLEM] * len(programs), programs)
    shaping = Shaping(syntax=-0.2, runtime=-0.1, timeout=-0.3)
    assert [exec_reward(r, shaping) for r in results] == [1.0, 0.5, -0.2, -0.1, -0.3, 0.0]


def test_unknown_reward_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownName, match="did you mean 'exec'"):
        REWARDS["exe"]


def _grpo_params(**kw: Any) -> Any:
    from trainables.kinds.grpo_config import GRPOParams

    return GRPOParams(**kw)


def test_ruff_reward_ranks_hand_written_programs() -> None:
    from executors.api import ExecResult, TestOutcome
    from trainables.common.rewards import ruff_rewards

    programs = [
        "def f(x):\n    return x + 1\n",  # correct and lint-free
        "import os\n\n\ndef f(x):\n    return x + 1\n",  # the same with an unused import (F401, suspicious)
        "def f(x):\n    y = 3\n    return x + 1\n",  # an unused variable (F841, correctness)
        "def f(x) return\n",  # does not parse
        "def g(x):\n    return x + 1\n",  # lint-free, but no f for the tests to call
        "def f(x):\n    return x + 1\n",  # the sandbox could not judge it
    ]
    with SandboxExecutor(workers=1) as ex:
        from trainables.common.rollouts import judge

        _, results = judge(ex, [PROBLEM] * 5, programs[:5])
    fault = ExecResult("x", 0, 2, "sandbox_error", (TestOutcome("sandbox_error"),) * 2, 0.0)
    got = ruff_rewards([PROBLEM] * 6, programs, [*results, fault], _grpo_params())
    clean, unused_import, unused_var, broken, no_entry, unjudged = got
    assert clean == 0.0 and unused_import == pytest.approx(-0.25) and unused_var == pytest.approx(-0.5)
    assert clean > unused_import > unused_var > broken
    assert broken == -1.0 and no_entry == -1.0  # the minimum: no lint-clean bonus for code that cannot run
    assert unjudged is None
    heavier = ruff_rewards([PROBLEM], programs[1:2], results[1:2], _grpo_params(ruff_weights={"suspicious": 2.0}))
    assert heavier == [-1.0]  # the category weights are parameters


def test_a_mix_scores_each_batch_from_one_set_of_verdicts() -> None:
    from trainables.common.rewards import RewardContext, build_rewards

    params = _grpo_params(rewards={"exec": 1.0, "ruff": 0.5})
    with SandboxExecutor(workers=1) as ex:
        funcs, weights = build_rewards(params.rewards, RewardContext((PROBLEM,), ex, params))
        args = (["p", "p"], ["def f(x):\n    return x + 1\n", "import os\ndef f(x):\n    return 0\n"])
        # exec 0 + 0.5 x ruff (F401 suspicious 0.5 + ARG001 pedantic 0.1, over scale 2): -0.15
        assert combined(funcs, weights, *args, problem_index=[0, 0]) == [1.0, pytest.approx(-0.15)]
        assert ex.stats.jobs == 2  # one sandbox run for the batch, shared by both functions
    with pytest.raises(ValueError, match="unknown category 'styling'"):
        _grpo_params(ruff_weights={"styling": 1.0})
