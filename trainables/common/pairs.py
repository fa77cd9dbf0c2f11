"""Verified preference pairs from judged samples: chosen passes every test, rejected does not.

The pool behind DPO-style studies (seed document 002 builds 2,052 pairs from MBPP this way). Samples
are de-duplicated per problem by their text, so a pair never contrasts a program with itself, and
a problem contributes at most `max_per_problem` pairs, drawn with an explicit RNG.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from executors.verdicts import SANDBOX
from trainables.common.rollouts import Rollout


@dataclass(frozen=True)
class Pair:
    """One preference pair: prompt, a passing completion and a failing one (with its category)."""

    problem_id: str
    prompt: str
    chosen: str
    rejected: str
    rejected_category: str


def pairs_for(rollouts: Sequence[Rollout]) -> list[Pair]:
    """Every (passing, failing) combination of one problem's distinct completions, in sample order."""
    seen: set[str] = set()
    good: list[Rollout] = []
    bad: list[Rollout] = []
    for r in rollouts:
        if r.category == SANDBOX or r.completion in seen:  # an infrastructure fault says nothing of the program
            continue
        seen.add(r.completion)
        (good if r.passed_all else bad).append(r)
    return [Pair(g.problem_id, g.prompt, g.completion, b.completion, b.category) for g in good for b in bad]


def pair_pool(groups: Sequence[Sequence[Rollout]], max_per_problem: int, seed: int) -> list[Pair]:
    """Pairs over all problems (`groups[i]`: the samples of problem i), at most `max_per_problem` each."""
    rng = random.Random(seed)
    out: list[Pair] = []
    for rollouts in groups:
        pairs = pairs_for(rollouts)
        out += pairs if len(pairs) <= max_per_problem else rng.sample(pairs, max_per_problem)
    return out
