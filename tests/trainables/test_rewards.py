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
