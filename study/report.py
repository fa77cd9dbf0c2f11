"""`python -m study.report --study NAME`: rebuild a study's analysis report from MLflow alone.

Reads the study run's artifacts (the resolved study, study.json, and its outcomes table) and its trial
runs (per-iteration metrics) from the tracking store, reruns the analysis, and writes report.md /
report.html with tables and plots.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from study.analysis_run import run_analysis
from study.cli import Parser
from study.errors import UserError, cli_errors
from study.layout import OUTCOMES_FILE, STUDY_FILE
from study.resolve import ResolvedStudy
from study.tracking import CONDITION, KIND, STUDY_ID


def parser() -> Parser:
    p = Parser(prog="study.report", description=__doc__.splitlines()[0])
    p.add_argument("--study", required=True, help="the study's name (its MLflow experiment, e.g. aux_kl)")
    p.add_argument("--study-id", help="which study of that name (default: the latest)")
    p.add_argument("--tracking-uri", default="sqlite:///out/aux_kl/mlflow.db", help="MLflow tracking URI")
    p.add_argument("--out", type=Path, help="report folder (default: report/<study>)")
    return p


@cli_errors
def main(argv: list[str] | None = None) -> int:
    from mlflow.tracking import MlflowClient

    args = parser().parse_args(argv)
    client = MlflowClient(args.tracking_uri)
    exp = client.get_experiment_by_name(args.study)
    if exp is None:
        names = ", ".join(e.name for e in client.search_experiments()) or "none"
        raise UserError(f"--study: no experiment '{args.study}' at {args.tracking_uri}; studies there: {names}")
    terms = [f"tags.`{KIND}` = 'study'"] + ([f"tags.`{STUDY_ID}` = '{args.study_id}'"] if args.study_id else [])
    studies = client.search_runs([exp.experiment_id], " and ".join(terms), order_by=["start_time DESC"])
    if not studies:
        raise UserError(f"--study-id: no study run '{args.study_id}' in {args.study}; drop --study-id for the latest")
    study = studies[0]
    outcomes = pd.read_csv(client.download_artifacts(study.info.run_id, OUTCOMES_FILE))
    if STUDY_FILE not in {a.path for a in client.list_artifacts(study.info.run_id)}:
        raise UserError(
            f"--study: the study run {study.info.run_id} has no {STUDY_FILE} (logged before the resolved study "
            "was); rerun the study with study.run, or analyse its outcomes.csv with study.analyze"
        )
    state = json.loads(Path(client.download_artifacts(study.info.run_id, STUDY_FILE)).read_text())
    resolved = ResolvedStudy.model_validate(state["study"])
    keep = [m.name for m in resolved.metrics]
    metrics = _trial_metrics(client, exp.experiment_id, study.data.tags[STUDY_ID], keep)
    out = args.out or Path("report") / args.study
    looks = None  # an adaptive study's looks lead its report, as study.run wrote it
    if "adaptive/adaptive.csv" in {a.path for a in client.list_artifacts(study.info.run_id, "adaptive")}:
        looks = pd.read_csv(client.download_artifacts(study.info.run_id, "adaptive/adaptive.csv"))
    result, paths = run_analysis(outcomes, metrics, resolved, out_dir=out, adaptive=looks)
    print(result.summary_text())
    print(f"report: {out / 'report.html'} ({len(paths)} files)")
    return 0


def _trial_metrics(client, experiment_id: str, study_id: str, keep: list[str]) -> pd.DataFrame:
    """Per-iteration values of the `keep` metrics of every trial run, in that order, from MLflow."""
    runs = client.search_runs(
        [experiment_id], f"tags.`{STUDY_ID}` = '{study_id}' and tags.`{KIND}` = 'trial'", max_results=10_000
    )
    rows = [
        {"condition": run.data.tags[CONDITION], "seed": int(run.data.params["seed"]), "iteration": m.step,
         "metric": key, "value": m.value}
        for key in keep
        for run in runs
        if key in run.data.metrics
        for m in client.get_metric_history(run.info.run_id, key)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["condition", "seed", "iteration", "metric", "value"])


if __name__ == "__main__":
    raise SystemExit(main())
