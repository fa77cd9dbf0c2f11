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

from study.cli import Parser, positive_int, positive_number, trial_gpus
from study.errors import UserError, cli_errors
from study.layout import ANALYSIS_DIR, OUTCOMES_FILE, RAY_DIR, STUDY_FILE, SUMMARY_CSV, SUMMARY_TXT
from study.lifecycle import StudyHooks, combined_outcomes, is_done, log_condition_aggregates, write_json
from study.profile import Profile, available_profiles, load_profile
from study.progress import Progress, fmt_s
from study.provenance import file_sha256, git_sha, package_versions
from study.resolve import Options, ResolvedStudy, resolve_study
from study.space import available_spaces, load_space
from study.summary import final_table, render, summarize
from study.tracking import Tracker, default_artifact_location, default_tracking_uri, flatten, runs_page, ui_command
from study.tracking_link import quick_failing_client, unreachable

DEFAULT_CACHE = Path.home() / ".cache" / "codeablate"


def parser() -> Parser:
    from trainables.kinds import KINDS, PLANNED

    kinds = "; ".join(f"{k.name}: {k.summary}" for k in KINDS.values())
    p = Parser(
        prog="study.run",
        description=__doc__.splitlines()[0],
        epilog=f"trainer kinds (a space's `trainable:`, or a condition's): {kinds}. Planned: {', '.join(PLANNED)}.",
    )
    p.add_argument("--space", required=True, help=f"space name or YAML path ({', '.join(available_spaces())})")
    p.add_argument(
        "--profile",
        help=f"model/data/budget bundle ({', '.join(available_profiles())}); default: the space's profile, else tiny",
    )
    p.add_argument("--seeds", type=positive_int, help="seed count (overrides the space's seeds: 0..N-1)")
    p.add_argument("--smoke", action="store_true", help="shrink every budget to the least that runs every path")
    p.add_argument("--out", type=Path, help="study folder (default: out/<space>)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted study in --out")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: sqlite:///<out>/mlflow.db)")
    p.add_argument("--address", help="join an existing Ray cluster (e.g. auto or HOST:6379)")
    p.add_argument(
        "--mlflow-wait",
        type=positive_int,
        default=30,
        metavar="MINUTES",
        help="after the trials, how long to wait for a tracking server that went away (default 30)",
    )
    p.add_argument("--max-concurrent", type=positive_int, help="cap on trials running at once")
    p.add_argument(
        "--gpus-per-trial", type=trial_gpus, help="GPUs per trial (overrides the profile; 0.5: two share one)"
    )
    p.add_argument("--cpus-per-trial", type=positive_number, help="CPUs per trial (overrides the profile)")
    p.add_argument("--max-failures", type=int, default=1, help="retries of a failed trial (default 1)")
    p.add_argument(
        "--until-resolved",
        action="store_true",
        help="add seeds in batches only where a declared comparison is still open (group-sequential; "
        "--seeds is the start)",
    )
    p.add_argument("--max-seeds", type=positive_int, help="--until-resolved: most seeds per condition (default 10)")
    p.add_argument("--batch", type=positive_int, help="--until-resolved: seeds added per look (default 2)")
    p.add_argument("--model", help="base model hub id or local path (overrides the profile)")
    p.add_argument("--mbpp-dir", type=Path, help="folder with sanitized-mbpp.json (or CODEABLATE_MBPP_DIR)")
    p.add_argument("--train-path", type=Path, help="JSONL of problems and solutions (profiles with train_source jsonl)")
    p.add_argument(
        "--lcb-dir", type=Path, help="LiveCodeBench code_generation_lite file or folder (or CODEABLATE_LCB_DIR)"
    )
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
    quick_failing_client()  # a tracking server that goes away must not stall the driver (study/tracking_link.py)
    loaded = load_space(args.space)
    profile = with_resources(load_profile(args.profile or loaded.space.profile or "tiny"), args)
    out_dir = (args.out or Path("out") / loaded.space.name).resolve()
    from trainables.common.livecodebench import lcb_dir_from
    from trainables.common.problems import mbpp_dir_from

    start = _adaptive_flags(args, loaded.space.seeds)
    opts = Options(
        seeds=args.max_seeds if args.until_resolved else args.seeds,
        smoke=args.smoke,
        model=args.model,
        mbpp_dir=mbpp_dir_from(args.mbpp_dir),
        train_path=args.train_path.resolve() if args.train_path else None,
        lcb_dir=_resolved(lcb_dir_from(args.lcb_dir)),
        sandbox_mode=args.sandbox,
    )
    study = resolve_study(loaded, profile, opts, out_dir, args.cache_dir.resolve())
    state = _check_out_dir(out_dir, study.keys(), args.resume)
    if args.resume and ("adaptive" in state) != args.until_resolved:
        ran = f"with --until-resolved {state['adaptive']}" if "adaptive" in state else "without --until-resolved"
        raise UserError(f"--resume: the study in {out_dir} ran {ran}; repeat its flags")
    if args.until_resolved:
        from study.adaptive_run import check_comparisons

        check_comparisons(study)
        adaptive = {"start": start, "batch": args.batch, "max_seeds": args.max_seeds}
        if state.get("adaptive", adaptive) != adaptive:
            raise UserError(f"--resume: the study ran with --until-resolved {state['adaptive']}; repeat those flags")
        state["adaptive"] = adaptive
    provenance = _prepare(study, profile, args.address)  # fails before anything is written
    uri = args.tracking_uri or default_tracking_uri(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        out_dir / STUDY_FILE,
        {**state, "tracking_uri": uri, "argv": sys.argv, "study": study.model_dump(mode="json")},
    )
    try:
        return _run(args, study, profile, state, uri, provenance, out_dir)
    except Exception as err:
        if not unreachable(err):
            raise
        raise UserError(
            f"MLflow at {uri} is unreachable ({str(err).strip().splitlines()[0][:200]}); start it or fix "
            "--tracking-uri, then repeat the command with --resume (finished trials are kept)"
        ) from None


