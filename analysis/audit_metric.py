"""Auditing a claim about a metric other than pass@k (KL growth x450, completion length -55%, "no gain in
correctness"), from its numbers and against a re-run's per-seed values.

From the numbers: the change the two reported values imply, beside the stated one (a check of the
arithmetic). One run per arm cannot test a change: the verdict says so. Against a re-run: each seed's
value of the metric at the two (condition, iteration) arms; ratios and percent changes are tested on
the log scale (a multiplicative change), deltas as they are. The same condition at two iterations is
paired by seed (one-sample t on the per-seed changes); two conditions get Welch. The direction
asserted is then reproduced (significant that way), contradicted (significant the other way, or for
"no rise" an interval above the margin), or unresolved; and the stated size is placed on the prediction
interval of a change from the claim's number of seeds (analysis/prediction.py).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.audit import clean_json
from analysis.claims import MetricClaim
from analysis.prediction import predict_paired, predict_unpaired
from analysis.seedtests import paired_t_test, welch_test
from analysis.tables import AnalysisInputError


def change(scale: str, baseline: float, treatment: float) -> float:
    """The change of ``treatment`` over ``baseline`` in ``scale`` units (module docstring)."""
    if scale == "delta":
        return treatment - baseline
    if scale == "ratio":
        return treatment / baseline
    return 100 * (treatment / baseline - 1)


def _from_log(scale: str, x: float) -> float:
    """A log-scale change back in ``scale`` units (identity for deltas, which are never logged)."""
    if scale == "delta" or not math.isfinite(x):
        return x
    return math.exp(x) if scale == "ratio" else 100 * (math.exp(x) - 1)


def _to_log(scale: str, x: float | None) -> float | None:
    if x is None or scale == "delta":
        return x
    base = x if scale == "ratio" else 1 + x / 100
    return math.log(base) if base > 0 else None


def audit_metric_numbers(c: MetricClaim) -> dict:
    """The change the reported values imply and what the numbers alone can say."""
    implied = None
    if c.baseline.value is not None and c.treatment.value is not None:
        implied = change(c.scale, c.baseline.value, c.treatment.value)
    if c.seeds == 1:
        verdict = "one run per arm: the numbers cannot test a change in this metric; re-run it with seeds"
    else:
        verdict = "no per-seed spread reported: re-run it to test the change"
    return clean_json({"claim_id": c.id, "metric": c.metric, "scale": c.scale, "direction": c.direction,
                       "reported": c.reported, "implied": implied, "seeds": c.seeds,
                       "verdict": verdict})  # type: ignore[return-value]  # fmt: skip


def place_metric(
    c: MetricClaim, values: pd.DataFrame, finals: dict[str, int] | None = None, alpha: float = 0.05
) -> dict:
    """The claim against a re-run. values: (condition, seed, iteration, metric, value), the per-iteration
    metrics of the study's trials; finals: each condition's last iteration (default: the table's)."""
    r = c.reproduce
    if r is None:
        raise ValueError(f"claim {c.id} has no reproduce block")
    rows = values[values["metric"] == r.metric]
    last = finals or {str(k): int(v) for k, v in rows.groupby("condition")["iteration"].max().items()}
    arms = {}
    for side, cond, it in (("baseline", r.baseline, r.baseline_iteration), ("treatment", r.treatment,
                                                                                r.treatment_iteration)):  # fmt: skip
        at = it if it is not None else last.get(cond)
        got = rows[(rows["condition"] == cond) & (rows["iteration"] == at)].set_index("seed")["value"].sort_index()
        if got.empty:
            raise AnalysisInputError(f"no {r.metric} of {cond} at iteration {at} in the study")
        arms[side] = (got, at)
    (a, a_it), (b, b_it) = arms["baseline"], arms["treatment"]
    logged = c.scale != "delta"
    if logged and (a.min() <= 0 or b.min() <= 0):
        raise AnalysisInputError(f"a {c.scale} of {r.metric} needs positive values; the re-run has a value <= 0")
    g = np.log if logged else np.asarray
    paired = r.treatment == r.baseline
    if paired:
        shared = a.index.intersection(b.index)
        d = np.asarray(g(b.loc[shared].to_numpy(float)) - g(a.loc[shared].to_numpy(float)))
        test, pred, n_seeds = paired_t_test(d, 1 - alpha), predict_paired(d, c.seeds), len(shared)
    else:
        ga, gb = np.asarray(g(a.to_numpy(float))), np.asarray(g(b.to_numpy(float)))
        test, pred, n_seeds = welch_test(ga, gb, 1 - alpha), predict_unpaired(ga, gb, c.seeds), min(len(a), len(b))
    back = lambda x: _from_log(c.scale, x)  # noqa: E731
    lo, hi = back(test.ci_low), back(test.ci_high)
    reported_log = _to_log(c.scale, c.reported)
    return clean_json({
        "claim_id": c.id, "metric": r.metric, "scale": c.scale, "direction": c.direction,
        "treatment": f"{r.treatment}@{b_it}", "baseline": f"{r.baseline}@{a_it}", "paired": paired,
        "n_seeds": n_seeds, "reported": c.reported, "estimate": back(test.delta), "ci_low": lo, "ci_high": hi,
        "p": test.p, "pred_low": back(pred.low), "pred_high": back(pred.high),
        "inside_prediction": pred.contains(reported_log), "p_vs_reported": pred.p(reported_log),
        "verdict": _direction(c, test.p, test.delta, lo, hi, n_seeds, alpha),
    })  # type: ignore[return-value]  # fmt: skip


def _direction(c: MetricClaim, p: float, est: float, lo: float, hi: float, n: int, alpha: float) -> str:
    """Reproduced / contradicted / unresolved, for the direction the claim asserts (est on the test scale)."""
    if not math.isfinite(p):
        return f"untestable: {n} seed(s) with no spread"
    sig = p < alpha
    if c.direction in ("up", "down"):
        want = 1 if c.direction == "up" else -1
        if sig and np.sign(est) == want:
            return f"reproduced: {c.direction} (p={p:.3g}, {n} seeds)"
        if sig:
            return f"contradicted: the change goes the other way (p={p:.3g}, {n} seeds)"
        return f"unresolved with {n} seeds (p={p:.3g})"
    m = float(c.margin)  # type: ignore[arg-type]
    if c.direction == "not_up":
        if hi <= m:
            return f"reproduced: no rise beyond {m:g} (interval up to {hi:.3g}, {n} seeds)"
        if lo > m:
            return f"contradicted: it rises beyond {m:g} (interval from {lo:.3g})"
        return f"unresolved: the interval [{lo:.3g}, {hi:.3g}] straddles the margin {m:g}"
    if lo >= -m:
        return f"reproduced: no fall beyond -{m:g} (interval from {lo:.3g}, {n} seeds)"
    if hi < -m:
        return f"contradicted: it falls beyond -{m:g} (interval up to {hi:.3g})"
    return f"unresolved: the interval [{lo:.3g}, {hi:.3g}] straddles the margin -{m:g}"


def render_metric(placed: dict) -> str:
    f = lambda v, spec=".3g": "n/a" if v is None else format(v, spec)  # noqa: E731  (NaN is None in JSON)
    where = {True: "inside", False: "OUTSIDE", None: "n/a"}[placed["inside_prediction"]]
    return (f"{placed['claim_id']}: {placed['metric']} {placed['treatment']} vs {placed['baseline']} "
            f"({'paired by seed' if placed['paired'] else 'Welch'}), {placed['scale']} {f(placed['estimate'])} "
            f"[{f(placed['ci_low'])}, {f(placed['ci_high'])}] over {placed['n_seeds']} seeds; {placed['verdict']}; "
            f"reported {f(placed['reported'])}: {where} where a change from the claim's seeds falls "
            f"[{f(placed['pred_low'])}, {f(placed['pred_high'])}]")  # fmt: skip
