"""Place a reported single-seed delta against the distribution a multi-seed re-run reproduced.

Pure: takes the re-run's tidy outcomes table and the claim; runs ``analysis.analyze`` for the claim's
two conditions and reports whether the reported delta (a delta of the claim's ``seeds`` seeds per arm)
lies inside the prediction interval of such a delta (analysis/prediction.py: the verdict), beside the
reproduced mean's t-interval and hierarchical (seeds x problems) interval, the reproduced delta's own
tests, and a t-test of "the reported delta is a draw of the predicted one".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from analysis.audit import clean_json
from analysis.claims import Claim
from analysis.core import analyze
from analysis.prediction import Prediction, predict_paired, predict_unpaired
from analysis.spec import AnalysisSpec
from analysis.tables import AnalysisInputError, check_outcomes
from trainables.common.metrics import BASE_ARM


@dataclass(frozen=True)
class Placement:
    """Reported vs reproduced delta of one claim (pp); ``inside_*`` is None when no interval exists."""

    claim_id: str
    treatment: str
    baseline: str
    metric: str
    suite: str
    iteration: int
    n_seeds_treatment: int
    n_seeds_baseline: int
    n_problems: int
    reported_delta_pp: float | None
    reproduced_delta_pp: float
    ci_low_pp: float
    ci_high_pp: float
    hier_ci_low_pp: float
    hier_ci_high_pp: float
    p_welch: float
    p_problem: float
    problem_test: str
    sd_seed_pp: float
    mde_seed_pp: float
    seeds_needed: float
    analysis_verdict: str
    inside_t_interval: bool | None
    inside_hier_interval: bool | None
    p_vs_reported: float | None  # the reported delta as a draw of the predicted m-seed delta
    reported_seeds: int = 1
    pred_low_pp: float = math.nan
    pred_high_pp: float = math.nan
    inside_prediction: bool | None = None  # the placement: a faithful reproduction is outside 5% of the time
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return clean_json(asdict(self))  # type: ignore[return-value]

    def mlflow_metrics(self) -> dict[str, float]:
        """Finite numbers for the audit run (booleans as 0/1)."""
        keys = ("reported_delta_pp", "reproduced_delta_pp", "ci_low_pp", "ci_high_pp", "hier_ci_low_pp",
                "hier_ci_high_pp", "p_welch", "p_problem", "sd_seed_pp", "mde_seed_pp", "seeds_needed",
                "inside_t_interval", "inside_hier_interval", "p_vs_reported", "n_seeds_treatment",
                "n_seeds_baseline", "n_problems", "pred_low_pp", "pred_high_pp",
                "inside_prediction", "reported_seeds")  # fmt: skip
        out = {k: float(v) for k in keys if (v := getattr(self, k)) is not None}
        return {k: v for k, v in out.items() if math.isfinite(v)}


def reported_delta(c: Claim) -> float | None:
    """The claim's delta in pp: from its arms when both are known, else as stated."""
    rates = []
    for arm in (c.baseline, c.treatment):
        rate = arm.passed / c.n_problems if arm.passed is not None else arm.value
        rates.append(rate)
    if rates[0] is not None and rates[1] is not None:
        return 100 * (rates[1] - rates[0])
    return c.reported_delta_pp