def _adaptive_flags(args, space_seeds: int | tuple[int, ...]) -> int:  # type: ignore[no-untyped-def]
    """The first look's seeds under --until-resolved (checked); --max-seeds / --batch only with it."""
    if not args.until_resolved:
        if args.max_seeds is not None or args.batch is not None:
            raise UserError("--max-seeds / --batch: only with --until-resolved; add it or drop them")
        return 0
    args.max_seeds = args.max_seeds or 10
    args.batch = args.batch or 2
    if not isinstance(space_seeds, int) and not args.seeds:
        raise UserError("--until-resolved: the space lists its seeds; give --seeds N (seeds 0..N-1 start, more follow)")
    start = args.seeds or int(space_seeds)
    if start < 2 or start > args.max_seeds:
        raise UserError(
            f"--until-resolved: starts with {start} seeds; give 2 <= --seeds <= --max-seeds ({args.max_seeds})"
        )
    return start


def _check_selection_split(select_on: str | None, ids: dict[str, set[str]]) -> None:
    """The suite checkpoints are chosen on must exist and share no problem with a reported suite."""
    if select_on is None:
        return
    if select_on not in ids:
        raise UserError(
            f"select_on: the profile has no suite '{select_on}' (it has {', '.join(ids)}); choose one of them"
        )
    for name, theirs in ids.items():
        common = ids[select_on] & theirs if name != select_on else set()
        if common:
            raise UserError(
                f"select_on: suite '{select_on}' shares {len(common)} problems with '{name}' (e.g. {min(common)}); "
                "the validation suite needs problems of its own: give it a disjoint window or source"
            )


def _resolved(path: Path | None) -> Path | None:
    return path.resolve() if path is not None else None


def _check_out_dir(out_dir: Path, keys: list[str], resume: bool) -> dict:
    """New study: a fresh folder. --resume: the same trials as the interrupted study."""
    path = out_dir / STUDY_FILE
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


def _prepare(study: ResolvedStudy, profile: Profile, address: str | None) -> dict[str, str]:
    """Check the sandbox, data and model before Ray starts; return the provenance params."""
    from executors import SandboxExecutor, SandboxUnavailable
    from trainables.common.models import resolve_source
    from trainables.common.problems import DataUnavailable, fingerprint, load_suite, load_train

    cfg = study.trials[0]
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
        ids = {}
        for suite in cfg.data.suites:
            problems = load_suite(suite, cfg.data, cfg.mbpp_dir)
            hashes[f"data.{suite.name}_sha256"] = fingerprint(problems)
            ids[suite.name] = {p.problem_id for p in problems}
    except DataUnavailable as err:
        raise UserError(str(err)) from None
    _check_selection_split(study.select_on, ids)
    check_capacity(profile, address)
    source = resolve_source(cfg.model, cfg.cache_dir, progress=lambda m: print(f"[tiny model] {m}", flush=True))
    return {
        "git_sha": git_sha(),
        "space_file": study.space_file,
        "space_sha256": study.space_sha256,
        "profile_sha256": file_sha256(Path(__file__).resolve().parent.parent / "profiles" / f"{profile.name}.yaml"),
        "model.resolved": source,
        **hashes,
        **sandbox,
        **{f"version.{k}": v for k, v in package_versions().items()},
    }


def with_resources(profile: Profile, args) -> Profile:
    """The profile with --gpus-per-trial / --cpus-per-trial applied (they do not change any trial's key)."""
    update = {k: v for k, v in (("gpu", args.gpus_per_trial), ("cpu", args.cpus_per_trial)) if v is not None}
    return profile.model_copy(update={"resources": profile.resources.model_copy(update=update)}) if update else profile


