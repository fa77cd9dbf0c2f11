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

With few seeds the statistic is Welch's t, not z, and the normal-theory levels ``2 (1 - Phi(c_k))``
let through about 0.055-0.06 with 3 seeds per arm at the first look. So each look's nominal p-value
level ``q_k`` is set by simulating the Welch p-values of the same looks under the null (``nominal_levels``:
first rejections spend exactly the increments of alpha(t)), and the repeated confidence interval is
``delta +/- t_{df, 1 - q_k / 2} se`` (Jennison & Turnbull, ch. 3.8 and 9). Its simultaneous coverage over all
looks is what makes both decisions valid at any look: **supported** when it excludes 0, **equivalent
within +/-E** when it lies inside (-E, E). **Futile** (non-binding, so it costs no alpha) when even at the
planned maximum the declared effect would be detected with conditional power below ``futility_power``.
Type-I error and power of the whole procedure are calibrated by ``calibrate_sequential``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

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


def paired_p(d: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two-sided one-sample t p-values row by row: d (m, n) per-seed differences -> (m,) (scipy ttest_1samp)."""
    n = d.shape[1]
    t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / np.sqrt(n))
    return 2 * stats.t.sf(np.abs(t), n - 1)


def welch_p(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two-sided Welch p-values row by row: a (m, n_a), b (m, n_b) -> (m,) (scipy's ttest_ind, vectorised)."""
    va, vb = a.var(axis=1, ddof=1) / a.shape[1], b.var(axis=1, ddof=1) / b.shape[1]
    t = (b.mean(axis=1) - a.mean(axis=1)) / np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.shape[1] - 1) + vb**2 / (b.shape[1] - 1))
    return 2 * stats.t.sf(np.abs(t), df)


@lru_cache(maxsize=256)
def nominal_levels(
    looks: tuple[tuple[int, int], ...], max_seeds: int, alpha: float = 0.05, n_sim: int = 200_000, paired: bool = False
) -> tuple[float, ...]:
    """The Welch p-value each look must beat, for looks with (n_baseline, n_treatment) seeds: chosen so
    that, for normal seeds of equal spread under the null (Welch's p is then free of the spread), the
    first rejection happens at look k with probability alpha(t_k) - alpha(t_{k-1}) exactly (a simulation
    of ``n_sim`` null studies with a fixed seed). Normal-theory levels (``2 (1 - Phi(c_k))``) are too
    lenient with 3-5 seeds per arm, where the looks' t statistics share noisy variance estimates.
    ``paired``: the one-sample t of per-seed differences (one run against itself, or the base model)."""
    fractions = fractions_for(list(looks), max_seeds)
    spent = [obf_spent(t, alpha) for t in fractions]
    rng = np.random.default_rng(20_260_101)
    width = max(max_seeds, *(n for pair in looks for n in pair))  # one draw for every prefix: nested looks
    a = rng.standard_normal((n_sim, width))
    b = rng.standard_normal((n_sim, width))
    alive = np.ones(n_sim, dtype=bool)
    out = []
    for k, (na, nb) in enumerate(looks):
        p = paired_p(b[:, :nb] - a[:, :nb]) if paired else welch_p(a[:, :na], b[:, :nb])
        hits = round((spent[k] - (spent[k - 1] if k else 0.0)) * n_sim)
        left = np.sort(p[alive])
        if hits <= 0:
            q = 0.0
        elif hits >= left.size:
            q = 1.0
        else:
            q = float((left[hits - 1] + left[hits]) / 2)
        q = min(q, alpha)  # with 2-3 seeds Welch's p is conservative; never lean on it beyond alpha
        alive &= ~(p < q)
        out.append(q)
    return tuple(out)


