"""Group-sequential decisions over seeds: Lan-DeMets O'Brien-Fleming alpha spending and repeated
confidence intervals, so that adding seeds until a comparison resolves keeps its error rates.

"Add seeds until it is significant" tests the same comparison again and again; each look spends some of
alpha. Here the looks come after batches of seeds, at information fractions ``t_k`` (the comparison's
information, ``1 / (1/n_a + 1/n_b)`` for n seeds per arm, over its value at the planned maximum), and
the Lan-DeMets spending function of O'Brien-Fleming type, ``alpha(t) = 2 - 2 Phi(z_{1-alpha/2} /
sqrt(t))``, spends almost nothing early and nearly all of alpha at the end. The two-sided boundaries
``c_k`` solve ``P(|Z_j| < c_j for j < k, |Z_k| >= c_k) = alpha(t_k) - alpha(t_{k-1})`` for the
canonical joint normal of the statistics (``corr(Z_i, Z_j) = sqrt(t_i / t_j)``), computed at the
fractions actually reached (so a look may be skipped or a batch run short without breaking the design).

With few seeds the statistic is Welch's t, not z, and the normal-theory levels ``2 (1 - Phi(c_k))`` let
through about 0.055-0.06 with 3 seeds per arm at the first look. So each look's nominal p-value level ``q_k``
is set by simulating the Welch p-values of the same looks under the null (``nominal_levels``: first rejections
spend at most the increments of alpha(t), at the least favourable ratio of the arms' seed sds within a factor
3, since Welch's small-sample p is not free of that ratio), and the repeated confidence interval is ``delta
+/- t_{df, 1 - q_k / 2} se`` (Jennison & Turnbull, ch. 3.8 and 9). Its simultaneous coverage over all looks is
what makes both decisions valid at any look: **supported** when it excludes 0, **equivalent within +/-E** when
it lies inside (-E, E). **Futile** (non-binding, so it costs no alpha) when even at the planned maximum the
declared effect would be detected with conditional power below ``futility_power``. Type-I error and power of
the whole procedure are calibrated by ``python -m analysis.calibrate --sequential`` (``simulate``, through the
same ``decide_rows``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import TypedDict, Unpack

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

SUPPORTED = "supported"
EQUIVALENT = "equivalent"
FUTILE = "futile"
CONTINUE = "continue"
UNRESOLVED = "unresolved at the maximum"


def obf_spent(t: float, alpha: float = 0.05) -> float:
    """Alpha spent by information fraction ``t`` in (0, 1]: ``2 - 2 Phi(z_{1-alpha/2} / sqrt(t))``."""
    if t <= 0:
        return 0.0
    return float(2 - 2 * stats.norm.cdf(stats.norm.ppf(1 - alpha / 2) / math.sqrt(min(t, 1.0))))


def _inside(bounds: NDArray[np.float64], fractions: NDArray[np.float64]) -> float:
    """P(|Z_j| < bounds_j for every j) under the canonical joint normal at ``fractions``."""
    k = bounds.size
    if k == 1:
        return float(2 * stats.norm.cdf(bounds[0]) - 1)
    cov = np.sqrt(np.minimum.outer(fractions, fractions) / np.maximum.outer(fractions, fractions))
    mvn = stats.multivariate_normal(np.zeros(k), cov, seed=0, maxpts=50_000 * k, abseps=1e-6, releps=1e-6)
    return float(mvn.cdf(bounds, lower_limit=-bounds))


@lru_cache(maxsize=256)
def boundaries(fractions: tuple[float, ...], alpha: float = 0.05) -> tuple[float, ...]:
    """Two-sided z boundaries at increasing information ``fractions`` (the last may be below 1 when the
    study stopped early; a final look at 1 spends all of alpha). Solved look by look (module docstring)."""
    t = np.asarray(fractions, dtype=float)
    if t.size == 0 or np.any(np.diff(t) <= 0) or t[0] <= 0 or t[-1] > 1 + 1e-9:
        raise ValueError(f"information fractions must increase within (0, 1]; got {fractions}")
    out: list[float] = []
    for k in range(t.size):
        target = obf_spent(float(t[k]), alpha) - obf_spent(float(t[k - 1]), alpha) if k else obf_spent(t[0], alpha)
        before = _inside(np.array(out), t[:k]) if out else 1.0

        def gap(c: float, k: int = k, before: float = before, target: float = target) -> float:
            return before - _inside(np.array([*out, c]), t[: k + 1]) - target

        if target <= 1e-12:
            out.append(8.0)  # nothing to spend here: a boundary no statistic reaches
            continue
        out.append(float(optimize.brentq(gap, 0.5, 10.0, xtol=1e-7)))
    return tuple(out)


@dataclass(frozen=True)
class Look:
    """One comparison at one look: the statistic, the boundary it was held against, the decision (pp)."""

    look: int
    n_baseline: int
    n_treatment: int
    fraction: float
    delta_pp: float
    se_pp: float
    df: float
    p: float
    boundary_z: float
    nominal_p: float
    rci_low_pp: float
    rci_high_pp: float
    conditional_power: float
    decision: str


def information(n_a: int, n_b: int) -> float:
    """The comparison's information in seeds: ``1 / (1/n_a + 1/n_b)`` (its variance is sigma^2 over it)."""
    return 1.0 / (1.0 / n_a + 1.0 / n_b)


