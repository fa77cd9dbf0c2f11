"""`python -m study.run --space aux_kl`: a multi-seed study on Ray Tune, logged to MLflow.

Resolves space x profile x seeds into keyed trials, builds what the profile needs (the tiny model on
first use), schedules the unfinished trials on Ray Tune, logs the run tree to MLflow, and prints a
per-condition summary and the `mlflow ui` command.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

from study.cli import Parser, positive_int
from study.errors import UserError, cli_errors
from study.layout import ANALYSIS_DIR, OUTCOMES_FILE, RAY_DIR, STUDY_FILE, SUMMARY_CSV, SUMMARY_TXT
from study.lifecycle import StudyHooks, combined_outcomes, is_done, log_condition_aggregates, write_json
from study.profile import Profile, available_profiles, load_profile
from study.progress import Progress, fmt_s
from study.provenance import file_sha256, git_sha, package_versions
from study.resolve import Options, expand_conditions, resolve_trials, resolved_baseline, resolved_comparisons
from study.space import LoadedSpace, available_spaces, load_space
from study.summary import final_table, render, summarize
from study.tracking import Tracker, default_artifact_location, default_tracking_uri, flatten, ui_command
from trainables.config import TrialConfig

DEFAULT_CACHE = Path.home() / ".cache" / "codeablate"


def parser() -> Parser:
    p = Parser(prog="study.run", description=__doc__.splitlines()[0])
    p.add_argument("--space", required=True, help=f"space name or YAML path ({', '.join(available_spaces())})")
    p.add_argument("--profile", default="tiny", help=f"model/data/budget bundle ({', '.join(available_profiles())})")
    p.add_argument("--seeds", type=positive_int, help="seed count (overrides the space's seeds: 0..N-1)")
    p.add_argument("--smoke", action="store_true", help="shrink every budget to the least that runs every path")
    p.add_argument("--out", type=Path, help="study folder (default: out/<space>)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted study in --out")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: sqlite:///<out>/mlflow.db)")
    p.add_argument("--address", help="join an existing Ray cluster (e.g. auto or HOST:6379)")
    p.add_argument("--max-concurrent", type=positive_int, help="cap on trials running at once")
    p.add_argument("--max-failures", type=int, default=1, help="retries of a failed trial (default 1)")
    p.add_argument("--model", help="base model hub id or local path (overrides the profile)")
    p.add_argument("--mbpp-dir", type=Path, help="folder with sanitized-mbpp.json (or CODEABLATE_MBPP_DIR)")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help=f"model cache (default {DEFAULT_CACHE})")
    p.add_argument(
        "--sandbox",
        choices=("strict", "weak"),
        default="strict",
        help="strict: refuse to run without kernel isolation; weak: run anyway, recorded with every result",
    )
    return p


@cli_errors
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    loaded = load_space(args.space)
    profile = load_profile(args.profile)
    out_dir = (args.out or Path("out") / loaded.space.name).resolve()
    from trainables.problems import mbpp_dir_from

    opts = Options(
        seeds=args.seeds,
        smoke=args.smoke,
        model=args.model,
        mbpp_dir=mbpp_dir_from(args.mbpp_dir),
        sandbox_mode=args.sandbox,
    )
    trials = resolve_trials(loaded, profile, opts, out_dir, args.cache_dir.resolve())
    state = _check_out_dir(out_dir, trials, args.resume)
    provenance = _prepare(loaded, profile, trials[0], args.address)  # fails before anything is written
    uri = args.tracking_uri or default_tracking_uri(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / STUDY_FILE, {**state, "tracking_uri": uri, "argv": sys.argv})
    return _run(args, loaded, profile, trials, state, uri, provenance, out_dir)


def _check_out_dir(out_dir: Path, trials: list[TrialConfig], resume: bool) -> dict:
    """New study: a fresh folder. --resume: the same trials as the interrupted study."""
    path = out_dir / STUDY_FILE
    keys = [t.key for t in trials]
    if path.is_file():
        state = json.loads(path.read_text())
        if not resume:
            raise UserError(
                f"--out: {out_dir} holds a study already; pass --resume to finish it, or --out DIR for a new one"
            )
        if sorted(state["trial_keys"]) != sorted(keys):
            raise UserError(
                f"--resume: the trials differ from the study in {out_dir} (space, profile, seeds or flags "
                "changed); repeat the original command with --resume, or use a new --out"
            )
        return state
    if resume:
        raise UserError(f"--resume: no study in {out_dir}; drop --resume to start one")
    return {"study_id": uuid.uuid4().hex[:12], "created": time.time(), "trial_keys": keys}


def _prepare(loaded: LoadedSpace, profile: Profile, cfg: TrialConfig, address: str | None) -> dict[str, str]:
    """Check the sandbox, data and model before Ray starts; return the provenance params."""
    from executors import SandboxExecutor, SandboxUnavailable
    from trainables.models import resolve_source
    from trainables.problems import DataUnavailable, fingerprint, load_suite, load_train

    try:
        with SandboxExecutor(workers=1, mode=cfg.sandbox_mode) as ex:
            ex.run([])
            sandbox = {
                "sandbox.isolation": ex.isolation,
                "sandbox.features": "; ".join(f"{k}: {v}" for k, v in sorted(ex.features.items())),
            }
    except SandboxUnavailable as err:
        raise UserError(f"sandbox: {err}") from None
    try:
        hashes = {"data.train_sha256": fingerprint(load_train(cfg.data, cfg.mbpp_dir))}
        for suite in cfg.data.suites:
            hashes[f"data.{suite.name}_sha256"] = fingerprint(load_suite(suite, cfg.data, cfg.mbpp_dir))
    except DataUnavailable as err:
        raise UserError(str(err)) from None
    if profile.resources.gpu > 0 and address is None and not _has_cuda():
        raise UserError(
            f"--profile {profile.name}: needs {profile.resources.gpu:g} GPU per trial and this machine has none; "
            "run it on a GPU machine, join a GPU cluster with --address, or use --profile tiny"
        )
    source = resolve_source(cfg.model, cfg.cache_dir, progress=lambda m: print(f"[tiny model] {m}", flush=True))
    return {
        "git_sha": git_sha(),
        "space_file": str(loaded.path),
        "space_sha256": loaded.sha256,
        "profile_sha256": file_sha256(Path(__file__).resolve().parent.parent / "profiles" / f"{profile.name}.yaml"),
        "model.resolved": source,
        **hashes,
        **sandbox,
        **{f"version.{k}": v for k, v in package_versions().items()},
    }


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _run(args, loaded, profile, trials, state, uri, provenance, out_dir) -> int:
    from study.orchestrate import run_trials

    space = loaded.space
    artifacts = None if args.tracking_uri else default_artifact_location(out_dir)
    tracker = Tracker(uri, experiment=space.name, study_id=state["study_id"], artifact_location=artifacts)
    study_params = {
        "space": space.name,
        "profile": profile.name,
        "trainable": space.trainable,
        "baseline": resolved_baseline(loaded),
        "seeds": str([t.seed for t in trials if t.condition == trials[0].condition]),
        "smoke": str(args.smoke),
        "n_trials": str(len(trials)),
        "primary_metric": space.primary_metric.name,
        "comparisons": json.dumps(resolved_comparisons(loaded)),
        "family": space.family,
        "metrics": json.dumps([m.name for m in space.metrics]),
        **provenance,
    }
    study_run = tracker.study_run(f"{space.name} [{profile.name}{' smoke' if args.smoke else ''}]", study_params)
    conditions = expand_conditions(loaded)
    condition_runs = {
        name: tracker.condition_run(study_run, space.name, name, flatten("override", over) or {"override": "{}"})
        for name, over in conditions.items()
    }
    progress = Progress(space.name, len(trials), already_done=sum(is_done(t) for t in trials))
    hooks = StudyHooks(tracker, progress, trials, condition_runs, provenance, space.primary_metric.name)
    for t in trials:  # finished on disk before an interruption: make sure MLflow has them, once
        hooks.finalize(t.key)
    pending = [t for t in trials if not is_done(t)]
    print(
        f"study {space.name}: {len(trials)} trials ({len(conditions)} conditions x "
        f"{len(trials) // len(conditions)} seeds), {len(pending)} to run; out {out_dir}",
        flush=True,
    )
    wall = time.monotonic()
    if pending:
        run_trials(
            sorted(pending, key=lambda t: (t.seed, list(conditions).index(t.condition))),
            hooks,
            storage=out_dir / RAY_DIR,
            name=f"tune-{state['study_id']}",
            cpu=profile.resources.cpu,
            gpu=profile.resources.gpu,
            max_concurrent=args.max_concurrent,
            address=args.address,
            max_failures=args.max_failures,
        )
    for t in trials:
        hooks.finalize(t.key)
    return _report(tracker, study_run, condition_runs, loaded, trials, out_dir, uri, time.monotonic() - wall)


def _report(tracker, study_run, condition_runs, loaded, trials, out_dir, uri, wall_s) -> int:
    space = loaded.space
    final = final_table([t for t in trials if is_done(t)])
    order = list(expand_conditions(loaded))
    baseline = resolved_baseline(loaded)
    summary = summarize(final, space.metrics, baseline, order)
    text = render(summary, baseline)
    summary.to_csv(out_dir / SUMMARY_CSV, index=False)
    (out_dir / SUMMARY_TXT).write_text(text + "\n")
    outcomes = combined_outcomes(trials)
    outcomes.to_csv(out_dir / OUTCOMES_FILE, index=False)
    log_condition_aggregates(tracker, condition_runs, final)
    tracker.log_artifacts(study_run, [out_dir / SUMMARY_CSV, out_dir / SUMMARY_TXT, out_dir / OUTCOMES_FILE])
    done = [t for t in trials if is_done(t)]
    from study.lifecycle import duration

    sequential = sum(duration(t) for t in done)
    tracker.log_summary(study_run, {"trials_done": len(done), "wall_s": wall_s, "trials_sum_s": sequential})
    failed = len(trials) - len(done)
    if not failed:
        for run_id in condition_runs.values():
            tracker.finish(run_id)
        tracker.finish(study_run)
    print("\n== Summary (final iteration, mean +/- sd over seeds)\n" + text)
    _analyze(tracker, study_run, loaded, done, outcomes, out_dir)
    print(f"\nwall {fmt_s(wall_s)}; trials' own time {fmt_s(sequential)}; outcomes: {out_dir / OUTCOMES_FILE}")
    if failed:
        print(f"{failed} of {len(trials)} trials did not finish; rerun the same command with --resume", file=sys.stderr)
    print(f"MLflow: {ui_command(uri)}")
    return 1 if failed else 0


def _analyze(tracker, study_run, loaded, done, outcomes, out_dir) -> None:
    """Seed statistics and significance tests from the outcomes; logged as the study's analysis run."""
    from analysis import AnalysisInputError
    from study.analysis_run import log_analysis, metrics_table, run_analysis
    from study.summary import trial_results

    space = loaded.space
    if outcomes.empty:
        return
    results = {(t.condition, t.seed): trial_results(t.trial_dir) for t in done}
    metrics = metrics_table(results, keep=[m.name for m in space.metrics])
    try:
        result, paths = run_analysis(
            outcomes,
            metrics,
            baseline=resolved_baseline(loaded),
            primary_metric=space.primary_metric.name,
            comparisons=resolved_comparisons(loaded),
            family=space.family,
            out_dir=out_dir / ANALYSIS_DIR,
        )
    except AnalysisInputError as err:
        print(f"\nanalysis skipped: {err}")
        return
    log_analysis(tracker, study_run, f"{space.name}__analysis", out_dir / OUTCOMES_FILE, result, paths)
    print("\n== Analysis\n" + result.summary_text())
    print(f"report: {out_dir / ANALYSIS_DIR / 'report.html'}")


if __name__ == "__main__":
    raise SystemExit(main())