def decide(
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
) -> Look:
    """The decision at the last of ``looks`` ((n_baseline, n_treatment) seeds at each look so far) of
    baseline ``a`` vs treatment ``b`` per-seed scores (fractions of problems solved, shapes (n_a,), (n_b,)).
    ``final``: no seeds will follow (an unresolved comparison ends unresolved). ``paired``: a and b are the
    same seeds' runs in the same order (one run at two iterations, or against the base model): the
    one-sample t of their differences."""
    k = len(looks) - 1
    nominal = nominal_levels(looks, max_seeds, alpha, paired=paired)[k]
    fractions = fractions_for(list(looks), max_seeds)
    res = stats.ttest_1samp(b - a, 0.0) if paired else stats.ttest_ind(b, a, equal_var=False)
    delta = float(b.mean() - a.mean())
    df = float(res.df)
    if res.statistic:
        se = abs(delta / res.statistic)
    elif paired:
        se = float(np.std(b - a, ddof=1) / math.sqrt(a.size))
    else:
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    crit = float(stats.t.ppf(1 - nominal / 2, df)) if nominal > 0 else math.inf
    half = crit * se if math.isfinite(df) and se > 0 else math.inf
    p = float(res.pvalue)
    if not se > 1e-9 * max(1.0, abs(delta)):  # every seed moved alike up to rounding: no spread, no test
        p, se, half = math.nan, math.nan, math.inf
    lo, hi = 100 * (delta - half), 100 * (delta + half)
    cp = math.nan
    if effect_pp is not None:
        cp = conditional_power(delta, se, fractions[k], effect_pp, boundaries_final(fractions, alpha))
    if math.isfinite(p) and p < nominal and (lo > 0 or hi < 0):
        decision = SUPPORTED
    elif margin_pp is not None and -margin_pp < lo and hi < margin_pp:
        decision = EQUIVALENT
    elif effect_pp is not None and math.isfinite(cp) and cp < futility_power:
        decision = FUTILE
    else:
        decision = UNRESOLVED if final else CONTINUE
    z = float(stats.norm.isf(nominal / 2)) if nominal > 0 else math.inf
    return Look(k, a.size, b.size, fractions[k], 100 * delta, 100 * se, df, p, z, nominal, lo, hi, cp, decision)


def boundaries_final(fractions: tuple[float, ...], alpha: float) -> float:
    """The boundary a final look at fraction 1 would face after these looks."""
    if fractions[-1] >= 1 - 1e-9:
        return boundaries(fractions, alpha)[-1]
    return boundaries((*fractions, 1.0), alpha)[-1]


def conditional_power(delta: float, se: float, t: float, effect_pp: float | None, c_final: float) -> float:
    """P(the final look at fraction 1 rejects | the estimate so far, a true effect of +/-``effect_pp``),
    the larger of the two directions, on the Brownian-motion scale: ``B(t) = Z(t) sqrt(t)``, drift
    ``theta = effect / se(1)`` with ``se(1) = se sqrt(t)``. NaN without a declared effect or spread."""
    if effect_pp is None or not (se > 0 and math.isfinite(se)) or t >= 1:
        return math.nan
    b_now = (delta / se) * math.sqrt(t)
    theta = (effect_pp / 100) / (se * math.sqrt(t))
    rest = math.sqrt(1 - t)
    up = stats.norm.sf((c_final - b_now - theta * (1 - t)) / rest)
    down = stats.norm.cdf((-c_final - b_now + theta * (1 - t)) / rest)
    return float(max(up, down))


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


def simulate(design: Design, effect_pp: float, n_studies: int, rng: np.random.Generator, alpha: float = 0.05) -> dict:
    """Run ``n_studies`` adaptive comparisons with per-seed scores ~ N(0 | effect, sd^2) (pp / 100): the
    share ending supported, equivalent, futile or unresolved, and the mean seeds per arm used."""
    looks = design.looks()
    counts = dict.fromkeys((SUPPORTED, EQUIVALENT, FUTILE, UNRESOLVED), 0)
    used = 0
    for _ in range(n_studies):
        a = rng.normal(0.0, design.sd_pp / 100, design.max_seeds)
        b = rng.normal(effect_pp / 100, design.sd_pp / 100, design.max_seeds)
        for k, n in enumerate(looks):
            got = decide(a[:n], b[:n], tuple((m, m) for m in looks[: k + 1]), max_seeds=design.max_seeds,
                         alpha=alpha, margin_pp=design.margin_pp, effect_pp=design.effect_pp,
                         final=k == len(looks) - 1)  # fmt: skip
            if got.decision != CONTINUE:
                counts[got.decision] += 1
                used += n
                break
    return {k: v / n_studies for k, v in counts.items()} | {"mean_seeds": used / n_studies}


def fixed_seeds_for(power: float, effect_pp: float, sd_pp: float, alpha: float = 0.05) -> int:
    """Seeds per arm a fixed Welch design needs for ``power`` at the effect (statsmodels, t-test)."""
    from analysis.power import seeds_needed

    return int(seeds_needed(effect_pp / 100, sd_pp / 100, alpha, power))
