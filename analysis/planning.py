"""Planning for the verdict rule actually used: its power, MDE and seeds needed, by simulation.

The rule (analysis/verdict.py) calls a comparison supported when the seed-level p, adjusted across the
family, is below alpha AND the hierarchical interval excludes 0. Student-t formulas overstate its power
(about 0.70 at the 3v3 t-MDE), so each simulated study here draws per-problem score matrices from the
variance components, on the score scale (fractions), and runs the functions the analysis runs
(``welch_test``, ``hierarchical_bootstrap``, ``small_sample_interval``):

    s[arm, r, i] = delta [arm = b] + u[arm, r] + t[i] [arm = b] + e[arm, r, i]
    u ~ N(0, var_seed)    seed effect           e ~ N(0, residual)   seed x problem cell noise
    t ~ N(0, omega2)      treatment x problem interaction (what the hierarchical interval adds)

Against the base model the rule is the paired t-test (its interval excludes 0 exactly when p < alpha),
whose power is exact for normal per-seed differences (noncentral t, statsmodels ``TTestPower``).

The seed variance is planned at an upper confidence bound, never at the point estimate of a pilot's 2-8
degrees of freedom, and never from an observed delta. ``Noise.with_samples`` gives the components at
another number of samples per problem K: only the sampling part of the residual scales with 1/K.
Simulated studies reuse their random numbers across deltas, so a power curve is smooth in delta.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats
from statsmodels.stats.power import TTestPower

from analysis import bootstrap as bs
from analysis import seedtests
from analysis.estimators import per_problem_scores, variance_components
from analysis.iterations import same_run
from analysis.tables import BASE_ARM, SuiteData


@dataclass(frozen=True)
class Noise:
    """Variance components of one comparison, score scale (fraction solved, squared).

    var_seed: variance of the seed effect u (one seed's whole-run luck).
    residual: variance of a seed x problem cell beyond seed and problem effects (includes ``sampling``).
    sampling: the part of ``residual`` that is the binomial noise of K samples per problem.
    omega2: variance over problems of the treatment x problem interaction (0: deltas shift every problem
        alike).
    n_problems, n_samples: the suite size and K the components were measured at.
    df: degrees of freedom behind ``var_seed_mean`` (inf when assumed, not measured).
    """

    var_seed: float
    residual: float
    sampling: float
    omega2: float
    n_problems: int
    n_samples: int
    df: float = math.inf

    @property
    def var_seed_mean(self) -> float:
        """Variance of one seed's mean score within an arm: ``var_seed + residual / n``."""
        return self.var_seed + self.residual / self.n_problems

    def with_samples(self, k: int) -> Noise:
        """The same components at K = ``k`` samples per problem (only the sampling noise changes)."""
        sampling = self.sampling * self.n_samples / k
        return replace(self, residual=self.residual - self.sampling + sampling, sampling=sampling, n_samples=k)

    def upper(self, confidence: float) -> Noise:
        """The components with ``var_seed_mean`` at its one-sided ``confidence`` upper bound (chi-square on
        ``df``), the extra variance going to the seed effect. Unchanged when ``df`` is infinite."""
        if not math.isfinite(self.df) or self.df <= 0:
            return self
        bound = self.var_seed_mean * self.df / stats.chi2.ppf(1 - confidence, self.df)
        return replace(self, var_seed=bound - self.residual / self.n_problems)


def assumed(sd_seed_mean_pp: float, n_problems: int, n_samples: int = 1) -> Noise:
    """Components from an assumed sd of one seed's mean score (pp), no pilot: all of it seed variance."""
    return Noise((sd_seed_mean_pp / 100) ** 2, 0.0, 0.0, 0.0, n_problems, n_samples)


def sampling_variance(cube: NDArray[np.bool_]) -> float:
    """Mean over (seed, problem) cells of the unbiased variance of a K-sample pass rate,
    ``p (1 - p) / (K - 1)``. cube: (n_seeds, n_problems, K) bool; 0.0 when K = 1 (not separable)."""
    k = cube.shape[2]
    if k < 2:
        return 0.0
    p = cube.mean(axis=2)
    return float(np.mean(p * (1 - p) / (k - 1)))


def measured(data: SuiteData, pair: tuple[str, str] | None = None, k: int = 1) -> Noise:
    """Components of per-problem pass@k from a pilot (``data.outcomes[c]``: (n_seeds_c, n_problems, K) bool).

    The seed-mean variance is pooled over every trained condition with at least 2 seeds (df = sum of
    r_c - 1), and so are the residual and sampling parts; ``omega2`` comes from ``pair`` (treatment,
    baseline) as in the hierarchical bootstrap (0 without a pair). Against the base model (baseline
    BASE_ARM) the seed part describes the per-seed paired differences instead: ``2 var_seed_mean`` is
    their variance, on n_pairs - 1 df. The sampling part is separated for pass@1 only (0 for k > 1).
    """
    scores = {c: per_problem_scores(cube, k) for c, cube in data.outcomes.items()}
    multi = [c for c, s in scores.items() if s.shape[0] >= 2 and c != BASE_ARM and "@" not in c]
    if not multi:
        raise ValueError("the pilot needs at least 2 seeds in a condition to measure the seed spread")
    n = len(data.problems)
    ss, df, residual = _pooled([scores[c] for c in multi])
    pooled = float(np.mean([sampling_variance(data.outcomes[c]) for c in multi])) if k == 1 else 0.0
    sampling = min(residual, pooled)
    n_samples = min(cube.shape[2] for cube in data.outcomes.values())
    if pair is not None and same_run(*pair):
        shared = np.intersect1d(data.seeds[pair[0]], data.seeds[pair[1]])
        if shared.size < 2:
            raise ValueError(f"{pair[0]} and {pair[1]} share fewer than 2 seeds: no paired spread to plan from")
        per = {c: scores[c].mean(axis=1)[np.searchsorted(data.seeds[c], shared)] for c in pair}
        var_diff = float(np.var(per[pair[0]] - per[pair[1]], ddof=1))
        return Noise(var_diff / 2 - residual / n, residual, sampling, 0.0, n, n_samples, float(shared.size - 1))
    omega2 = _omega2(scores[pair[1]], scores[pair[0]]) if pair is not None else 0.0
    return Noise(max(0.0, ss / df - residual / n), residual, sampling, omega2, n, n_samples, float(df))


def _pooled(arms: list[NDArray[np.float64]]) -> tuple[float, int, float]:
    """Over the arms with at least 2 seeds (each (n_seeds_arm, n_problems) scores): the seed means' sum of
    squares about their arm's mean, its df (sum of r - 1), and the mean residual variance (0 without one)."""
    multi = [s for s in arms if s.shape[0] >= 2]
    residual = float(np.mean([variance_components(s).residual for s in multi])) if multi else 0.0
    ss = sum(float(((s.mean(axis=1) - s.mean()) ** 2).sum()) for s in multi)
    return ss, sum(s.shape[0] - 1 for s in multi), residual


def _omega2(s_a: NDArray[np.float64], s_b: NDArray[np.float64]) -> float:
    """Treatment x problem interaction variance of per-problem deltas, as the hierarchical bootstrap
    estimates it: var(D) minus the cells' noise in it. s_a, s_b: (n_seeds_arm, n_problems) scores."""
    d = s_b.mean(axis=0) - s_a.mean(axis=0)
    if d.size < 2:
        return 0.0
    cells = sum(variance_components(s).residual / s.shape[0] for s in (s_a, s_b) if s.shape[0] >= 2)
    return max(0.0, float(d.var(ddof=1)) - cells)


def of_comparison(
    s_a: NDArray[np.float64], s_b: NDArray[np.float64], paired: NDArray[np.float64] | None = None
) -> Noise:
    """Components of one analysed comparison. s_a, s_b: (n_seeds_arm, n_problems) per-problem scores of
    baseline and treatment; ``paired``: per-seed differences when the rule is the paired t-test (then
    ``2 var_seed_mean`` is their variance, on len - 1 df). NaN components when no spread is measurable."""
    n = s_a.shape[1]
    ss, df, residual = _pooled([s_a, s_b])
    if paired is not None:
        if paired.size < 2:
            return Noise(math.nan, residual, 0.0, 0.0, n, 1, math.nan)
        return Noise(float(np.var(paired, ddof=1)) / 2 - residual / n, residual, 0.0, 0.0, n, 1, paired.size - 1.0)
    if df < 1:
        return Noise(math.nan, residual, 0.0, 0.0, n, 1, math.nan)
    return Noise(max(0.0, ss / df - residual / n), residual, 0.0, _omega2(s_a, s_b), n, 1, float(df))


@dataclass(frozen=True)
class Rule:
    """The verdict rule as planned: ``alpha_test`` for the adjusted seed-level p (alpha / m, Holm's first
    step over a family of m), ``alpha`` for the interval's level (1 - alpha); ``paired`` against base@0."""

    alpha: float = 0.05
    alpha_test: float = 0.05
    paired: bool = False


def power_rule(
    noise: Noise, n_seeds: int, delta: float, rule: Rule, sims: int = 500, n_boot: int = 400, seed: int = 0
) -> float:
    """P(supported, in the direction of ``delta``) with ``n_seeds`` per arm; delta in score units."""
    if not math.isfinite(noise.var_seed_mean) or noise.var_seed_mean <= 0:
        return math.nan  # no spread: the tests are undefined, not certain
    if n_seeds < 2:
        return 0.0
    if rule.paired:
        sd = math.sqrt(2 * noise.var_seed_mean)  # sd of one seed's paired difference (see ``measured``)
        got = TTestPower().power(effect_size=abs(delta) / sd, nobs=n_seeds, alpha=rule.alpha_test)
        return float(np.nan_to_num(got, nan=1.0))
    return float(np.mean(_supported(noise, n_seeds, np.array([delta]), rule, sims, n_boot, seed)[:, 0]))


def _supported(
    noise: Noise, r: int, deltas: NDArray[np.float64], rule: Rule, sims: int, n_boot: int, seed: int
) -> NDArray[np.bool_]:
    """(sims, len(deltas)) bool: whether each simulated study is supported, in the direction of its delta.

    Each study is drawn once at delta 0 and analysed once; both statistics are shift-equivariant, so at
    delta the Welch t moves by delta / se on the same df and the hierarchical interval moves by delta
    (the bootstrap resamples centred effects): the same answers as re-running them at every delta.
    """
    n = noise.n_problems
    counts = bs.resample_counts(np.random.default_rng([seed, r, 1]), n, n_boot)
    sd_u, sd_e, sd_t = (math.sqrt(max(v, 0.0)) for v in (noise.var_seed, noise.residual, noise.omega2))
    level = 1 - rule.alpha
    est, se, df_w, lo, hi = (np.empty(sims) for _ in range(5))
    for j in range(sims):
        rng = np.random.default_rng([seed, r, 2, j])
        a = sd_u * rng.standard_normal((r, 1)) + sd_e * rng.standard_normal((r, n))
        b = sd_u * rng.standard_normal((r, 1)) + sd_e * rng.standard_normal((r, n)) + sd_t * rng.standard_normal(n)
        w = seedtests.welch_test(a.mean(axis=1), b.mean(axis=1), level)
        boot, df = bs.hierarchical_bootstrap(a, b, counts, rng)
        lo[j], hi[j] = bs.small_sample_interval(boot, w.delta, df, level)
        est[j], df_w[j] = w.delta, w.df
        se[j] = w.delta / w.t if w.t else math.inf
    shifted = est[:, None] + deltas[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(shifted) / se[:, None], df_w[:, None])
    up = deltas[None, :] >= 0
    excludes = np.where(up, lo[:, None] + deltas[None, :] > 0, hi[:, None] + deltas[None, :] < 0)
    return (p < rule.alpha_test) & excludes


def mde_rule(
    noise: Noise, n_seeds: int, rule: Rule, power: float = 0.8, sims: int = 500, n_boot: int = 400, seed: int = 0
) -> float:
    """Smallest delta (score units) the rule supports with probability ``power`` at ``n_seeds`` per arm;
    NaN below 2 seeds or without a measured spread, inf above a delta of 1 (the whole scale)."""
    if n_seeds < 2 or not math.isfinite(noise.var_seed_mean) or noise.var_seed_mean <= 0:
        return math.nan
    if rule.paired:
        sd = math.sqrt(2 * noise.var_seed_mean)
        d = TTestPower().solve_power(effect_size=None, nobs=n_seeds, alpha=rule.alpha_test, power=power)
        return float(np.asarray(d).item() * sd)
    scale = math.sqrt(2 * noise.var_seed_mean / n_seeds + noise.omega2 / noise.n_problems)
    grid = np.unique(np.minimum(scale * np.geomspace(0.25, 80, 400), 1.0))
    hits = _supported(noise, n_seeds, grid, rule, sims, n_boot, seed).mean(axis=0)
    above = np.nonzero(hits >= power)[0]
    if above.size == 0:
        return math.inf
    i = int(above[0])
    if i == 0:
        return float(grid[0])
    lo, hi = grid[i - 1], grid[i]  # interpolate between the bracketing grid points
    return float(lo + (hi - lo) * (power - hits[i - 1]) / (hits[i] - hits[i - 1]))


def seeds_rule(
    noise: Noise,
    delta: float,
    rule: Rule,
    power: float = 0.8,
    sims: int = 500,
    n_boot: int = 400,
    seed: int = 0,
    cap: int = 200,
) -> float:
    """Fewest seeds per arm (>= 2) at which the rule supports ``delta`` (score units) with ``power``;
    inf beyond ``cap``, NaN without a measured spread. Searched by doubling, then bisection on the simulated power."""
    if not math.isfinite(noise.var_seed_mean) or noise.var_seed_mean <= 0:
        return math.nan
    if delta == 0:
        return math.inf
    if rule.paired:
        sd = math.sqrt(2 * noise.var_seed_mean)
        d = abs(delta) / sd

        def achieved(r: float) -> float:
            return float(np.nan_to_num(TTestPower().power(effect_size=d, nobs=r, alpha=rule.alpha_test), nan=1.0))

        if achieved(2) >= power:
            return 2.0
        if achieved(cap) < power:
            return math.inf
        return float(math.ceil(optimize.brentq(lambda r: achieved(r) - power, 2, cap, xtol=1e-6) - 1e-6))
    ok = lambda r: power_rule(noise, r, delta, rule, sims, n_boot, seed) >= power  # noqa: E731
    lo, hi = 1, 2
    while not ok(hi):
        if hi >= cap:
            return math.inf
        lo, hi = hi, min(hi * 2, cap)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return float(hi)
