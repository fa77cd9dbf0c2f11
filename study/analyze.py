"""Seed-level statistics of a study's outcomes table: ``python -m study.analyze OUTCOMES [options]``.

Prints the per-condition and per-comparison tables with verdicts; ``--json`` writes the full
result, ``--report DIR`` the Markdown/HTML report with tables and plots. ``--study`` takes the baseline,
comparisons, primary metric and family from a study's resolved study (its study.json); flags given
explicitly win. Bad input exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from study.cli import Parser, positive_number
from study.errors import UserError, cli_errors


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="study.analyze", description=__doc__.splitlines()[0])
    p.add_argument("outcomes", type=Path, help="tidy per-problem outcomes table (.csv or .parquet)")
    p.add_argument("--study", type=Path, help="a study folder or its study.json: its baseline, comparisons, metric")
    p.add_argument("--baseline", help="baseline condition (default: first condition in sorted order)")
    p.add_argument(
        "--metric", help="pass_at_1 or pass_at_k, k <= samples per problem (default pass_at_1; pass@k reads too)"
    )
    p.add_argument("--suite", help="analyse only this suite (default: every suite, first sorted is primary)")
    p.add_argument(
        "--iteration",
        type=int,
        help="iteration to analyse (default: each condition's final with --study, else the last)",
    )
    p.add_argument(
        "--compare", action="append", metavar="TREAT:BASE", help="a comparison (repeatable); default: all vs baseline"
    )
    p.add_argument("--family", choices=("declared", "exploratory"), help="Holm or BH (default declared)")
    p.add_argument("--alpha", type=float, default=0.05, help="test level")
    p.add_argument("--effect-of-interest", type=float, help="smallest delta worth detecting, pp (planning)")
    p.add_argument(
        "--equivalence-margin",
        type=positive_number,
        help="E of 'equivalent within +/-E pp' (default: the study's declared margin; none: never equivalent)",
    )
    p.add_argument("--n-boot", type=int, default=10_000, help="bootstrap resamples")
    p.add_argument("--rng-seed", type=int, default=0, help="seed of the bootstrap RNG")
    p.add_argument("--metrics", type=Path, help="per-iteration metrics table for the curves plot")
    p.add_argument("--json", type=Path, help="write the full result as JSON here")
    p.add_argument("--report", type=Path, metavar="DIR", help="write report.md, report.html, CSVs and PNGs here")
    p.add_argument(
        "--adaptive",
        type=_design,
        metavar="START:BATCH:MAX",
        help="replay adaptive seeds over this study (seeds in order): where each comparison would have stopped",
    )
    return p


def _design(text: str) -> tuple[int, int, int]:
    try:
        start, batch, top = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}': expected START:BATCH:MAX seeds, e.g. 3:2:10") from None
    if not 2 <= start <= top or batch < 1:
        raise argparse.ArgumentTypeError(f"'{text}': needs 2 <= START <= MAX and BATCH >= 1")
    return start, batch, top


def _comparisons(raw: list[str] | None) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in raw or []:
        treat, sep, base = item.partition(":")
        if not sep or not treat or not base:
            raise UserError(f"--compare {item}: expected TREAT:BASE, e.g. --compare C-light:A")
        pairs.append((treat, base))
    return tuple(pairs)


def _from_study(path: Path) -> dict:
    """Analysis settings from a resolved study: baseline, comparisons, metric and suite, family."""
    from study.analysis_run import spec_inputs
    from study.layout import STUDY_FILE
    from study.resolve import ResolvedStudy

    file = path / STUDY_FILE if path.is_dir() else path
    if not file.is_file():
        raise UserError(f"--study: no {STUDY_FILE} at {path}; pass a study folder (the --out of study.run)")
    try:
        study = ResolvedStudy.model_validate(json.loads(file.read_text())["study"])
    except (KeyError, ValueError) as err:
        raise UserError(f"--study: {file} holds no resolved study ({type(err).__name__}); rerun study.run") from None
    metric, suite = spec_inputs(study.primary_metric.name)
    return {"baseline": study.baseline, "comparisons": study.comparisons, "metric": metric, "suite": suite,
            "family": study.family, "finals": study.finals(), "select_on": study.select_on,
            "factors": study.factors, "levels": study.levels, "trend": study.trend,
            "equivalence_margin_pp": study.equivalence_margin_pp,
            "effect_of_interest_pp": study.effect_of_interest_pp}  # fmt: skip


@cli_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from analysis import AnalysisInputError, AnalysisSpec, analyze, read_table, write_report

    try:
        outcomes = read_table(args.outcomes)
        metrics = read_table(args.metrics) if args.metrics else None
        given = _from_study(args.study) if args.study else {}
        baseline = args.baseline or given.get("baseline")
        if baseline is None and "condition" in outcomes.columns:
            baseline = str(sorted(outcomes["condition"].astype(str).unique())[0])
        spec = AnalysisSpec(
            baseline=baseline or "",
            metric=args.metric or given.get("metric", "pass_at_1"),
            suite=args.suite or given.get("suite"),
            all_suites=args.suite is None,  # a study's primary suite leads; --suite analyses only that one
            comparisons=_comparisons(args.compare) or given.get("comparisons", ()),
            family=args.family or given.get("family", "declared"),
            finals=given.get("finals", ()),
            select_on=given.get("select_on"),
            factors=given.get("factors", ()),
            levels=given.get("levels", ()),
            trend=given.get("trend"),
            alpha=args.alpha,
            n_boot=args.n_boot,
            rng_seed=args.rng_seed,
            iteration=args.iteration,
            effect_of_interest_pp=args.effect_of_interest or given.get("effect_of_interest_pp"),
            equivalence_margin_pp=args.equivalence_margin or given.get("equivalence_margin_pp"),
        )
        result = analyze(outcomes, spec, metrics_df=metrics)
    except AnalysisInputError as err:
        raise UserError(str(err)) from None
    print(result.summary_text())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_json(), indent=1, allow_nan=False))
        print(f"wrote {args.json}", file=sys.stderr)
    if args.report:
        paths = write_report(result, args.report, metrics_df=metrics)
        print(f"wrote {len(paths)} report files to {args.report}", file=sys.stderr)
    if args.adaptive:
        try:
            _replay(result, spec, args.adaptive, args.report)
        except AnalysisInputError as err:
            raise UserError(f"--adaptive: {err}") from None
    return 0


def _replay(result, spec, design: tuple[int, int, int], report: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Print (and plot into ``report``) the adaptive procedure replayed over the primary suite's seeds."""
    from analysis.adaptive import AdaptiveDesign, replay, seeds_saved

    seeds = result.seeds[result.seeds["suite"] == result.primary_suite][["condition", "seed", "score"]]
    rows = result.comparisons[result.comparisons["suite"] == result.primary_suite]
    pairs = tuple(zip(rows["treatment"], rows["baseline"], strict=True))
    plan = AdaptiveDesign(*design, alpha=spec.alpha, effect_pp=spec.effect_of_interest_pp,
                          margin_pp=spec.equivalence_margin_pp)  # fmt: skip
    looks, used = replay(seeds, pairs, plan)
    cols = ["study_look", "comparison", "n_baseline", "n_treatment", "delta_pp", "rci_low_pp", "rci_high_pp",
            "nominal_p", "p", "decision"]  # fmt: skip
    print(f"\nadaptive replay on suite {result.primary_suite} (start {design[0]}, +{design[1]} per look, max "
          f"{design[2]}; analysis/sequential.py):")  # fmt: skip
    print(looks[cols].to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    top = min(design[2], int(seeds[seeds["condition"].isin(list(used))].groupby("condition").size().min()))
    print(f"seeds used: {', '.join(f'{c} {n}' for c, n in sorted(used.items()))}; {seeds_saved(used, top):.0%} "
          f"fewer than a fixed design of {top} seeds per condition")  # fmt: skip
    if report is not None:
        from analysis.plots import plot_sequential

        report.mkdir(parents=True, exist_ok=True)
        print(f"wrote {plot_sequential(looks, report / 'adaptive.png')}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
