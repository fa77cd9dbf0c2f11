"""SPARK mining: one iteration's GRPO rollouts -> the three auxiliary pools (pure, no model).

- pointwise: every distinct (problem, completion), labelled Correct / Incorrect.
- pairwise: every distinct failing completion of a problem that also has a passing one, paired with a
  passing sibling; which of the two is shown as "A" is balanced (exactly half, up to one) and seeded.
- reflection: every distinct failing completion, repaired to a passing sibling, else (mode
  `correct_or_canonical`) to the problem's canonical solution. A problem with no failing rollout
  yields no reflection example.

Rollouts the sandbox could not judge (`sandbox_error`) are neither passing nor failing: skipped.
Caps keep a seeded uniform sample of the candidates that fit (`fits`, e.g. the token budget).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

from trainables.common.problems import Problem
from trainables.common.rollouts import Rollout
from trainables.kinds.grpo_config import GRPOParams

T = TypeVar("T")


@dataclass(frozen=True)
class Judgment:
    """Pointwise: is this completion correct?"""

    problem_id: str
    completion: str
    correct: bool


@dataclass(frozen=True)
class Preference:
    """Pairwise: a passing and a failing completion of one problem; `passing_is_a` sets the shown order."""

    problem_id: str
    passing: str
    failing: str
    passing_is_a: bool = True


@dataclass(frozen=True)
class Repair:
    """Reflection: a failing completion, its execution feedback, and the repaired target."""

    problem_id: str
    failing: str
    feedback: str
    target: str
    target_source: Literal["sibling", "canonical"]


@dataclass(frozen=True)
class AuxPool:
    pointwise: tuple[Judgment, ...] = ()
    pairwise: tuple[Preference, ...] = ()
    reflection: tuple[Repair, ...] = ()

    def sizes(self) -> dict[str, int]:
        return {"pointwise": len(self.pointwise), "pairwise": len(self.pairwise), "reflection": len(self.reflection)}


def group_rollouts(rollouts: Sequence[Rollout]) -> dict[str, tuple[list[str], list[Rollout]]]:
    """problem_id -> (distinct passing completions, distinct failing rollouts), in first-seen order."""
    groups: dict[str, tuple[list[str], list[Rollout]]] = {}
    seen: set[tuple[str, str]] = set()
    for r in rollouts:
        if r.category == "sandbox_error" or (r.problem_id, r.completion) in seen:
            continue
        seen.add((r.problem_id, r.completion))
        passing, failing = groups.setdefault(r.problem_id, ([], []))
        if r.passed_all:
            passing.append(r.completion)
        else:
            failing.append(r)
    return groups


def mine(
    rollouts: Sequence[Rollout],
    problems: Sequence[Problem],
    mode: Literal["correct", "correct_or_canonical"],
    rng: random.Random,
) -> AuxPool:
    """Every candidate of each type, before caps; sibling targets and partners are drawn from `rng`."""
    by_id = {p.problem_id: p for p in problems}
    pointwise: list[Judgment] = []
    pairwise: list[Preference] = []
    reflection: list[Repair] = []
    for pid, (passing, failing) in group_rollouts(rollouts).items():
        if pid not in by_id:
            raise KeyError(f"rollout of problem {pid!r} that is not in the training pool")
        pointwise += [Judgment(pid, c, True) for c in passing] + [Judgment(pid, r.completion, False) for r in failing]
        for r in failing:
            if passing:
                pairwise.append(Preference(pid, rng.choice(passing), r.completion))
            repair = _repair(by_id[pid], r, passing, mode, rng)
            if repair is not None:
                reflection.append(repair)
    return AuxPool(tuple(pointwise), tuple(pairwise), tuple(reflection))


def _repair(problem: Problem, failed: Rollout, passing: list[str], mode: str, rng: random.Random) -> Repair | None:
    feedback = failed.feedback or failed.category
    if passing:
        return Repair(problem.problem_id, failed.completion, feedback, rng.choice(passing), "sibling")
    if mode == "correct_or_canonical" and problem.canonical:
        return Repair(problem.problem_id, failed.completion, feedback, problem.canonical, "canonical")
    return None


def select(candidates: Sequence[T], cap: int, rng: random.Random, fits: Callable[[T], bool]) -> tuple[list[T], int]:
    """Up to `cap` candidates that fit, drawn uniformly (seeded), in their original order; and how many
    candidates were looked at and did not fit."""
    order = list(range(len(candidates)))
    rng.shuffle(order)
    kept: list[int] = []
    dropped = 0
    for i in order:
        if len(kept) >= cap:
            break
        if fits(candidates[i]):
            kept.append(i)
        else:
            dropped += 1
    return [candidates[i] for i in sorted(kept)], dropped


def assign_sides(prefs: Sequence[Preference], rng: random.Random) -> tuple[Preference, ...]:
    """Balanced, seeded A/B: ceil(n/2) show the passing completion as A, the rest as B, shuffled."""
    sides = [True] * ((len(prefs) + 1) // 2) + [False] * (len(prefs) // 2)
    rng.shuffle(sides)
    return tuple(replace(p, passing_is_a=s) for p, s in zip(prefs, sides, strict=True))


def build_pool(
    rollouts: Sequence[Rollout],
    problems: Sequence[Problem],
    params: GRPOParams,
    rng: random.Random,
    fits: Callable[[str, Any], bool] = lambda kind, item: True,
) -> tuple[AuxPool, int]:
    """Mine, keep up to each type's cap of examples that fit, balance A/B: (pool, candidates dropped as too
    long). `fits(kind, item)` is asked of candidates until the cap is reached."""
    cands = mine(rollouts, problems, params.reflection_target_mode, rng)
    point, d1 = select(cands.pointwise, params.aux_pool_pointwise, rng, lambda x: fits("pointwise", x))
    pair, d2 = select(cands.pairwise, params.aux_pool_pairwise, rng, lambda x: fits("pairwise", x))
    refl, d3 = select(cands.reflection, params.aux_pool_reflection, rng, lambda x: fits("reflection", x))
    return AuxPool(tuple(point), assign_sides(pair, rng), tuple(refl)), d1 + d2 + d3
