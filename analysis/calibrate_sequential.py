"""Calibration of the adaptive-seeds design (`python -m analysis.calibrate --sequential`).

Every row runs whole adaptive studies through ``analysis.sequential.simulate`` (the same ``decide_rows``
a study's looks use): under the null the share ending 'supported' is the procedure's type-I error, target
[0.03, 0.05] at alpha 0.05 up to Monte Carlo error; at the declared effect its power and the mean seeds
per arm it used, beside the seeds a fixed design needs for the same power (the saving). Rows beyond
normal seeds of equal spread: a treatment whose seed sd is 3x the baseline's (Welch's small-sample p
depends on that ratio), the paired design against the base model, and per-seed scores built from
per-problem pass/fail outcomes (analysis/simulate.py) at tiny's and at HumanEval's size.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize

from analysis.sequential import Design, fixed_seeds_for, simulate
from analysis.simulate import SimModel, draw_seed_scores, expected_score

SEQUENTIAL_TYPE_I = (0.03, 0.05)


@dataclass(frozen=True)
class Row:
    """One calibrated design: normal seeds of sd ``design.sd_pp`` (the treatment's ``spread`` times the
    baseline's), or per-problem outcomes from ``model`` (its seed sd then measured); ``paired`` by seed."""

    name: str
    design: Design
    spread: float = 1.0
    paired: bool = False
    model: SimModel | None = None


ROWS = (
    Row("3 seeds + 2 per look up to 15, sd 3 pp, effect 5 pp", Design(3, 2, 15, 5.0, 3.0)),
    Row("3 seeds + 3 per look up to 21, sd 4 pp, effect 4 pp", Design(3, 3, 21, 4.0, 4.0)),
    Row("5 seeds + 5 per look up to 30, sd 3 pp, effect 3 pp, margin 2 pp", Design(5, 5, 30, 3.0, 3.0, 2.0)),
    Row("as the first, the treatment's seed sd 3x the baseline's", Design(3, 2, 15, 5.0, 3.0), spread=3.0),
    Row("as the first, paired by seed (against the base model)", Design(3, 2, 15, 5.0, 3.0), paired=True),
    Row(
        "tiny-sized: 40 problems x 4 samples, 3 + 2 up to 15, effect 10 pp",
        Design(3, 2, 15, 10.0, 0.0),
        model=SimModel(n_seeds=15, n_problems=40, n_samples=4, sd_seed=0.3),
    ),
    Row(
        "HumanEval-sized: 164 problems x 5 samples, 3 + 3 up to 21, effect 4 pp",
        Design(3, 3, 21, 4.0, 0.0),
        model=SimModel(n_seeds=21, n_problems=164, n_samples=5, sd_seed=0.15),
    ),
)


def scores(row: Row, effect_pp: float, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(baseline, treatment) per-seed scores, each (n, max_seeds), at a true effect of ``effect_pp``."""
    d = row.design
    if row.model is None:
        a = rng.normal(0.0, d.sd_pp / 100, (n, d.max_seeds))
        return a, rng.normal(effect_pp / 100, row.spread * d.sd_pp / 100, (n, d.max_seeds))
    return draw_seed_scores(rng, row.model, (0.0, logit_shift(row.model, effect_pp)), n)


def logit_shift(model: SimModel, effect_pp: float) -> float:
    """The logit shift that raises the model's expected pass@1 by ``effect_pp``."""
    if effect_pp == 0:
        return 0.0
    base = expected_score(model, 0.0)
    return float(optimize.brentq(lambda s: expected_score(model, s) - base - effect_pp / 100, -5.0, 5.0))


def sequential_table(n_studies: int, seed: int, start: float) -> int:
    """Print one row per design: type-I error with its Monte Carlo error, power and mean seeds per arm at
    the declared effect, the fixed design's seeds for that power, the saving. Per-problem rows run a fifth
    of ``n_studies``. Returns 1 when a type-I error is outside its target beyond Monte Carlo error."""
    import time

    children = np.random.default_rng(seed).spawn(len(ROWS))
    print(f"{'design':<72} {'type-I':>16} {'power':>6} {'mean seeds':>10} {'fixed seeds':>11} {'saving':>7}")
    ok = True
    for row, rng in zip(ROWS, children, strict=True):
        n = n_studies if row.model is None else max(1, n_studies // 5)
        design = row.design
        null = scores(row, 0.0, n, rng)
        if row.model is not None:  # the seed sd the fixed design is planned with: measured, pooled
            design = replace(design, sd_pp=100 * float(np.sqrt(np.mean(null[0].var(axis=1, ddof=1)))))
        got = simulate(design, 0.0, n, rng, scores=null, paired=row.paired)
        hit = simulate(design, design.effect_pp, n, rng, scores=scores(row, design.effect_pp, n, rng),
                       paired=row.paired)  # fmt: skip
        sd = design.sd_pp * (np.sqrt((1 + row.spread**2) / 2) if not row.paired else 1.0)
        fixed = fixed_seeds_for(hit["supported"], design.effect_pp, sd, paired=row.paired)
        rate = got["supported"]
        half = 1.96 * np.sqrt(rate * (1 - rate) / n)  # Monte Carlo error of the estimate
        ok &= SEQUENTIAL_TYPE_I[0] - half <= rate <= SEQUENTIAL_TYPE_I[1] + half
        print(f"{row.name:<72} {rate:>7.4f} +/- {half:.4f} {hit['supported']:>6.3f} {hit['mean_seeds']:>10.1f} "
              f"{fixed:>11d} {1 - hit['mean_seeds'] / fixed:>7.0%}")  # fmt: skip
    print(f"\n{n_studies} studies per row ({max(1, n_studies // 5)} for per-problem rows), seed {seed}, "
          f"{time.perf_counter() - start:.0f} s; seeds per arm; type-I target {list(SEQUENTIAL_TYPE_I)} up to "
          f"Monte Carlo error: {'met' if ok else 'NOT met'}")  # fmt: skip
    return 0 if ok else 1
