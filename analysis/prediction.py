"""Where a reported delta from m seeds should fall if a re-run reproduced it faithfully: a prediction
interval, not the confidence interval of the re-run's mean.

A paper's single-seed delta is one draw of "treatment seed minus baseline seed"; the re-run's t-interval
says where the *mean* delta lies and shrinks with more seeds, so a faithful reproduction falls outside
it more and more often (17% at 3 vs 3 seeds, 37% at 5 vs 5, by simulation). The prediction interval for
the mean of m new seeds per arm adds the new draws' own spread:

    unpaired:  var = s_b^2 (1/n_b + 1/m) + s_a^2 (1/n_a + 1/m),   Welch-Satterthwaite df
    paired:    var = s_d^2 (1/n + 1/m)                             (per-seed differences), df n - 1

with s the sd of per-seed scores over the re-run's seeds. ``calibrate_placement`` checks by simulation
that faithful reproductions fall outside it at the nominal rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from analysis.simulate import SimModel, draw_arm, draw_problems


@dataclass(frozen=True)
class Prediction:
    """A prediction interval for an m-seed delta (fractions); NaN bounds when a spread is missing."""

    delta: float
    low: float
    high: float
    se: float
    df: float
    m: int

    def contains(self, x: float | None) -> bool | None:
        if x is None or not (math.isfinite(self.low) and math.isfinite(self.high)):
            return None
        return bool(self.low <= x <= self.high)

    def p(self, x: float | None) -> float | None:
        """Two-sided p of 'x is a draw of the predicted m-seed delta' (t with ``df``)."""
        if x is None or not (self.se > 0 and math.isfinite(self.df)):
            return None
        return float(2 * stats.t.sf(abs(x - self.delta) / self.se, self.df))


def predict_unpaired(a: NDArray[np.float64], b: NDArray[np.float64], m: int, level: float = 0.95) -> Prediction:
    """a, b: per-seed scores of baseline and treatment (n_a,), (n_b,); m: seeds per arm of the new delta."""
    delta = float(b.mean() - a.mean())
    if a.size < 2 or b.size < 2:
        return Prediction(delta, math.nan, math.nan, math.nan, math.nan, m)
    va = a.var(ddof=1) * (1 / a.size + 1 / m)
    vb = b.var(ddof=1) * (1 / b.size + 1 / m)
    var = va + vb
    if var <= 0:  # every seed scored the same: no spread to predict from
        return Prediction(delta, math.nan, math.nan, 0.0, math.nan, m)
    df = var**2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return _interval(delta, math.sqrt(var), df, m, level)


def predict_paired(d: NDArray[np.float64], m: int, level: float = 0.95) -> Prediction:
    """d: per-seed differences treatment - baseline over shared seeds (n,)."""
    delta = float(d.mean()) if d.size else math.nan
    if d.size < 2:
        return Prediction(delta, math.nan, math.nan, math.nan, math.nan, m)
    se = math.sqrt(d.var(ddof=1) * (1 / d.size + 1 / m))
    if se == 0:
        return Prediction(delta, math.nan, math.nan, 0.0, math.nan, m)
    return _interval(delta, se, d.size - 1, m, level)


def _interval(delta: float, se: float, df: float, m: int, level: float) -> Prediction:
    t = float(stats.t.ppf(0.5 + level / 2, df))
    return Prediction(delta, delta - t * se, delta + t * se, se, float(df), m)


def calibrate_placement(
    model: SimModel, n: int, m: int, n_studies: int, rng: np.random.Generator, effect: float = 0.3
) -> dict[str, float]:
    """Share of faithful reproductions called outside: the reported delta is an m-seed delta drawn from the
    same model and problems as an n vs n re-run. Returns the rates for the prediction interval and for
    the re-run's t-interval of the mean (the old rule)."""
    outside_pred = outside_ci = 0
    sized = SimModel(**{**model.__dict__, "n_seeds": n + m})
    for _ in range(n_studies):
        v = draw_problems(rng, sized)
        a = draw_arm(rng, sized, v).mean(axis=(1, 2))  # per-seed scores (n + m,)
        b = draw_arm(rng, sized, v, effect).mean(axis=(1, 2))
        reported = float(b[n:].mean() - a[n:].mean())  # the paper's delta: m seeds per arm, not re-used
        pred = predict_unpaired(a[:n], b[:n], m)
        outside_pred += pred.contains(reported) is False
        welch = stats.ttest_ind(b[:n], a[:n], equal_var=False)
        ci = welch.confidence_interval(0.95)
        outside_ci += not (ci.low <= reported <= ci.high)
    return {"outside_prediction": outside_pred / n_studies, "outside_mean_ci": outside_ci / n_studies}