def check_capacity(profile: Profile, address: str | None) -> None:
    """Refuse, before anything is written, a trial that no node of the cluster could ever hold."""
    from study.orchestrate import node_resources

    cpu, gpu = profile.resources.cpu, profile.resources.gpu
    try:
        nodes = node_resources(address)
    except ConnectionError as err:
        cause = str(err).splitlines()[0]
        fix = "see the cause" if "token" in cause else "start one (ray start --head) or fix the address"
        raise UserError(f"--address: cannot join a Ray cluster at {address} ({cause[:600]}); {fix}") from None
    if any(n.get("CPU", 0) >= cpu and n.get("GPU", 0) >= gpu for n in nodes):
        return
    where = "this machine" if address is None else f"any of the {len(nodes)} nodes of the cluster at {address}"
    biggest = max(nodes, key=lambda n: (n.get("GPU", 0), n.get("CPU", 0)), default={})
    if gpu > 0 and address is None and not biggest.get("GPU"):
        raise UserError(
            f"--profile {profile.name}: needs {gpu:g} GPU per trial (the profile's resources or --gpus-per-trial) "
            "and this machine has none; run it on a GPU machine, join a GPU cluster with --address, or use "
            "--profile tiny"
        )
    raise UserError(
        f"resources: a trial needs {cpu:g} CPU and {gpu:g} GPU, more than {where} has (the largest: "
        f"{biggest.get('CPU', 0):g} CPU, {biggest.get('GPU', 0):g} GPU); lower --cpus-per-trial / --gpus-per-trial "
        "or add a node that fits"
    )


def _run(args, study: ResolvedStudy, profile: Profile, state, uri, provenance, out_dir: Path) -> int:
    from study.orchestrate import run_trials

    trials = list(study.trials)
    artifacts = None if args.tracking_uri else default_artifact_location(out_dir)
    tracker = Tracker(uri, experiment=study.name, study_id=state["study_id"], artifact_location=artifacts)
    study_params = {
        "space": study.name,
        "profile": profile.name,
        "trainables": ",".join(study.trainables),
        "baseline": study.baseline,
        "seeds": ",".join(map(str, study.seeds)),
        "smoke": str(study.smoke),
        "n_trials": str(len(trials)),
        "primary_metric": study.primary_metric.name,
        "family": study.family,
        **({"adaptive": json.dumps(state["adaptive"])} if "adaptive" in state else {}),
        **provenance,
    }
    study_run = tracker.study_run(f"{study.name} [{profile.name}{' smoke' if study.smoke else ''}]", study_params)
    tracker.log_artifacts(study_run, [out_dir / STUDY_FILE])  # the resolved study, read back by study.report
    condition_runs = {
        c.name: tracker.condition_run(
            study_run, study.name, c.name, {"trainable": c.trainable, **flatten("override", c.overrides)}
        )
        for c in study.conditions
    }
    progress = Progress(study.name, len(trials), already_done=sum(is_done(t) for t in trials))
    hooks = StudyHooks(tracker, progress, trials, condition_runs, provenance, study.primary_metric.name)
    for t in trials:  # finished on disk before an interruption: make sure MLflow has them, once
        hooks.finalize(t.key)
    pending = [t for t in trials if not is_done(t)]
    n_cond = len(study.conditions)
    up_to = "up to " if args.until_resolved else ""
    print(
        f"study {study.name}: {up_to}{len(trials)} trials ({n_cond} conditions x {up_to}{len(study.seeds)} seeds), "
        f"{len(pending)} {'not run yet' if up_to else 'to run'}; out {out_dir}",
        flush=True,
    )
    wall = time.monotonic()
    order = study.condition_names

    def run_pending(batch: list, look: int = 0) -> None:
        todo = [t for t in batch if not is_done(t)]
        if todo:
            run_trials(
                sorted(todo, key=lambda t: (t.seed, order.index(t.condition))),
                hooks,
                storage=out_dir / RAY_DIR,
                name=f"tune-{state['study_id']}" + (f"-look{look}" if look else ""),
                cpu=profile.resources.cpu,
                gpu=profile.resources.gpu,
                max_concurrent=args.max_concurrent,
                address=args.address,
                max_failures=args.max_failures,
            )

    if args.until_resolved:
        from study.adaptive_run import design_of, run_adaptive

        design = design_of(study, **state["adaptive"])
        log_look = lambda step, values: tracker.log_result(study_run, values, step)  # noqa: E731
        trials, _ = run_adaptive(study, design, run_pending, progress, out_dir, log_look)
    else:
        run_pending(pending)
    if not hooks.wait_for_tracking(args.mlflow_wait * 60):
        print(f"MLflow at {uri} stayed unreachable for {args.mlflow_wait} min after the trials; their results "
              "are in their folders: rerun the same command with --resume once it is back to send them",
              file=sys.stderr)  # fmt: skip
        return 1
    for t in trials:
        hooks.finalize(t.key)
    if args.until_resolved:
        _log_adaptive(tracker, study_run, out_dir)
    wall_s = time.monotonic() - wall
    return _report(tracker, study_run, condition_runs, study, out_dir, uri, wall_s, trials, args.until_resolved)