def t_tests(
    a: NDArray[np.float64], b: NDArray[np.float64], paired: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Row by row, baseline a (m, n_a) against treatment b (m, n_b): (delta, se, df, two-sided p), each (m,).
    Welch's t (scipy ``ttest_ind``, unequal variances), or with ``paired`` the one-sample t of b - a
    (``ttest_1samp``; equal widths). Rows without spread get se 0 and p NaN: no test."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy on rows without spread; handled below
        if paired:
            d = b - a
            res = stats.ttest_1samp(d, 0.0, axis=1)
            se = d.std(axis=1, ddof=1) / np.sqrt(d.shape[1])
        else:
            res = stats.ttest_ind(b, a, axis=1, equal_var=False)
            se = np.sqrt(a.var(axis=1, ddof=1) / a.shape[1] + b.var(axis=1, ddof=1) / b.shape[1])
    delta = b.mean(axis=1) - a.mean(axis=1)
    p = np.where(se > 1e-9 * np.maximum(1.0, np.abs(delta)), res.pvalue, np.nan)  # rounding spread: no test
    return delta, se, np.asarray(res.df, dtype=float), p


SPREAD_RATIOS = (1 / 3, 1 / 2, 1.0, 2.0, 3.0)
"""Seed sd of the treatment over the baseline's that the Welch levels hold for (the least favourable)."""


@lru_cache(maxsize=256)
def nominal_levels(
    looks: tuple[tuple[int, int], ...], max_seeds: int, alpha: float = 0.05, n_sim: int = 200_000, paired: bool = False
) -> tuple[float, ...]:
    """The p-value each look must beat, for looks with (n_baseline, n_treatment) seeds: chosen so that for
    normal seeds under the null the first rejection happens at look k with probability at most
    alpha(t_k) - alpha(t_{k-1}) (a simulation of ``n_sim`` null studies with a fixed seed). Normal-theory
    levels (``2 (1 - Phi(c_k))``) are too lenient with 3-5 seeds per arm, where the looks' t statistics
    share noisy variance estimates. Welch's p depends on the arms' ratio of seed sds, so each level is the
    smallest over ``SPREAD_RATIOS`` (exact at the least favourable ratio, conservative at the others).
    ``paired``: the one-sample t of per-seed differences (one run against itself, or the base model),
    whose p is free of the spread."""
    fractions = fractions_for(list(looks), max_seeds)
    spent = [obf_spent(t, alpha) for t in fractions]
    rng = np.random.default_rng(20_260_101)
    width = max(max_seeds, *(n for pair in looks for n in pair))  # one draw for every prefix: nested looks
    a = rng.standard_normal((n_sim, width))
    b = rng.standard_normal((n_sim, width))
    ratios = (1.0,) if paired else SPREAD_RATIOS
    if all(na == nb for na, nb in looks):  # equal seeds: r and 1/r give Welch's p the same distribution
        ratios = tuple(r for r in ratios if r >= 1)
    alive = np.ones((len(ratios), n_sim), dtype=bool)
    out = []
    for k, (na, nb) in enumerate(looks):
        p = np.stack([t_tests(a[:, :na], r * b[:, :nb], paired)[3] for r in ratios])
        hits = round((spent[k] - (spent[k - 1] if k else 0.0)) * n_sim)
        q = min(_level(p[i][alive[i]], hits) for i in range(len(ratios)))
        q = min(q, alpha)  # with 2-3 seeds Welch's p is conservative; never lean on it beyond alpha
        alive &= ~(p < q)
        out.append(q)
    return tuple(out)


def _level(p: NDArray[np.float64], hits: int) -> float:
    """The level below which exactly ``hits`` of the p-values fall (midway between neighbours)."""
    if hits <= 0:
        return 0.0
    if hits >= p.size:
        return 1.0
    left = np.partition(p, (hits - 1, hits))
    return float((left[hits - 1] + left[hits]) / 2)


@dataclass(frozen=True)
class Decisions:
    """Many comparisons at one look, each array (m,): estimates and intervals as fractions (not pp)."""

    delta: NDArray[np.float64]
    se: NDArray[np.float64]
    df: NDArray[np.float64]
    p: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    conditional_power: NDArray[np.float64]
    decision: NDArray[np.str_]
    fraction: float
    nominal_p: float


def decide_rows(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    looks: tuple[tuple[int, int], ...],
    *,
    max_seeds: int,
    alpha: float = 0.05,
    margin_pp: float | None = None,
    effect_pp: float | None = None,
    futility_power: float = 0.1,
    final: bool = False,
    paired: bool = False,
) -> Decisions:
    """The decisions at the last of ``looks`` for m comparisons at once: baseline ``a`` (m, n_a) vs
    treatment ``b`` (m, n_b) per-seed scores. One code path for a study's looks (``decide``) and for the
    calibration's hundreds of thousands of simulated studies (``simulate``)."""
    k = len(looks) - 1
    nominal = nominal_levels(looks, max_seeds, alpha, paired=paired)[k]
    fractions = fractions_for(list(looks), max_seeds)
    delta, se, df, p = t_tests(a, b, paired)
    tested = np.isfinite(p)
    crit = stats.t.ppf(1 - nominal / 2, df) if nominal > 0 else np.full(delta.shape, np.inf)
    half = np.where(tested, crit * se, np.inf)
    se = np.where(tested, se, np.nan)
    low, high = delta - half, delta + half
    cp = np.full(delta.shape, np.nan)
    if effect_pp is not None:
        cp = conditional_power(delta, se, fractions[k], effect_pp, boundaries_final(fractions, alpha))
    decision = np.full(delta.shape, UNRESOLVED if final else CONTINUE, dtype=object)
    futile = np.isfinite(cp) & (cp < futility_power)
    decision[futile] = FUTILE
    if margin_pp is not None:
        decision[(-margin_pp / 100 < low) & (high < margin_pp / 100)] = EQUIVALENT
    decision[tested & (p < nominal) & ((low > 0) | (high < 0))] = SUPPORTED
    return Decisions(delta, se, df, p, low, high, cp, decision.astype(str), fractions[k], nominal)


class Options(TypedDict, total=False):
    """``decide_rows``'s keyword options besides ``max_seeds`` (what ``decide`` passes on)."""

    alpha: float
    margin_pp: float | None
    effect_pp: float | None
    futility_power: float
    final: bool
    paired: bool


def decide(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    looks: tuple[tuple[int, int], ...],
    *,
    max_seeds: int,
    **options: Unpack[Options],
) -> Look:
    """The decision at the last of ``looks`` ((n_baseline, n_treatment) seeds at each look so far) of
    baseline ``a`` vs treatment ``b`` per-seed scores (fractions of problems solved, shapes (n_a,), (n_b,)),
    through ``decide_rows``. ``final``: no seeds will follow (an undecided comparison ends unresolved).
    ``paired``: a and b are the same seeds' runs in the same order (one run at two iterations, or against
    the base model): the one-sample t of their differences. Supported beats equivalent beats futile."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    got = decide_rows(a[None, :], b[None, :], looks, max_seeds=max_seeds, **options)
    nominal = got.nominal_p
    z = float(stats.norm.isf(nominal / 2)) if nominal > 0 else math.inf
    return Look(len(looks) - 1, a.size, b.size, got.fraction, 100 * float(got.delta[0]), 100 * float(got.se[0]),
                float(got.df[0]), float(got.p[0]), z, nominal, 100 * float(got.low[0]), 100 * float(got.high[0]),
                float(got.conditional_power[0]), str(got.decision[0]))  # fmt: skip


def boundaries_final(fractions: tuple[float, ...], alpha: float) -> float:
    """The boundary a final look at fraction 1 would face after these looks."""
    if fractions[-1] >= 1 - 1e-9:
        return boundaries(fractions, alpha)[-1]
    return boundaries((*fractions, 1.0), alpha)[-1]


def conditional_power(
    delta: NDArray[np.float64], se: NDArray[np.float64], t: float, effect_pp: float | None, c_final: float
) -> NDArray[np.float64]:
    """P(the final look at fraction 1 rejects | the estimate so far, a true effect of +/-``effect_pp``),
    the larger of the two directions, on the Brownian-motion scale: ``B(t) = Z(t) sqrt(t)``, drift
    ``theta = effect / se(1)`` with ``se(1) = se sqrt(t)``. Arrays (m,) of fractions; NaN without a
    declared effect or spread, or at the maximum."""
    delta, se = np.asarray(delta, dtype=float), np.asarray(se, dtype=float)
    ok = np.isfinite(se) & (se > 0)
    if effect_pp is None or t >= 1 or not ok.any():
        return np.full(delta.shape, np.nan)
    se = np.where(ok, se, 1.0)
    b_now = (delta / se) * math.sqrt(t)
    theta = (effect_pp / 100) / (se * math.sqrt(t))
    rest = math.sqrt(1 - t)
    up = stats.norm.sf((c_final - b_now - theta * (1 - t)) / rest)
    down = stats.norm.cdf((-c_final - b_now + theta * (1 - t)) / rest)
    return np.where(ok, np.maximum(up, down), np.nan)


def fractions_for(seeds: list[tuple[int, int]], max_seeds: int) -> tuple[float, ...]:
    """Information fractions of looks with (n_baseline, n_treatment) seeds, over the maximum (both arms at
    ``max_seeds``)."""
    top = information(max_seeds, max_seeds)
    return tuple(min(1.0, information(na, nb) / top) for na, nb in seeds)


@dataclass(frozen=True)
class Design:
    """An adaptive design for one comparison: ``start`` seeds per arm, then ``batch`` more per look, up to
    ``max_seeds``; ``effect_pp`` is the declared effect (planning and futility), sds in pp."""

    start: int
    batch: int
    max_seeds: int
    effect_pp: float
    sd_pp: float
    margin_pp: float | None = None

    def looks(self) -> list[int]:
        """Seeds per arm at each look."""
        return sorted({*range(self.start, self.max_seeds, self.batch), self.max_seeds})


def simulate(
    design: Design,
    effect_pp: float,
    n_studies: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
    scores: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    paired: bool = False,
) -> dict:
    """Run ``n_studies`` adaptive comparisons at once, all through ``decide_rows``: per-seed scores
    ~ N(0 | effect, sd^2) (pp / 100), or the given ``scores`` (baseline, treatment), each (n_studies,
    max_seeds). Returns the share ending supported, equivalent, futile or unresolved, and the mean seeds
    per arm used."""
    if scores is None:
        a = rng.normal(0.0, design.sd_pp / 100, (n_studies, design.max_seeds))
        b = rng.normal(effect_pp / 100, design.sd_pp / 100, (n_studies, design.max_seeds))
    else:
        a, b = scores
    looks = design.looks()
    ended = np.full(n_studies, "", dtype=object)
    used = np.zeros(n_studies)
    alive = np.arange(n_studies)
    for k, n in enumerate(looks):
        got = decide_rows(a[alive, :n], b[alive, :n], tuple((m, m) for m in looks[: k + 1]),
                          max_seeds=design.max_seeds, alpha=alpha, margin_pp=design.margin_pp,
                          effect_pp=design.effect_pp, final=k == len(looks) - 1, paired=paired)  # fmt: skip
        stop = got.decision != CONTINUE
        ended[alive[stop]] = got.decision[stop]
        used[alive[stop]] = n
        alive = alive[~stop]
    shares = {d: float(np.mean(ended == d)) for d in (SUPPORTED, EQUIVALENT, FUTILE, UNRESOLVED)}
    return shares | {"mean_seeds": float(used.mean())}


def fixed_seeds_for(power: float, effect_pp: float, sd_pp: float, alpha: float = 0.05, paired: bool = False) -> int:
    """Seeds per arm a fixed design needs for ``power`` at the effect (statsmodels): the two-sample t, or
    with ``paired`` the one-sample t of per-seed differences (their sd ``sd_pp`` sqrt(2))."""
    from analysis.power import seeds_needed

    if not paired:
        return int(seeds_needed(effect_pp / 100, sd_pp / 100, alpha, power))
    from statsmodels.stats.power import TTestPower

    size = effect_pp / (sd_pp * math.sqrt(2))
    return math.ceil(TTestPower().solve_power(effect_size=size, alpha=alpha, power=power) - 1e-6)
