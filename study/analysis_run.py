"""The study's analysis: statistics from its per-problem outcomes, logged as an MLflow run in its tree.

Shared by `study.run` (at the end of every study) and `study.report` (rebuilt from MLflow alone).
An analysis of the same outcomes (by hash) is logged once, so a resumed study does not log it twice.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from study.resolve import ResolvedStudy
from study.tracking import KIND, Tracker
from trainables.common.metrics import parse_pass_at

OUTCOMES_SHA = "codeablate.outcomes_sha256"


def spec_inputs(primary_metric: str) -> tuple[str, str | None]:
    """(analysis metric, primary suite) from a space's primary metric, e.g. eval/transfer/pass_at_1."""
    parsed = parse_pass_at(primary_metric)
    return (f"pass_at_{parsed[1]}", parsed[0]) if parsed else ("pass_at_1", None)


PROFILE_METRICS = ("train/error/", "train/ruff/", "train/completion_length")
"""The rollouts' diagnostic profile (trainables/common/diagnostics.py): kept for the profiles figure."""


def metrics_table(results: dict[tuple[str, int], list[dict[str, float]]], keep: list[str]) -> pd.DataFrame:
    """Per-iteration values of the `keep` metrics, in that order, then of the rollouts' profile metrics
    (condition, seed, iteration, metric, value): for the curves and profiles plots."""
    found = {k for reports in results.values() for r in reports for k in r if k.startswith(PROFILE_METRICS)}
    keep = [*keep, *sorted(found - set(keep))]
    rows = [
        {"condition": cond, "seed": seed, "iteration": int(r["iteration"]), "metric": k, "value": float(r[k])}
        for k in keep
        for (cond, seed), reports in results.items()
        for r in reports
        if k in r
    ]
    return pd.DataFrame(rows, columns=["condition", "seed", "iteration", "metric", "value"])


def run_analysis(
    outcomes: pd.DataFrame,
    metrics: pd.DataFrame,
    study: ResolvedStudy,
    *,
    out_dir: Path,
    adaptive: pd.DataFrame | None = None,
) -> tuple[object, list[Path]]:
    """Analyse the outcomes as the resolved study declares (baseline, comparisons, primary metric,
    family) and write the report (Markdown, HTML, CSV tables, plots) into out_dir; ``adaptive``: an
    adaptive study's looks, whose decisions lead the report (its verdicts are then descriptive)."""
    from analysis import analyze, write_report

    spec = study_spec(study, outcomes)
    result = analyze(outcomes, spec, metrics_df=metrics if not metrics.empty else None)
    paths = write_report(result, out_dir, outcomes_df=outcomes, metrics_df=metrics if not metrics.empty else None,
                         adaptive=adaptive)  # fmt: skip
    return result, list(paths)


def study_spec(study: ResolvedStudy, outcomes: pd.DataFrame, **overrides: object) -> object:
    """The AnalysisSpec a resolved study declares, for these outcomes (a suite they lack falls back)."""
    from analysis import AnalysisSpec

    metric, suite = spec_inputs(study.primary_metric.name)
    if suite is not None and suite not in set(outcomes["suite"]):
        suite = None
    return AnalysisSpec(
        baseline=study.baseline,
        metric=metric,
        suite=suite,
        all_suites=True,
        comparisons=study.comparisons,
        family=study.family,
        finals=study.finals(),
        select_on=study.select_on if study.select_on in set(outcomes["suite"]) else None,
        factors=study.factors,
        levels=study.levels,
        trend=study.trend,
        equivalence_margin_pp=study.equivalence_margin_pp,
        effect_of_interest_pp=study.effect_of_interest_pp,
        **overrides,  # type: ignore[arg-type]
    )


def log_analysis(
    tracker: Tracker,
    study_run: str,
    name: str,
    outcomes_path: Path,
    result: object,
    paths: list[Path],
    params: dict[str, str] | None = None,
) -> str | None:
    """An analysis run under the study run (``params`` beside the result's own); None when these exact
    outcomes were analysed already."""
    digest = hashlib.sha256(outcomes_path.read_bytes()).hexdigest()
    if tracker.find(**{KIND: "analysis", OUTCOMES_SHA: digest}) is not None:
        return None
    logged = result.mlflow_params() | (params or {})  # type: ignore[attr-defined]
    run_id = tracker.analysis_run(study_run, name, {OUTCOMES_SHA: digest}, logged)
    tracker.log_summary(run_id, result.mlflow_metrics())  # type: ignore[attr-defined]
    tracker.log_artifacts(run_id, paths, subdir="report")
    tracker.finish(run_id)
    return run_id
