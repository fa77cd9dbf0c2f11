"""The sft kind's training data: n_problems x solutions_per_problem examples, every solution verified.

Problems are taken in the train pool's order, so every condition of a study draws from the same
front of the pool (the 40 problems of `diverse` are the first 40 of `deep`'s 200). A problem is used
only if it has enough solutions that pass its tests in the sandbox: k distinct ones, or one (k copies)
for the duplicate control. The examples actually trained on are hashed; the hash and the counts are
logged with the trial.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from executors import SandboxExecutor
from trainables.common.problems import DataUnavailable, Problem
from trainables.common.prompting import job


@dataclass(frozen=True)
class Example:
    """One supervised example: the problem's prompt (as the policy sees it) and a verified solution."""

    problem_id: str
    prompt: str
    completion: str


@dataclass(frozen=True)
class SFTData:
    """The examples of one trial and what they are: counts, the hash, and what verification dropped."""

    examples: tuple[Example, ...]
    n_problems: int
    solutions_per_problem: int
    unverified: int  # candidate solutions that failed their tests in the sandbox (never trained on)
    skipped_problems: int  # problems passed over for lack of enough verified solutions

    @property
    def sha256(self) -> str:
        blob = json.dumps([asdict(e) for e in self.examples], sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def facts(self) -> dict[str, float]:
        """Numeric facts for the trial's metrics."""
        return {
            "train/examples": float(len(self.examples)),
            "train/problems": float(self.n_problems),
            "train/solutions_per_problem": float(self.solutions_per_problem),
            "train/unverified_solutions": float(self.unverified),
            "train/skipped_problems": float(self.skipped_problems),
        }


def candidates(problem: Problem) -> tuple[str, ...]:
    """A problem's reference solutions, distinct ones first: its `solutions`, else its canonical."""
    return problem.solutions or ((problem.canonical,) if problem.canonical else ())


def build(
    pool: Sequence[Problem],
    prompts: Sequence[str],
    n_problems: int,
    k: int,
    duplicate: bool,
    executor: SandboxExecutor,
    completion: Callable[[Problem, str], str] = lambda problem, solution: solution,
    require_all: bool = True,
) -> SFTData:
    """`n_problems` problems from the front of `pool` with k verified solutions each (k copies of the first
    verified one when `duplicate`). prompts[i] is pool[i]'s rendered prompt; `completion` turns a verified
    solution into the trained completion (a chat model's fenced block). Raises DataUnavailable when the
    pool cannot supply them (with `require_all` False: when it supplies none)."""
    need = 1 if duplicate else k
    usable = [i for i, p in enumerate(pool) if len(candidates(p)) >= need]
    verdicts = _verify(pool, usable, executor)
    examples: list[Example] = []
    chosen = skipped = unverified = 0
    for i in range(len(pool)):
        if chosen == n_problems:
            break
        good = [s for s, ok in zip(candidates(pool[i]), verdicts.get(i, []), strict=False) if ok]
        unverified += len(verdicts.get(i, [])) - len(good)
        if len(good) < need:
            skipped += 1
            continue
        picked = [good[0]] * k if duplicate else good[:k]
        examples += [Example(pool[i].problem_id, prompts[i], completion(pool[i], s)) for s in picked]
        chosen += 1
    if chosen < n_problems and (require_all or chosen == 0):
        have = "k copies of one" if duplicate else f"{k} distinct"
        raise DataUnavailable(
            f"sft: the train pool has {chosen} problems with {have} verified solutions, {n_problems} were asked; "
            "lower n_problems or solutions_per_problem, or use a data source with more reference solutions"
        )
    return SFTData(tuple(examples), chosen, k, unverified, skipped)


def _verify(pool: Sequence[Problem], indices: list[int], executor: SandboxExecutor) -> dict[int, list[bool]]:
    """Per problem index, whether each candidate solution passes all its tests in the sandbox."""
    jobs: list[Any] = []
    owners: list[int] = []
    for i in indices:
        for j, solution in enumerate(candidates(pool[i])):
            jobs.append(job(pool[i], solution, f"sft-{i}-{j}"))
            owners.append(i)
    out: dict[int, list[bool]] = {i: [] for i in indices}
    for owner, result in zip(owners, executor.run(jobs), strict=True):
        out[owner].append(result.category == "pass")
    return out
