"""Auditing a reported trend (a slope over a level, e.g. "-2 pp per 500 pairs") from its points and by
re-running it.

From the numbers: the least-squares slope of the points' rates over the level, in pp per `per`, with
two intervals: from the points' scatter around the line (t, points - 2 df), and from problem sampling
alone (each point an independent binomial rate on n problems: an upper bound when the runs answer the
same problems, whose outcomes correlate). With one run per point, training-seed variation is
not assessed at all; the verdict says so. From a re-run: the reported slope against the seed-level
slope of analysis/trend.py (its t-interval over seeds) and a t-test of "the seed slopes average the
reported value".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from analysis.audit import clean_json
from analysis.claims import TrendClaim
from analysis.prediction import predict_paired


@dataclass(frozen=True)
class TrendAudit:
    """A trend claim audited from its points (pp per `per`)."""

    claim_id: str
    level: str
    per: float
    n_points: int
    reported_slope_pp: float
    slope_pp: float
    ci_low_pp: float
    ci_high_pp: float
    p: float
    se_problem_pp: float
    p_problem: float
    verdict: str

    def to_json(self) -> dict:
        return clean_json(asdict(self))  # type: ignore[return-value]

    def line(self) -> str:
        return (
            f"{self.claim_id}: slope {self.slope_pp:+.2f} pp per {self.per:g} {self.level} (reported "
            f"{self.reported_slope_pp:+.2f}); fit 95% [{self.ci_low_pp:+.2f}, {self.ci_high_pp:+.2f}] over "
            f"{self.n_points} points, p={self.p:.3g}; problem sampling alone: se {self.se_problem_pp:.2f} pp, "
            f"p={self.p_problem:.3g}; {self.verdict}"
        )


def audit_trend(c: TrendClaim, alpha: float = 0.05) -> TrendAudit:
    """The claim's slope from its points, with its fit and problem-sampling intervals (module docstring)."""
    x = np.array([pt.value for pt in c.points], dtype=float)
    y = np.array([pt.passed / c.n_problems for pt in c.points])
    fit = stats.linregress(x, y)
    scale = 100 * c.per
    t = stats.t.ppf(1 - alpha / 2, len(x) - 2)
    xc = x - x.mean()
    se_problem = math.sqrt(float(np.sum(xc**2 * y * (1 - y) / c.n_problems))) / float(np.sum(xc**2))
    p_problem = float(2 * stats.norm.sf(abs(fit.slope) / se_problem)) if se_problem > 0 else float("nan")
    if p_problem >= alpha:
        verdict = "consistent with problem-sampling noise alone; one run per point: seed variance unassessed"
    else:
        verdict = "beyond problem-sampling noise, but one run per point: seed variance unassessed (re-run it)"
    return TrendAudit(
        claim_id=c.id, level=c.level, per=c.per, n_points=len(x), reported_slope_pp=c.reported_slope_pp,
        slope_pp=scale * fit.slope, ci_low_pp=scale * (fit.slope - t * fit.stderr),
        ci_high_pp=scale * (fit.slope + t * fit.stderr), p=float(fit.pvalue), se_problem_pp=scale * se_problem,
        p_problem=p_problem, verdict=verdict,
    )  # fmt: skip


def place_trend(c: TrendClaim, row: dict) -> dict:
    """The reported slope against a re-run's seed-level trend row (analysis/trend.py columns)."""
    unit = c.per / float(row["per"])  # the claim's unit over the study's
    slopes = np.array([float(s) for s in str(row["seed_slopes_pp"]).split()]) * unit
    low, high = float(row["ci_low_pp"]) * unit, float(row["ci_high_pp"]) * unit
    finite = slopes.size >= 2 and math.isfinite(low) and math.isfinite(high)  # no spread: no interval
    inside = bool(low <= c.reported_slope_pp <= high) if finite else None
    pred = predict_paired(slopes, 1)  # the reported slope is one run's: where a single seed's slope falls
    return clean_json({"claim_id": c.id, "reported_slope_pp": c.reported_slope_pp, "slope_pp": float(slopes.mean()),
                       "ci_low_pp": low, "ci_high_pp": high, "pred_low_pp": pred.low, "pred_high_pp": pred.high,
                       "n_seeds": int(slopes.size), "inside_t_interval": inside,
                       "inside_prediction": pred.contains(c.reported_slope_pp),
                       "p_vs_reported": pred.p(c.reported_slope_pp),
                       "p_vs_zero": float(row["p"])})  # type: ignore[return-value]  # fmt: skip