def place_reported_delta(
    outcomes: pd.DataFrame,
    claim: Claim,
    *,
    metric: str,
    suite: str | None,
    alpha: float = 0.05,
    n_boot: int = 10_000,
    rng_seed: int = 0,
    finals: tuple[tuple[str, int], ...] | None = None,
) -> Placement:
    """Analyse ``claim.reproduce``'s (treatment, baseline) in ``outcomes`` and place the reported delta.

    outcomes: the tidy table (condition, seed, iteration, suite, problem_id, sample, passed).
    metric: 'pass@k'; suite: the suite standing for the claim's benchmark. finals: (condition, final
    iteration) pairs of the study (None: each condition's last iteration in the table, so arms of kinds that
    end at different iterations, e.g. the base model at 0, are compared at their own ends). Raises
    AnalysisInputError on a table that lacks the conditions or suite.
    """
    r = claim.reproduce
    if r is None:
        raise ValueError(f"claim {claim.id} has no reproduce block")
    baseline = r.baseline
    if r.baseline == BASE_ARM or r.baseline_iteration == 0:
        baseline = BASE_ARM  # the base model: each seed's iteration 0, compared paired by seed
    elif r.baseline_iteration is not None:
        outcomes, baseline = baseline_at_iteration(outcomes, r.treatment, r.baseline, r.baseline_iteration)
    arms = r.best_of or (r.treatment,)
    if finals is None:
        finals = tuple((str(c), int(i)) for c, i in outcomes.groupby("condition")["iteration"].max().items())
    spec = AnalysisSpec(
        finals=finals,
        baseline=baseline,
        metric=metric,
        suite=suite,
        comparisons=tuple((arm, baseline) for arm in arms),
        alpha=alpha,
        n_boot=n_boot,
        rng_seed=rng_seed,
    )
    result = analyze(outcomes, spec)
    rows = result.comparisons[result.comparisons["suite"] == result.primary_suite]
    seed_delta = rows["paired_delta_pp"].where(rows["seed_test"] == "paired_t", rows["delta_pp"])
    row = rows.loc[seed_delta.idxmax()]  # the one arm, or the best of an 'up to' claim's configurations
    reported = reported_delta(claim)
    notes = []
    if r.best_of:
        each = ", ".join(f"{t} {d:+.2f}" for t, d in zip(rows["treatment"], seed_delta, strict=True))
        notes.append(
            f"'up to': the best of {len(arms)} configurations ({each} pp; mean {seed_delta.mean():+.2f}); picked "
            "on the same seeds it is measured on, so its delta is biased upward, as the reported one is"
        )
    if not all(_same(arm.name, cond) for arm, cond in ((claim.baseline, baseline), (claim.treatment, row.treatment))):
        notes.append(
            f"the claim compares '{claim.baseline.name}' -> '{claim.treatment.name}'; "
            f"the re-run compares {baseline} -> {row.treatment}"
        )
    if str(row.seed_test).startswith("paired_t"):  # against the base model: the seed-level numbers are the paired ones
        row = row.copy()
        row["delta_pp"], row["ci_low_pp"], row["ci_high_pp"] = (
            row.paired_delta_pp, row.paired_ci_low_pp, row.paired_ci_high_pp,
        )  # fmt: skip
        row["p_welch"], row["df_welch"] = row.p_paired, float(row.n_paired_seeds - 1)
        notes.append("against the base model: t interval and p are paired by seed (p_welch holds the paired p)")
    inside_t = _inside(reported, row.ci_low_pp, row.ci_high_pp)
    inside_h = _inside(reported, row.hier_ci_low_pp, row.hier_ci_high_pp)
    pred = _prediction(result, str(row.suite), str(row.treatment), baseline, str(row.seed_test).startswith("paired_t"),
                       claim.seeds, 1 - alpha)  # fmt: skip
    rep = None if reported is None else reported / 100
    if math.isfinite(row.ci_low_pp) and row.ci_high_pp - row.ci_low_pp < 1e-9:
        notes.append("zero-width interval: every seed of both arms scored the same; the placement is degenerate")
    if inside_t is None and str(row.seed_test).startswith("paired_t") and row.n_paired_seeds >= 2:
        notes.append("every seed moved by the same amount: no paired interval; re-run with more seeds")
    elif inside_t is None:
        notes.append("fewer than 2 seeds per arm: no seed-level interval; re-run with --seeds 2 or more")
    if row.notes:
        notes.append(str(row.notes))
    return Placement(
        claim_id=claim.id, treatment=str(row.treatment), baseline=baseline, metric=metric, suite=str(row.suite),
        iteration=int(result.iterations[str(row.suite)]), n_seeds_treatment=int(row.n_seeds_treatment),
        n_seeds_baseline=int(row.n_seeds_baseline), n_problems=int(row.n_problems), reported_delta_pp=reported,
        reproduced_delta_pp=float(row.delta_pp), ci_low_pp=float(row.ci_low_pp), ci_high_pp=float(row.ci_high_pp),
        hier_ci_low_pp=float(row.hier_ci_low_pp), hier_ci_high_pp=float(row.hier_ci_high_pp),
        p_welch=float(row.p_welch), p_problem=float(row.p_problem), problem_test=str(row.problem_test),
        sd_seed_pp=float(row.sd_seed_pooled_pp), mde_seed_pp=float(row.mde_seed_pp),
        seeds_needed=float(row.seeds_needed), analysis_verdict=str(row.verdict), inside_t_interval=inside_t,
        inside_hier_interval=inside_h, p_vs_reported=pred.p(rep), reported_seeds=claim.seeds,
        pred_low_pp=100 * pred.low, pred_high_pp=100 * pred.high, inside_prediction=pred.contains(rep),
        notes=tuple(notes),
    )  # fmt: skip


