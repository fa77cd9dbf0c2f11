"""The tiny base model's training corpus: every train task with the distribution of its completions.

Per family, two defect rates are drawn from the generator seed (`family_rates`): the print habit
(shared by all families, `habit_range`) and the family's misconception (`bug_max`). The base model
sees, for each task, a completion drawn afresh from `corpus_distribution` at every visit, so it
learns the rates per family rather than memorising which variant a task happened to get. The rates
differ by family, so at a low sampling temperature some families' most likely completion is wrong:
what RL with an execution reward can change, and what transfers to held-out tasks of those families.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from trainables.tiny.families import all_families, returns_list
from trainables.tiny.io_tasks import io_corpus_distribution
from trainables.tiny.solutions import corpus_distribution
from trainables.tiny.tasks import EOS, Task


@dataclass(frozen=True)
class CorpusItem:
    """One training task: its prompt and its completions (each ending in EOS) with probabilities."""

    prompt: str
    completions: tuple[str, ...]
    weights: tuple[float, ...]  # sum to 1


def family_rates(seed: int, habit_range: tuple[float, float], bug_max: float) -> dict[str, tuple[float, float]]:
    """{family: (habit rate, misconception rate)}, drawn uniformly per family from the seed."""
    out = {}
    for family in all_families():
        digest = hashlib.sha256(f"rates|{seed}|{family.name}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        out[family.name] = (rng.uniform(*habit_range), rng.uniform(0.0, bug_max))
    return out


def corpus_item(task: Task, rates: dict[str, tuple[float, float]]) -> CorpusItem:
    """The corpus entry of one function or io task."""
    family = next(f for f in all_families() if f.name == task.family)
    habit, bug = rates[task.family]
    if task.style == "io":
        dist = io_corpus_distribution(family, task.params, returns_list(family), habit=habit, bug=bug)
    else:
        dist = corpus_distribution(family, task.params, task.entry_point, habit=habit, bug=bug)
    return CorpusItem(task.prompt, tuple(text + EOS for text, _ in dist), tuple(p for _, p in dist))


def build_corpus(tasks: tuple[Task, ...], rates: dict[str, tuple[float, float]]) -> tuple[CorpusItem, ...]:
    """The corpus for the given train tasks (function and io alike)."""
    return tuple(corpus_item(t, rates) for t in tasks)
