"""`python -m study.audit`: a reproducibility audit of reported deltas, from the numbers and by re-running.

Without --rerun: loads every claim in claims/ (or --claims PATH), audits each from its published
numbers alone and prints a table, one reason line per claim, and optionally the JSON (--json OUT).
With --rerun CLAIM_ID: runs the claim's linked conditions through `python -m study.run` with N seeds,
places the reported delta against the reproduced one, logs an audit run under the study run in MLflow.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from analysis.claims import Claim, ClaimError, ClaimFile, MetricClaim, TrendClaim, check_claim
from study.cli import Parser, positive_int
from study.errors import UserError, cli_errors
from study.layout import OUTCOMES_FILE, STUDY_FILE, TRIALS_DIR
from study.yamlio import format_validation_error, load_yaml
from trainables.common.metrics import BASE_ARM

if TYPE_CHECKING:
    import pandas as pd

    from study.profile import Profile
    from study.space import LoadedSpace

CLAIMS_DIR = Path(__file__).resolve().parent.parent / "claims"
CLAIM_TAG = "codeablate.claim_id"
AUDIT_KIND = "audit"
DEFAULT_SEEDS = 3


@dataclass(frozen=True)
class LoadedClaim:
    """A validated claim and the file (and index) it came from."""

    claim: Claim
    path: Path
    index: int

    @property
    def where(self) -> str:
        return f"{self.path}: claims.{self.index}"


def parser() -> Parser:
    p = Parser(prog="study.audit", description=__doc__.splitlines()[0])
    p.add_argument("--claims", type=Path, default=CLAIMS_DIR, help="claims folder or YAML file (default claims/)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the full audit as JSON here")
    p.add_argument("--rerun", metavar="CLAIM_ID", help="re-run this claim's linked conditions and place its delta")
    p.add_argument("--seeds", type=positive_int, help=f"seeds per condition for --rerun (default {DEFAULT_SEEDS})")
    p.add_argument("--profile", help="profile for --rerun (default: the space's, else tiny)")
    p.add_argument("--smoke", action="store_true", help="--rerun with the smallest budgets (tests the pipeline)")
    p.add_argument("--out", type=Path, help="study folder for --rerun (default out/audit/<claim id>)")
    p.add_argument(
        "--against",
        type=Path,
        metavar="OUTCOMES",
        help="place every claim whose conditions a study already ran (its outcomes.csv), as --rerun does, "
        "without running anything",
    )
    return p


def load_claims(path: Path) -> list[LoadedClaim]:
    """Every claim under ``path`` (a folder of *.yaml, or one file), validated; errors are one-line UserErrors."""
    if path.is_dir():
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        if not files:
            raise UserError(f"--claims: no *.yaml claim files in {path}")
    elif path.is_file():
        files = [path]
    else:
        raise UserError(f"--claims: {path} does not exist; pass a claims folder or YAML file")
    loaded: list[LoadedClaim] = []
    seen: dict[str, LoadedClaim] = {}
    for file in files:
        raw = load_yaml(file)
        try:
            parsed = ClaimFile.model_validate(raw)
        except ValidationError as err:
            msg = format_validation_error(file, err, schema="analysis/claims.py")
            raise UserError(msg) from None
        for i, claim in enumerate(parsed.claims):
            item = LoadedClaim(claim, file, i)
            try:
                check_claim(claim)
            except ClaimError as err:
                raise UserError(f"{file}: claims.{i}.{err} (claim {claim.id})") from None
            if claim.id in seen:
                raise UserError(f"{item.where}.id: '{claim.id}' is also defined in {seen[claim.id].where}; rename one")
            _check_reproduce(item)
            seen[claim.id] = item
            loaded.append(item)
    return loaded


def load_trends(path: Path) -> list[TrendClaim]:
    """Every trend claim (a file's `trends:`) under ``path``; the files were validated by load_claims."""
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    trends = [t for f in files for t in ClaimFile.model_validate(load_yaml(f)).trends]
    ids = [t.id for t in trends]
    for t in trends:
        if ids.count(t.id) > 1:
            raise UserError(f"trend {t.id}: the id is used twice; rename one")
        if t.reproduce is not None:
            space = _space(t.reproduce.space).space
            if space.trend is None or space.trend.name != t.level:
                raise UserError(
                    f"trend {t.id}: reproduce.space {t.reproduce.space} declares no trend over '{t.level}'; "
                    "add a trend: block to the space or fix the claim"
                )
    return trends


def load_metric_claims(path: Path) -> list[MetricClaim]:
    """Every metric claim (a file's `metrics:`) under ``path``, each reproduce block checked against its space."""
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    found = [(f, i, m) for f in files for i, m in enumerate(ClaimFile.model_validate(load_yaml(f)).metrics)]
    ids = [m.id for _, _, m in found]
    for file, i, m in found:
        where = f"{file}: metrics.{i}"
        if ids.count(m.id) > 1:
            raise UserError(f"{where}.id: '{m.id}' is used twice; rename one")
        r = m.reproduce
        if r is None:
            continue
        space = _space(r.space).space
        for side in ("treatment", "baseline"):
            if getattr(r, side) not in space.conditions:
                raise UserError(f"{where}.reproduce.{side}: '{getattr(r, side)}' is not a condition of {r.space}; "
                                f"use one of: {', '.join(space.conditions)}")  # fmt: skip
        names = [x.name for x in space.metrics]
        if r.metric not in names:
            raise UserError(f"{where}.reproduce.metric: '{r.metric}' is not a metric of {r.space}; use one of: "
                            f"{', '.join(names)}")  # fmt: skip
        if r.treatment == r.baseline and r.treatment_iteration == r.baseline_iteration:
            raise UserError(f"{where}.reproduce: both arms are {r.treatment} at one iteration; set the iterations")
    return [m for _, _, m in found]


def study_metrics(out: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """Every per-iteration metric of a study's finished trials (condition, seed, iteration, metric, value),
    and each condition's final iteration."""
    import pandas as pd

    from study.resolve import ResolvedStudy
    from study.summary import trial_results

    study = ResolvedStudy.model_validate(json.loads((out / STUDY_FILE).read_text())["study"])
    rows = [
        {"condition": t.condition, "seed": t.seed, "iteration": int(rep["iteration"]), "metric": k, "value": float(v)}
        for t in study.trials
        for rep in trial_results(out / TRIALS_DIR / Path(t.trial_dir).name)
        for k, v in rep.items()
        if k != "iteration" and isinstance(v, int | float)
    ]
    return pd.DataFrame(rows, columns=["condition", "seed", "iteration", "metric", "value"]), dict(study.finals())


def _planned(claim: Claim) -> str | None:
    """The planned trainer kind a claim's re-run waits for, or None when it can run today."""
    from trainables.kinds import KINDS, PLANNED

    t = claim.reproduce.trainable if claim.reproduce else None
    return t if t in PLANNED and t not in KINDS else None


@cache
def _space(name: str) -> LoadedSpace:
    from study.space import load_space

    return load_space(name)


def _check_reproduce(item: LoadedClaim) -> None:
    """A runnable reproduce block names an existing space, two of its conditions and one of its metrics."""
    r = item.claim.reproduce
    if r is None:
        return
    from study.space import SPACES_DIR, available_spaces

    key = f"{item.where}.reproduce"
    planned = _planned(item.claim)
    if not (SPACES_DIR / f"{r.space}.yaml").is_file():
        if planned:
            return  # the space is written together with its trainable
        raise UserError(
            f"{key}.space: no search space '{r.space}'; use one of: {', '.join(available_spaces())}, "
            "or set reproduce.trainable to a planned kind (dpo)"
        )
    try:
        space = _space(r.space).space
    except UserError as err:
        if planned:
            return  # e.g. a dpo space file that lands before the dpo trainable
        raise UserError(f"{key}.space: {err}") from None
    names = ", ".join(space.conditions)
    for side in ("treatment", "baseline"):
        cond = getattr(r, side)
        if cond not in space.conditions and not (side == "baseline" and cond == BASE_ARM):
            raise UserError(
                f"{key}.{side}: '{cond}' is not a condition of {r.space}; use one of: {names}"
                + (f" (or '{BASE_ARM}', the base model at iteration 0)" if side == "baseline" else "")
            )
    if r.baseline == BASE_ARM and r.baseline_iteration not in (None, 0):
        raise UserError(f"{key}.baseline_iteration: '{BASE_ARM}' is iteration 0; drop baseline_iteration")
    if r.treatment == r.baseline and r.baseline_iteration is None:
        raise UserError(
            f"{key}: treatment and baseline are both '{r.treatment}'; name two conditions or set baseline_iteration"
        )
    for i, arm in enumerate(r.best_of):
        if arm not in space.conditions:
            raise UserError(f"{key}.best_of.{i}: '{arm}' is not a condition of {r.space}; use one of: {names}")
    if r.best_of and r.treatment not in r.best_of:
        raise UserError(f"{key}.treatment: '{r.treatment}' is not in best_of; add it there")
    metrics = [m.name for m in space.metrics]
    if r.metric not in metrics:
        raise UserError(f"{key}.metric: '{r.metric}' is not a metric of {r.space}; use one of: {', '.join(metrics)}")
    if r.trainable is not None and r.trainable != space.trainable:
        raise UserError(f"{key}.trainable: '{r.trainable}' but {r.space} trains with '{space.trainable}'; fix one")


@cli_errors
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    rerun_only = [f for f, v in (("--seeds", args.seeds), ("--profile", args.profile), ("--out", args.out)) if v]
    if not args.rerun and (rerun_only or args.smoke):
        raise UserError(
            f"{(rerun_only or ['--smoke'])[0]}: only applies with --rerun CLAIM_ID; add it or drop the flag"
        )
    claims = load_claims(args.claims)
    trends = load_trends(args.claims)
    metric_claims = load_metric_claims(args.claims)
    ids = [t.id for t in trends] + [m.id for m in metric_claims] + [item.claim.id for item in claims]
    clash = sorted({i for i in ids if ids.count(i) > 1})
    if clash:
        raise UserError(f"claim {clash[0]}: two claims (deltas, trends or metrics) share the id; rename one")
    if args.against:
        if args.rerun:
            raise UserError("--against: places claims against a study already run; drop --rerun or --against")
        return against(claims, args, metric_claims)
    if args.rerun:
        args.seeds = args.seeds or DEFAULT_SEEDS
        trend = next((t for t in trends if t.id == args.rerun), None)
        metric = next((m for m in metric_claims if m.id == args.rerun), None)
        if metric is not None:
            return rerun_metric(metric, args)
        return rerun_trend(trend, args) if trend is not None else rerun(claims, args)
    from analysis.audit import adjust_registry, audit_claim
    from analysis.audit_metric import audit_metric_numbers
    from analysis.audit_table import audit_json, render_table
    from analysis.audit_trend import audit_trend

    audits = adjust_registry([audit_claim(item.claim) for item in claims])
    trend_audits = [audit_trend(t) for t in trends]
    print(render_table(audits))
    if trend_audits:
        print("\ntrends (slope of the points' rates over the level, least squares):")
        print("\n".join(a.line() for a in trend_audits))
    metric_audits = [audit_metric_numbers(m) for m in metric_claims]
    if metric_audits:
        print("\nmetric claims (the change the reported values imply; test them with --rerun ID):")
        for a in metric_audits:
            implied = "n/a" if a["implied"] is None else f"{a['implied']:.3g}"
            stated = "none" if a["reported"] is None else f"{a['reported']:g}"
            print(f"{a['claim_id']}: {a['metric']} {a['direction']}, {a['scale']} stated {stated}, implied by the "
                  f"values {implied}; {a['verdict']}")  # fmt: skip
    if args.json:
        _write_json(args.json, {**audit_json(audits), "trends": [a.to_json() for a in trend_audits],
                                "metrics": metric_audits})  # fmt: skip
    return 0


def against(claims: list[LoadedClaim], args: argparse.Namespace, metric_claims: list[MetricClaim] = ()) -> int:
    """Place every linked claim whose conditions are in the outcomes table, and every metric claim of the
    study in the table's folder; the others are listed as skipped."""
    from analysis import AnalysisInputError, read_table
    from analysis.audit_rerun import place_reported_delta, render_placement
    from study.analysis_run import spec_inputs

    if not args.against.is_file():
        raise UserError(f"--against: no outcomes table at {args.against}; give a study's outcomes.csv")
    try:
        table = read_table(args.against)
    except AnalysisInputError as err:
        raise UserError(f"--against: {args.against}: {err}") from None
    docs, skipped = [], []
    for item in claims:
        c, r = item.claim, item.claim.reproduce
        if r is None or _planned(c):
            continue
        metric, suite = spec_inputs(r.metric)
        try:
            placement = place_reported_delta(table, c, metric=metric, suite=suite)
        except AnalysisInputError as err:
            skipped.append(f"{c.id} ({str(err).splitlines()[0][:160]})")
            continue
        print(render_placement(placement) + "\n")
        docs.append({"claim": c.model_dump(mode="json"), "placement": placement.to_json()})
    folder = args.against.resolve().parent
    if (folder / STUDY_FILE).is_file() and metric_claims:
        docs += _place_metrics(metric_claims, folder, skipped)
    if skipped:
        print(f"not in these outcomes ({len(skipped)}): " + "; ".join(skipped))
    if not docs:
        raise UserError(f"--against: no claim's conditions are in {args.against}; run the claim's study first")
    if args.json:
        _write_json(args.json, {"outcomes": str(args.against), "placements": docs})
    return 0


def _place_metrics(metric_claims: list[MetricClaim], folder: Path, skipped: list[str]) -> list[dict]:
    """Place the metric claims of the study in ``folder`` (its trials' per-iteration metrics), printed."""
    from analysis import AnalysisInputError
    from analysis.audit_metric import place_metric, render_metric

    values, finals = study_metrics(folder)
    name = json.loads((folder / STUDY_FILE).read_text())["study"]["name"]
    docs = []
    for m in metric_claims:
        if m.reproduce is None or m.reproduce.space != name:
            continue
        try:
            placed = place_metric(m, values, finals)
        except AnalysisInputError as err:
            skipped.append(f"{m.id} ({str(err)[:160]})")
            continue
        print(render_metric(placed) + "\n")
        docs.append({"claim": m.model_dump(mode="json"), "placement": placed})
    return docs


def rerun_metric(claim: MetricClaim, args: argparse.Namespace) -> int:
    """Run the metric claim's study and place the claim against its per-seed values (printed, JSON, MLflow)."""
    from analysis import AnalysisInputError
    from analysis.audit_metric import place_metric, render_metric

    out, code = _run_for(claim, args)
    if code:
        return code
    values, finals = study_metrics(out)
    try:
        placed = place_metric(claim, values, finals)
    except AnalysisInputError as err:
        raise UserError(f"--rerun {claim.id}: {err}") from None
    json_path = args.json or out / "audit" / f"{claim.id}.json"
    _write_json(json_path, {"claim": claim.model_dump(mode="json"), "placement": placed})
    numbers = {k: float(v) for k, v in placed.items() if isinstance(v, int | float) and math.isfinite(v)}
    run_id = _log(claim, out, json_path, args, numbers, {"audit.verdict": str(placed["verdict"])})
    print(render_metric(placed))
    if args.smoke:
        print("  note: --smoke: training budgets are cut to the minimum; the change measures noise only")
    print(f"MLflow audit run {run_id}" if run_id else "MLflow: this audit of these outcomes was logged already")
    return 0


def _write_json(path: Path, doc: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    except OSError as err:
        raise UserError(f"--json: cannot write {path} ({err.strerror})") from None
    print(f"wrote {path}", file=sys.stderr)


def runnable_claim(claims: list[LoadedClaim], claim_id: str) -> Claim:
    """The claim to re-run; a one-line UserError when it is unknown, unlinked or waits on a planned trainable."""
    by_id = {item.claim.id: item.claim for item in claims}
    if claim_id not in by_id:
        raise UserError(f"--rerun: unknown claim '{claim_id}'; claims: {', '.join(by_id)}")
    claim = by_id[claim_id]
    if claim.reproduce is None:
        linked = [i for i, c in by_id.items() if c.reproduce and not _planned(c)]
        raise UserError(
            f"--rerun {claim_id}: the claim has no reproduce block (no study re-runs it); "
            f"re-runnable claims: {', '.join(linked) or 'none'}"
        )
    kind = _planned(claim)
    if kind:
        from trainables.kinds import KINDS

        raise UserError(
            f"--rerun {claim_id}: its study '{claim.reproduce.space}' needs the {kind} trainable, which is "
            f"planned but not written yet (runnable today: {', '.join(KINDS)}); audit it from the numbers"
        )
    return claim


def rerun(claims: list[LoadedClaim], args: argparse.Namespace) -> int:
    """Run the linked study, place the reported delta, log the audit run, print the placement."""
    claim = runnable_claim(claims, args.rerun)
    from study.profile import load_profile

    out, code = _run_for(claim, args)
    return code or _place_and_log(claim, out, load_profile(args.profile), args)


def _run_for(claim: Claim | TrendClaim | MetricClaim, args: argparse.Namespace) -> tuple[Path, int]:
    """Run the study that re-runs ``claim`` (its reproduce block) in --out: (the study folder, exit code)."""
    r = claim.reproduce
    if r is None:
        raise UserError(f"--rerun {claim.id}: the claim has no reproduce block (no study re-runs it)")
    args.profile = args.profile or _space(r.space).space.profile or "tiny"  # as study.run would choose
    out = (args.out or Path("out") / "audit" / claim.id).resolve()
    return out, _run_study(r.space, out, args, claim.id)


def rerun_trend(trend: TrendClaim, args: argparse.Namespace) -> int:
    """Run the trend's study and place the reported slope against its seed-level slope (printed, JSON)."""
    from analysis import AnalysisInputError, AnalysisSpec, analyze, read_table
    from analysis.audit_trend import place_trend
    from study.analysis_run import spec_inputs
    from study.profile import load_profile
    from study.resolve import ResolvedStudy

    out, code = _run_for(trend, args)
    if code:
        return code
    r = trend.reproduce
    assert r is not None
    study = ResolvedStudy.model_validate(json.loads((out / STUDY_FILE).read_text())["study"])
    metric, suite = spec_inputs(r.metric)
    spec = AnalysisSpec(baseline=study.baseline, metric=metric, suite=suite, finals=study.finals(),
                        trend=study.trend, n_boot=200)  # fmt: skip
    try:
        result = analyze(read_table(out / OUTCOMES_FILE), spec)
    except AnalysisInputError as err:
        raise UserError(f"--rerun {trend.id}: {err}") from None
    rows = result.trend[result.trend["suite"] == result.primary_suite]
    if rows.empty:
        raise UserError(f"--rerun {trend.id}: the study gave no trend on suite {result.primary_suite}")
    placed = place_trend(trend, rows.iloc[0].to_dict())
    json_path = args.json or out / "audit" / f"{trend.id}.json"
    _write_json(json_path, {"trend": trend.model_dump(mode="json"), "placement": placed})
    metrics = {k: float(v) for k, v in placed.items() if isinstance(v, (int, float)) and math.isfinite(v)}
    run_id = _log(trend, out, json_path, args, metrics, {"audit.trend_level": trend.level})
    where = {True: "inside", False: "OUTSIDE", None: "n/a"}[placed["inside_prediction"]]
    f = lambda v, spec="+.2f": "n/a" if v is None else format(v, spec)  # noqa: E731  (NaN is None in JSON)
    print(f"trend {trend.id}: reported {trend.reported_slope_pp:+.2f} pp per {trend.per:g} {trend.level}; re-run "
          f"{f(placed['slope_pp'])} [{f(placed['ci_low_pp'])}, {f(placed['ci_high_pp'])}] over {placed['n_seeds']} "
          f"seeds, p vs 0 {f(placed['p_vs_zero'], '.3g')}; a single seed's slope falls in "
          f"[{f(placed['pred_low_pp'])}, {f(placed['pred_high_pp'])}]: reported {where}")  # fmt: skip
    for note in _context_notes(load_profile(args.profile), suite, args.smoke):
        print(f"  note: {note}")
    print(f"MLflow audit run {run_id}" if run_id else "MLflow: this audit of these outcomes was logged already")
    return 0


def _run_study(space: str, out: Path, args: argparse.Namespace, claim_id: str) -> int:
    """`python -m study.run` for a re-run (resumed when the folder holds it already); its exit code."""
    cmd = [sys.executable, "-m", "study.run", "--space", space, "--seeds", str(args.seeds)]
    cmd += ["--profile", args.profile, "--out", str(out)] + (["--smoke"] if args.smoke else [])
    if (out / STUDY_FILE).is_file():
        cmd.append("--resume")  # the same study already (partly) ran here: finish it instead of starting over
    print(f"audit {claim_id}: python {' '.join(cmd[1:])}", flush=True)
    repo = str(Path(__file__).resolve().parent.parent)  # study.run importable whatever the cwd
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    code = subprocess.run(cmd, check=False, env=env).returncode
    if code != 0 or not (out / OUTCOMES_FILE).is_file():
        print(f"error: study.run exited with code {code}; the study folder is {out}", file=sys.stderr)
        return code or 1
    return 0


def _place_and_log(claim: Claim, out: Path, profile: Profile, args: argparse.Namespace) -> int:
    from analysis import AnalysisInputError, read_table
    from analysis.audit_rerun import place_reported_delta, render_placement
    from study.analysis_run import spec_inputs

    r = claim.reproduce
    assert r is not None
    from study.resolve import ResolvedStudy

    metric, suite = spec_inputs(r.metric)
    finals = ResolvedStudy.model_validate(json.loads((out / STUDY_FILE).read_text())["study"]).finals()
    try:
        placement = place_reported_delta(read_table(out / OUTCOMES_FILE), claim, metric=metric, suite=suite,
                                         finals=finals)  # fmt: skip
    except AnalysisInputError as err:
        raise UserError(f"--rerun {claim.id}: {err}") from None
    notes = _context_notes(profile, suite, args.smoke)
    doc = {"claim": claim.model_dump(mode="json"), "placement": placement.to_json(), "context": list(notes)}
    json_path = args.json or out / "audit" / f"{claim.id}.json"
    _write_json(json_path, doc)
    extra = {"audit.verdict": placement.analysis_verdict, "audit.problem_test": placement.problem_test}
    run_id = _log(claim, out, json_path, args, placement.mlflow_metrics(), extra)
    print(render_placement(placement, notes))
    print(f"MLflow audit run {run_id}" if run_id else "MLflow: this audit of these outcomes was logged already")
    return 0


def _context_notes(profile: Profile, suite: str | None, smoke: bool) -> tuple[str, ...]:
    notes = []
    stand_in = {s.name: s.source for s in profile.data.suites if str(s.source).startswith("tiny")}
    if suite in stand_in or (suite is None and stand_in):
        notes.append(
            f"profile {profile.name}: suite '{suite}' is a stand-in ({stand_in.get(suite, 'generated tasks')}) for "
            "the paper's benchmark, on a tiny model; this re-run tests the pipeline and the seed noise level, "
            "not the paper's number"
        )
    if smoke:
        notes.append("--smoke: training budgets are cut to the minimum; the reproduced delta measures noise only")
    return tuple(notes)


def _log(
    claim: Claim | TrendClaim | MetricClaim,
    out: Path,
    json_path: Path,
    args: argparse.Namespace,
    metrics: dict[str, float],
    extra: dict[str, str],
) -> str | None:
    """The audit run under the study run (kind=audit, claim id); None when these outcomes were audited already."""
    from study.analysis_run import OUTCOMES_SHA
    from study.tracking import KIND, Tracker, flatten

    state = json.loads((out / STUDY_FILE).read_text())
    r = claim.reproduce
    assert r is not None
    tracker = Tracker(state["tracking_uri"], experiment=r.space, study_id=state["study_id"])
    study_run = tracker.find(**{KIND: "study"})
    if study_run is None:
        raise UserError(f"--rerun {claim.id}: no study run for study {state['study_id']} in {state['tracking_uri']}")
    digest = hashlib.sha256((out / OUTCOMES_FILE).read_bytes()).hexdigest()
    tags = {KIND: AUDIT_KIND, CLAIM_TAG: claim.id, OUTCOMES_SHA: digest}
    if tracker.find(**tags) is not None:
        return None
    params = flatten("claim", claim.model_dump(mode="json", exclude_none=True))
    params |= {"audit.profile": args.profile, "audit.seeds": str(args.seeds), "audit.smoke": str(args.smoke)}
    run_id = tracker.audit_run(study_run.info.run_id, f"{r.space}__audit__{claim.id}", tags, params | extra)
    tracker.log_summary(run_id, metrics)
    tracker.log_artifacts(run_id, [json_path], subdir="audit")
    tracker.finish(run_id)
    return run_id


if __name__ == "__main__":
    raise SystemExit(main())