def _prediction(result, suite: str, treatment: str, baseline: str, paired: bool, m: int, level: float) -> Prediction:
    """The prediction interval of an m-seed delta from the re-run's per-seed scores on ``suite``."""
    seeds = result.seeds[result.seeds["suite"] == suite]
    score = lambda c: seeds[seeds["condition"] == c].set_index("seed")["score"].sort_index()  # noqa: E731
    b, a = score(treatment), score(baseline)
    if paired:
        shared = b.index.intersection(a.index)
        return predict_paired((b[shared] - a[shared]).to_numpy(float), m, level)
    return predict_unpaired(a.to_numpy(float), b.to_numpy(float), m, level)


def baseline_at_iteration(
    outcomes: pd.DataFrame, treatment: str, baseline: str, iteration: int
) -> tuple[pd.DataFrame, str]:
    """Outcomes of ``treatment`` at its last iteration and of ``baseline`` at ``iteration``, relabelled
    ``<baseline>@<iteration>`` and moved to that last iteration per suite, so one ``analyze`` compares them
    (e.g. a trained condition against the base model it started from, iteration 0)."""
    df = check_outcomes(outcomes)
    last = df[df["condition"] == treatment].groupby("suite")["iteration"].max()
    label = f"{baseline}@{iteration}"
    base = df[(df["condition"] == baseline) & (df["iteration"] == iteration)]
    if base.empty or last.empty:
        raise AnalysisInputError(
            f"no outcomes for {baseline} at iteration {iteration} (or for {treatment}); check the space evaluates "
            "that iteration (eval_at_start for iteration 0)"
        )
    base = base.assign(condition=label, iteration=base["suite"].map(last)).dropna(subset=["iteration"])
    treat = df[(df["condition"] == treatment) & (df["iteration"] == df["suite"].map(last))]
    return pd.concat([treat, base.astype({"iteration": "int64"})], ignore_index=True), label


def _same(arm_name: str, condition: str) -> bool:
    """Whether a claim's arm name denotes the re-run condition ('A (exec-only)' is condition 'A')."""
    return arm_name.split(" ")[0].lower() == condition.lower()


def _inside(x: float | None, lo: float, hi: float) -> bool | None:
    if x is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return bool(lo <= x <= hi)


def render_placement(p: Placement, extra_notes: tuple[str, ...] = ()) -> str:
    """Plain-text summary of a placement: the two deltas, the intervals and where the reported one falls."""

    def where(inside: bool | None) -> str:
        return "n/a" if inside is None else ("inside" if inside else "OUTSIDE")

    rep = "not reported" if p.reported_delta_pp is None else f"{p.reported_delta_pp:+.2f} pp"
    lines = [
        f"claim {p.claim_id}: {p.treatment} vs {p.baseline}, {p.metric} on suite {p.suite} "
        f"(iteration {p.iteration}), {p.n_seeds_treatment} vs {p.n_seeds_baseline} seeds x {p.n_problems} problems",
        f"  reported delta     {rep}",
        f"  reproduced delta   {p.reproduced_delta_pp:+.2f} pp (seed sd {p.sd_seed_pp:.2f} pp)",
        f"  prediction 95%     [{_pp(p.pred_low_pp)}, {_pp(p.pred_high_pp)}] pp, where a {p.reported_seeds}-seed "
        f"delta falls: reported {where(p.inside_prediction)}",
        f"  mean t-interval    [{p.ci_low_pp:+.2f}, {p.ci_high_pp:+.2f}] pp (where the mean lies, narrower than one "
        f"seed's spread): reported {where(p.inside_t_interval)}",
        f"  hierarchical 95%   [{p.hier_ci_low_pp:+.2f}, {p.hier_ci_high_pp:+.2f}] pp (mean over seeds and problems): "
        f"reported {where(p.inside_hier_interval)}",
        f"  reproduced vs 0    Welch p={_fmt(p.p_welch)}; {p.problem_test} p={_fmt(p.p_problem)}; {p.analysis_verdict}",
        f"  reported as a draw of the predicted delta  t p={_fmt(p.p_vs_reported)}; seed-level MDE "
        f"{_fmt(p.mde_seed_pp)} pp",
    ]
    lines += [f"  note: {n}" for n in (*p.notes, *extra_notes)]
    return "\n".join(lines)


def _pp(x: float) -> str:
    return f"{x:+.2f}" if math.isfinite(x) else "n/a"


def _fmt(x: float | None) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.3g}"
