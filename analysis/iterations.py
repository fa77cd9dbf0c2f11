"""Comparisons that name an iteration per arm: ``C@2`` is condition C at iteration 2, ``C@best`` the
iteration where C looks best against its baseline, corrected for having picked it.

Seed document 000 reports "iteration 1: -3.9 pp", a pick among three iterations; 001 reports the best of
8 checkpoints. Picking the extreme of T correlated estimates inflates both the delta and its
significance. For ``C@best`` the iteration is chosen on one suite (the study's ``select_on`` suite, else
the primary one) as the largest mean delta, and:

- ``p_maxt``: the single-step max-T p-value (Westfall-Young): the chance under "no iteration differs" that
  the largest |t| over the T iterations reaches the picked one's. Against the base model (each seed's own
  iteration 0) the per-seed trajectories of differences are sign-flipped whole (exact over 2^n seeds, a
  Monte Carlo draw beyond); against another condition the null is drawn from a normal model with the
  trajectories' covariance (the baseline shared by every iteration), 10,000 studies, Welch t each.
- ``optimism_pp``: the selection bias, by a bootstrap of seeds within each arm: the mean over resamples
  of (resample's best delta minus the full data's delta at that same iteration). The delta less it is
  what an honest pick is expected to show.

Other suites report the chosen iteration without correction: the choice was made elsewhere.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from analysis.tables import AnalysisInputError
from trainables.common.metrics import BASE_ARM

_ARM = re.compile(r"^(?P<cond>.+)@(?P<it>\d+|best)$")
BEST = "best"
MAX_EXACT_FLIPS = 4096


def parse(token: str) -> tuple[str, int | str] | None:
    """'C@2' -> ('C', 2), 'C@best' -> ('C', 'best'); None for a plain condition and for BASE_ARM."""
    if token == BASE_ARM:
        return None
    m = _ARM.match(token)
    if not m:
        return None
    it = m.group("it")
    return m.group("cond"), (BEST if it == BEST else int(it))


def condition_of(token: str) -> str:
    """The condition whose runs an arm reads (BASE_ARM reads each seed's own iteration 0)."""
    parsed = parse(token)
    return parsed[0] if parsed else token


def same_run(treatment: str, baseline: str) -> bool:
    """Whether the two arms are the same runs (against the base model, or one condition at two iterations):
    then they are paired by seed."""
    return baseline == BASE_ARM or condition_of(treatment) == condition_of(baseline)


def with_arms(df: pd.DataFrame, tokens: dict[str, int]) -> pd.DataFrame:
    """The table plus, per token (arm name -> iteration), that condition's rows at that iteration, renamed."""
    frames = [df]
    for token, it in tokens.items():
        cond = condition_of(token)
        rows = df[(df["condition"] == cond) & (df["iteration"] == it)]
        if rows.empty:
            have = sorted(df.loc[df["condition"] == cond, "iteration"].unique().tolist())
            raise AnalysisInputError(f"{token}: no outcomes of {cond} at iteration {it}; it has iterations {have}")
        frames.append(rows.assign(condition=token))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Selected:
    """The iteration ``C@best`` stands for, chosen on ``suite`` against ``baseline`` (deltas in pp)."""

    token: str
    baseline: str
    suite: str
    iteration: int
    iterations: tuple[int, ...]
    delta_pp: float
    p_naive: float
    p_maxt: float
    optimism_pp: float
    null_draws: int

    def note(self) -> str:
        its = f"{self.iterations[0]}..{self.iterations[-1]}" if len(self.iterations) > 1 else str(self.iterations[0])
        return (f"{self.token} vs {self.baseline}: iteration {self.iteration} of {its} picked on suite {self.suite} "
                f"(delta {self.delta_pp:+.2f} pp); p {self.p_naive:.3g} as if fixed in advance, {self.p_maxt:.3g} "
                f"corrected for the pick (max-T over {len(self.iterations)} iterations); selection optimism "
                f"{self.optimism_pp:+.2f} pp, so an honest pick would show about "
                f"{self.delta_pp - self.optimism_pp:+.2f} pp")  # fmt: skip


def select_best(
    token: str,
    baseline: str,
    suite: str,
    scores: pd.DataFrame,
    base_iteration: int,  # the baseline's iteration (0 for the base model)
    rng: np.random.Generator,
    n_resamples: int = 10_000,
) -> Selected:
    """Pick ``token``'s iteration (module docstring). scores: (suite, condition, seed, iteration, score), the
    per-seed mean over problems of pass@k (analysis.selection.scores); base_iteration: the baseline's."""
    cond = condition_of(token)
    paired = same_run(token, baseline)
    s = scores[scores["suite"] == suite]
    mine = s[(s["condition"] == cond) & (s["iteration"] >= 1)]
    if paired:  # one run against itself at another iteration: that iteration is no candidate
        mine = mine[mine["iteration"] != base_iteration]
    traj = mine.pivot(index="seed", columns="iteration", values="score").dropna()
    if traj.shape[1] < 1 or traj.shape[0] < 2:
        raise AnalysisInputError(f"{token}: needs 2 seeds with trained iterations of {cond} on suite {suite}")
    its = tuple(int(i) for i in traj.columns)
    if paired:  # each seed's own run at the baseline's iteration (0: the base model)
        zero = s[(s["condition"] == cond) & (s["iteration"] == base_iteration)].set_index("seed")["score"]
        shared = traj.index.intersection(zero.index)
        if shared.size < 2:
            raise AnalysisInputError(f"{token}: needs 2 seeds with iteration 0 and trained iterations on suite {suite}")
        x = traj.loc[shared].to_numpy() - zero.loc[shared].to_numpy()[:, None]
        t_obs, deltas = _paired_t(x), x.mean(axis=0)
    else:
        base = s[(s["condition"] == condition_of(baseline)) & (s["iteration"] == base_iteration)]["score"].to_numpy()
        if base.size < 2:
            raise AnalysisInputError(f"{token}: the baseline {baseline} has fewer than 2 seeds on suite {suite}")
        x = traj.to_numpy()
        t_obs, deltas = _welch_t(base, x), x.mean(axis=0) - base.mean()
    pick = int(np.argmax(deltas))
    top = abs(t_obs[pick])
    if paired:
        null, df = _sign_flip_max(x, rng, n_resamples), x.shape[0] - 1
        p_naive = float(2 * stats.t.sf(top, df))
    else:
        null = _normal_max(base, x, rng, n_resamples)
        p_naive = float(stats.ttest_ind(x[:, pick], base, equal_var=False).pvalue)
    hits = int(np.sum(null >= top - 1e-12))
    exact = paired and 2 ** x.shape[0] <= MAX_EXACT_FLIPS  # the enumeration holds the observed flip itself
    p_maxt = hits / null.size if exact else (1 + hits) / (1 + null.size)
    optimism = _optimism(x, None if paired else base, deltas, rng)
    return Selected(token, baseline, suite, its[pick], its, 100 * float(deltas[pick]), p_naive,
                    max(p_maxt, p_naive), 100 * optimism, int(null.size))  # fmt: skip


def _paired_t(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """One-sample t per column of (n_seeds, T) differences; 0 where a column has no spread."""
    sd = x.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = x.mean(axis=0) / (sd / np.sqrt(x.shape[0]))
    return np.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0)


def _welch_t(a: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Welch t of each column of x (n_b, T) against a (n_a,), per study when a leading axis is added."""
    va = a.var(axis=-1, ddof=1) / a.shape[-1]
    vb = x.var(axis=-2, ddof=1) / x.shape[-2]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (x.mean(axis=-2) - a.mean(axis=-1)[..., None]) / np.sqrt(vb + va[..., None])
    return np.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0)


def _sign_flip_max(x: NDArray[np.float64], rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """max_t |t| over every sign flip of whole seeds (exact up to MAX_EXACT_FLIPS, else ``n`` random ones)."""
    r = x.shape[0]
    if 2**r <= MAX_EXACT_FLIPS:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=r)))
    else:
        signs = rng.choice((1.0, -1.0), size=(n, r))
    flipped = signs[:, :, None] * x[None, :, :]  # (flips, r, T)
    sd = flipped.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = flipped.mean(axis=1) / (sd / np.sqrt(r))
    return np.abs(np.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0)).max(axis=1)


def _normal_max(a: NDArray[np.float64], x: NDArray[np.float64], rng: np.random.Generator, n: int) -> NDArray:
    """max_t |Welch t| of ``n`` null studies: baseline seeds ~ N(0, var(a)), treatment trajectories ~ N(0,
    cov(x)) (the iterations' covariance over seeds), the study's sizes."""
    cov = np.atleast_2d(np.cov(x, rowvar=False))
    sim_x = rng.multivariate_normal(np.zeros(x.shape[1]), cov, size=(n, x.shape[0]), method="eigh")
    sim_a = rng.normal(0.0, a.std(ddof=1), size=(n, a.size))
    return np.abs(_welch_t(sim_a, sim_x)).max(axis=1)


def _optimism(
    x: NDArray[np.float64], base: NDArray[np.float64] | None, deltas: NDArray[np.float64], rng: np.random.Generator
) -> float:
    """Mean over 2,000 seed bootstraps of (the resample's best delta - the full data's delta at that iteration)."""
    n_boot = 2000
    ix = rng.integers(0, x.shape[0], size=(n_boot, x.shape[0]))
    boot = x[ix].mean(axis=1)  # (n_boot, T)
    if base is not None:
        boot = boot - base[rng.integers(0, base.size, size=(n_boot, base.size))].mean(axis=1)[:, None]
    picks = boot.argmax(axis=1)
    return float(np.mean(boot[np.arange(n_boot), picks] - deltas[picks]))