def _log_adaptive(tracker, study_run, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The looks' table and each comparison's path (a plot) as artifacts of the study run."""
    import pandas as pd

    from analysis.plots import plot_sequential
    from study.adaptive_run import ADAPTIVE_FILE

    table = out_dir / ADAPTIVE_FILE
    if not table.is_file():
        return
    (out_dir / ANALYSIS_DIR).mkdir(parents=True, exist_ok=True)
    plot = plot_sequential(pd.read_csv(table), out_dir / ANALYSIS_DIR / "adaptive.png")
    tracker.log_artifacts(study_run, [table, plot], subdir="adaptive")


def _report(
    tracker,
    study_run,
    condition_runs,
    study: ResolvedStudy,
    out_dir: Path,
    uri: str,
    wall_s: float,
    trials=None,
    adaptive: bool = False,
) -> int:  # type: ignore[no-untyped-def]
    trials = list(study.trials if trials is None else trials)
    done = [t for t in trials if is_done(t)]
    final = final_table(done)
    summary = summarize(final, study.metrics, study.baseline, study.condition_names)
    text = render(summary, study.baseline)
    summary.to_csv(out_dir / SUMMARY_CSV, index=False)
    (out_dir / SUMMARY_TXT).write_text(text + "\n")
    outcomes = combined_outcomes(trials)
    outcomes.to_csv(out_dir / OUTCOMES_FILE, index=False)
    log_condition_aggregates(tracker, condition_runs, final)
    tracker.log_artifacts(study_run, [out_dir / SUMMARY_CSV, out_dir / SUMMARY_TXT, out_dir / OUTCOMES_FILE])
    from study.lifecycle import duration

    sequential = sum(duration(t) for t in done)
    tracker.log_summary(study_run, {"trials_done": len(done), "wall_s": wall_s, "trials_sum_s": sequential})
    failed = len(trials) - len(done)
    if not failed:
        for run_id in condition_runs.values():
            tracker.finish(run_id)
        tracker.finish(study_run)
    print("\n== Summary (final iteration, mean +/- sd over seeds)\n" + text)
    _analyze(tracker, study_run, study, done, outcomes, out_dir, adaptive)
    print(f"\nwall {fmt_s(wall_s)}; trials' own time {fmt_s(sequential)}; outcomes: {out_dir / OUTCOMES_FILE}")
    if failed:
        print(f"{failed} of {len(trials)} trials did not finish; rerun the same command with --resume", file=sys.stderr)
    page = runs_page(uri, tracker.experiment_id)
    print(f"MLflow: {page}" + ("" if uri.startswith(("http://", "https://")) else f" after {ui_command(uri)}"))
    return 1 if failed else 0


def _analyze(tracker, study_run, study: ResolvedStudy, done, outcomes, out_dir: Path, adaptive: bool = False) -> None:
    """Seed statistics and significance tests from the outcomes; logged as the study's analysis run. In
    an adaptive study they describe the seeds that ran, beside the error-controlled decisions."""
    import pandas as pd

    from analysis import AnalysisInputError
    from study.adaptive_run import ADAPTIVE_FILE
    from study.analysis_run import log_analysis, metrics_table, run_analysis
    from study.summary import trial_results

    if outcomes.empty:
        return
    results = {(t.condition, t.seed): trial_results(t.trial_dir) for t in done}
    metrics = metrics_table(results, keep=[m.name for m in study.metrics])
    looks = pd.read_csv(out_dir / ADAPTIVE_FILE) if adaptive and (out_dir / ADAPTIVE_FILE).is_file() else None
    try:
        result, paths = run_analysis(outcomes, metrics, study, out_dir=out_dir / ANALYSIS_DIR, adaptive=looks)
    except AnalysisInputError as err:
        print(f"\nanalysis skipped: {err}")
        return
    params = {"verdicts": "descriptive (adaptive study: see adaptive/)"} if looks is not None else None
    log_analysis(tracker, study_run, f"{study.name}__analysis", out_dir / OUTCOMES_FILE, result, paths, params)
    head = "" if looks is None else " (fixed-sample, descriptive: the adaptive decisions above control the error)"
    print(f"\n== Analysis{head}\n" + result.summary_text())
    print(f"report: {out_dir / ANALYSIS_DIR / 'report.html'}")


if __name__ == "__main__":
    raise SystemExit(main())
