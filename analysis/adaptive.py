"""Adaptive seeds: which comparisons are still open after a look, and which conditions get more seeds.

The decisions come from analysis/sequential.py; this module holds the bookkeeping a study needs between
looks: every declared comparison is decided on the seeds its two arms have so far, a decided one stays
decided, and only the conditions of comparisons still open get ``batch`` more seeds (up to
``max_seeds``). ``replay`` runs that procedure over a finished study's per-seed scores, seeds taken in
order, and shows where each comparison would have stopped and how many seeds it would have used:
the preview of an adaptive run, and a check of its bookkeeping on real data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import pandas as pd

from analysis import sequential as sq
from analysis.iterations import condition_of, same_run
from analysis.tables import AnalysisInputError
from trainables.common.metrics import BASE_ARM


@dataclass(frozen=True)
class AdaptiveDesign:
    """Seeds per condition: ``start``, then ``batch`` more per look while a comparison naming it is open,
    up to ``max_seeds``. ``effect_pp`` (futility) and ``margin_pp`` (equivalence) are the space's. Each
    comparison spends ``alpha / m`` over its looks, m the comparisons of its family (within one run, or
    between conditions), so the family-wise error holds across comparisons as well as looks."""

    start: int
    batch: int
    max_seeds: int
    alpha: float = 0.05
    effect_pp: float | None = None
    margin_pp: float | None = None


@dataclass
class Ledger:
    """What the looks so far decided: per comparison its looks' seed counts and its Look records."""

    looks: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)
    closed: dict[tuple[str, str], str] = field(default_factory=dict)


def look(
    scores: dict[str, pd.Series],
    comparisons: tuple[tuple[str, str], ...],
    design: AdaptiveDesign,
    ledger: Ledger,
    at_max: Callable[[tuple[str, str]], bool],
    study_look: int,
) -> list[tuple[str, str]]:
    """Decide every open comparison on the seeds its arms have now (``scores[arm]``: per-seed scores,
    index seed); ``at_max(pair)``: its conditions can get no more seeds (an undecided one then ends
    unresolved). Records the looks in ``ledger``; returns the comparisons still open."""
    still = []
    family = {True: sum(same_run(*p) for p in comparisons), False: sum(not same_run(*p) for p in comparisons)}
    for pair in comparisons:
        if pair in ledger.closed:
            continue
        base, treat = scores[pair[1]], scores[pair[0]]
        paired = same_run(*pair)
        if paired:
            shared = base.index.intersection(treat.index)
            a, b = base.loc[shared].to_numpy(float), treat.loc[shared].to_numpy(float)
        else:
            a, b = base.to_numpy(float), treat.to_numpy(float)
        counts = (a.size, b.size)
        history = ledger.looks.setdefault(pair, [])
        if history and sq.information(*counts) <= sq.information(*history[-1]):
            still.append(pair)  # no more information since its last look: nothing new to decide
            continue
        history.append(counts)
        alpha = design.alpha / family[same_run(*pair)]  # Bonferroni within the family, as study.plan plans it
        got = sq.decide(a, b, tuple(history), max_seeds=design.max_seeds, alpha=alpha,
                        margin_pp=design.margin_pp, effect_pp=design.effect_pp, final=at_max(pair),
                        paired=paired)  # fmt: skip
        ledger.records.append({"study_look": study_look, "comparison": f"{pair[0]}_vs_{pair[1]}"} | asdict(got))
        if got.decision == sq.CONTINUE:
            still.append(pair)
        else:
            ledger.closed[pair] = got.decision
    return still


def allocate(open_pairs: list[tuple[str, str]], seeds_now: dict[str, int], design: AdaptiveDesign) -> dict[str, int]:
    """Seeds per condition after this look: ``batch`` more for every condition of an open comparison (the
    base model and iteration arms stand for their condition's runs), capped at ``max_seeds``."""
    grow = {condition_of(x) for pair in open_pairs for x in pair if x != BASE_ARM}
    return {c: min(design.max_seeds, n + design.batch) if c in grow else n for c, n in seeds_now.items()}


def replay(
    seed_scores: pd.DataFrame, comparisons: tuple[tuple[str, str], ...], design: AdaptiveDesign
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The adaptive procedure run over a finished study's per-seed scores of one suite (columns condition,
    seed, score; arms named as the analysis names them, e.g. base@0, C@best), seeds in increasing order.
    Returns (one row per comparison and look, the seeds each condition would have used)."""
    picked = [x for pair in comparisons for x in pair if x.endswith("@best")]
    if picked:
        raise AnalysisInputError(f"{picked[0]}: a picked iteration is re-picked at every look, which no sequential "
                                 "design corrects; replay the comparison at a named iteration (C@3)")  # fmt: skip
    by_arm = {str(c): g.set_index("seed")["score"].sort_index() for c, g in seed_scores.groupby("condition")}
    conds = {condition_of(a) for a in by_arm if a != BASE_ARM}
    available = {c: int(by_arm[c].size) if c in by_arm else 0 for c in conds}
    top = min(design.max_seeds, *available.values()) if available else 0
    seeds_now = dict.fromkeys(conds, min(design.start, top))
    ledger = Ledger()
    for n_look in range(1, 10_000):
        current = {arm: s.iloc[: seeds_now[condition_of(arm)]] if arm != BASE_ARM else s for arm, s in by_arm.items()}
        if BASE_ARM in by_arm:  # the base model's evaluation of a seed exists once its condition runs that seed
            current[BASE_ARM] = by_arm[BASE_ARM].iloc[: max(seeds_now.values())]
        at_max = lambda p, now=seeds_now: reached(p, now, top)  # noqa: E731
        still = look(current, comparisons, design, ledger, at_max, n_look)
        if not still:
            break
        grown = allocate(still, seeds_now, design)
        grown = {c: min(n, top) for c, n in grown.items()}
        if grown == seeds_now:
            break
        seeds_now = grown
    return pd.DataFrame(ledger.records), {c: int(n) for c, n in seeds_now.items()}


def reached(pair: tuple[str, str], seeds_now: dict[str, int], top: int) -> bool:
    """Whether both arms' conditions have ``top`` seeds (the base model follows its condition)."""
    return all(seeds_now[condition_of(x)] >= top for x in pair if x != BASE_ARM)


def seeds_saved(used: dict[str, int], top: int) -> float:
    """Share of the seeds a fixed design at ``top`` seeds per condition would have run that were not needed."""
    total = top * len(used)
    return float(1 - sum(used.values()) / total) if total else float("nan")
