"""The report: CSV tables, JSON, PNG figures, report.md and a self-contained report.html."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import pandas as pd

from analysis import plots, verdict
from analysis.result import AnalysisResult
from analysis.tables import check_metrics

COMPARISON_COLUMNS = (
    "comparison", "delta_pp", "ci_low_pp", "ci_high_pp", "hier_ci_low_pp", "hier_ci_high_pp", "p_welch",
    "p_permutation", "p_adjusted", "problem_test", "p_problem", "hedges_g", "prob_improvement",
    "mde_seed_pp", "mde_problem_pp", "seeds_needed", "wins", "losses", "seed_test", "paired_delta_pp",
    "paired_ci_low_pp", "paired_ci_high_pp", "p_paired", "seeds_up", "seeds_down", "verdict",
)  # fmt: skip
CONDITION_COLUMNS = ("condition", "n_seeds", "n_problems", "n_samples", "mean", "sd", "ci_low", "ci_high")
VARIANCE_COLUMNS = ("condition", "sd_seed_pp", "sd_problem_pp", "sd_residual_pp", "share_seed", "se_mean_pp")
METHODS = """\
- Per-seed score: mean over the suite's problems of the per-problem unbiased pass@k; condition mean,
  sd and 95% t-interval are over seeds. Variance components: two-way ANOVA (seed x problem).
- Across seeds: Welch t-test and interval; exact permutation test over all splits of the seeds
  (Monte Carlo beyond 200,000 splits); Hedges' g; probability of improvement.
- Across problems (models held fixed): exact McNemar on discordant pairs summed over seed pairs
  when there is one sample per problem, else a paired bootstrap over problems.
- Hierarchical interval: bootstrap of whole seeds (within arm) and problems (shared by both arms),
  variance-matched and widened by t/z on Satterthwaite df.
- Against the base model (`base@0`: each seed's iteration-0 outcomes): the same runs at two
  iterations, so the seed-level test is a paired t-test on per-seed differences, and the verdict
  reads its interval; the columns of the unpaired tests are shown beside it.
- Multiplicity: Holm over a declared family, Benjamini-Hochberg over an exploratory one, per suite;
  the comparisons against the base model form their own family (they ask whether training moved a
  condition at all, not how conditions differ).
- MDE at 80% power from the pooled seed sd (t-test) and from the per-problem delta sd; seeds
  needed per arm to resolve the observed delta (statsmodels TTestIndPower)."""


ADAPTIVE_COLUMNS = (
    "comparison", "decision", "study_look", "n_treatment", "n_baseline", "delta_pp", "rci_low_pp", "rci_high_pp",
    "p", "nominal_p",
)  # fmt: skip
DESCRIPTIVE = (
    "descriptive: fixed-sample tests on the seeds the adaptive run chose to run, which are not error-controlled "
    "after its looks; the adaptive decisions above are"
)


def write_report(
    result: AnalysisResult,
    out_dir: str | Path,
    outcomes_df: pd.DataFrame | None = None,
    metrics_df: pd.DataFrame | None = None,
    adaptive: pd.DataFrame | None = None,
) -> list[Path]:
    """Write every report file into ``out_dir`` and return their paths.

    Curves come from ``metrics_df`` (condition, seed, iteration, metric, value) when given, else
    from ``result.curves`` (per-iteration scores computed from the outcomes). ``outcomes_df`` is
    accepted for symmetry with ``analyze`` and is not needed: the result carries its tables.
    ``adaptive``: the looks of an adaptive study (analysis/adaptive.py records); its decisions lead the
    report, with their paths' plot, and the verdicts below them are marked descriptive.
    """
    del outcomes_df
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    optional = ("selection", "optimism", "trajectory", "trajectory_summary", "trajectory_comparisons", "profiles",
                "factorial_anova", "factorial_effects", "head_to_head", "head_to_head_consistent",
                "broken_evaluations", "trend")  # fmt: skip
    for name in ("conditions", "seeds", "variance", "comparisons", "problem_deltas", *optional):
        if name in optional and getattr(result, name).empty:
            continue  # e.g. no checkpoint selection in this study
        path = out / f"{name}.csv"
        getattr(result, name).to_csv(path, index=False)
        paths.append(path)
    (out / "analysis.json").write_text(json.dumps(result.to_json(), indent=1, allow_nan=False))
    paths.append(out / "analysis.json")

    if metrics_df is not None:  # the rollouts' profiles have their own figure, not a panel each in the curves
        metrics_df = metrics_df[~metrics_df["metric"].str.match(r"^train/(error|ruff)/")]
    curves = result.curves if metrics_df is None or metrics_df.empty else check_metrics(metrics_df)
    figures: dict[str, list[Path]] = {"": [plots.plot_curves(curves, out / "curves.png")]}
    for suite in result.comparisons["suite"].unique():
        tag = re.sub(r"[^A-Za-z0-9_.-]", "_", suite)
        cmp = result.comparisons[result.comparisons["suite"] == suite]
        deltas = result.problem_deltas[result.problem_deltas["suite"] == suite]
        figures[suite] = [
            plots.plot_forest(cmp, out / f"forest_{tag}.png", f"{suite}: {result.spec.metric} deltas"),
            plots.plot_wins_losses(deltas, out / f"wins_losses_{tag}.png", f"{suite}: per-problem deltas"),
        ]
        rates = result.problem_trajectory
        if not rates.empty and rates[rates["suite"] == suite]["iteration"].nunique() > 1:
            mine = rates[rates["suite"] == suite]
            title = f"{suite}: pass rate per problem"
            figures[suite].append(plots.plot_trajectory(mine, out / f"trajectory_{tag}.png", title))
        figures[suite] += _profile_figure(result.profiles, suite, out / f"profiles_{tag}.png")
        h2h = result.head_to_head
        if len(h2h) and (h2h["suite"] == suite).any():
            title = f"{suite}: tasks improved (up) and regressed (down) per seed"
            figures[suite].append(plots.plot_head_to_head(h2h[h2h["suite"] == suite], out / f"h2h_{tag}.png", title))
    figures[""] += _profile_figure(result.profiles, "rollouts", out / "profiles_rollouts.png")
    decided = None
    if adaptive is not None and len(adaptive):
        decided = adaptive.groupby("comparison", sort=False).tail(1)[list(ADAPTIVE_COLUMNS)]
        decided.to_csv(out / "adaptive_decisions.csv", index=False)
        paths.append(out / "adaptive_decisions.csv")
        figures[""].insert(0, plots.plot_sequential(adaptive, out / "adaptive.png"))
    paths += [p for ps in figures.values() for p in ps]
    md = _markdown(result, figures, decided)
    (out / "report.md").write_text(md)
    (out / "report.html").write_text(_html(result, figures, out, decided))
    return [*paths, out / "report.md", out / "report.html"]


def _profile_figure(profiles: pd.DataFrame, suite: str, path: Path) -> list[Path]:
    """The diagnostic profiles of one suite (or of the rollouts) over iterations, if it has any."""
    if profiles.empty or not (profiles["suite"] == suite).any():
        return []
    what = "training rollouts" if suite == "rollouts" else f"{suite}: evaluation samples"
    return [plots.plot_profiles(profiles[profiles["suite"] == suite], path, f"{what} (mean over seeds)")]


def _verdict_line(r) -> str:
    """One comparison's verdict with the interval it rests on (paired by seed against the base model)."""
    if str(r.seed_test).startswith("paired_t"):
        line = (
            f"- **{r.comparison}**: {r.verdict}, delta {r.paired_delta_pp:+.2f} pp "
            f"[{r.paired_ci_low_pp:.2f}, {r.paired_ci_high_pp:.2f}] paired by seed"
        )
    else:
        interval = f"[{r.hier_ci_low_pp:.2f}, {r.hier_ci_high_pp:.2f}]"
        line = f"- **{r.comparison}**: {r.verdict}, delta {r.delta_pp:+.2f} pp {interval}"
    return line + (f". {r.notes}" if r.notes else "")


def _sections(result: AnalysisResult, decided: pd.DataFrame | None = None) -> list[tuple[str, str | pd.DataFrame]]:
    """The report's content as (heading or '', text or table) blocks, shared by Markdown and HTML;
    ``decided``: an adaptive study's last look per comparison, which then leads."""
    s = result.spec
    blocks: list[tuple[str, str | pd.DataFrame]] = [
        ("", f"Metric **{s.metric}**, baseline **{s.baseline}**, {s.family} family, alpha {s.alpha}, "
             f"{s.n_boot} bootstrap resamples, RNG seed {s.rng_seed}. Deltas are treatment minus baseline "
             "in percentage points (pp)."),
    ]  # fmt: skip
    if decided is not None:
        blocks += [("Adaptive decisions (error-controlled over looks and comparisons: O'Brien-Fleming spending, "
                    "repeated confidence intervals in pp, on the primary metric; seed-level, about this suite's "
                    "problems, where the verdicts' hierarchical interval also generalises over problems)",
                    decided)]  # fmt: skip
    verdicts = "Verdicts" if decided is None else f"Verdicts ({DESCRIPTIVE})"
    if len(result.broken_evaluations):
        blocks += [("BROKEN EVALUATION? Almost nothing passes and most samples do not parse or lack the entry "
                    "point: check the prompt and extraction format before reading these numbers",
                    result.broken_evaluations)]  # fmt: skip
    for suite in result.conditions["suite"].unique():
        sel = lambda df, s=suite: df[df["suite"] == s]  # noqa: E731
        cmp = sel(result.comparisons)
        blocks += [
            (f"Suite {suite} (iteration {result.iterations.get(suite, '?')})", ""),
            (verdicts, "\n".join(_verdict_line(r) for r in cmp.itertuples())),
            ("Conditions (score as a fraction; interval over seeds)", sel(result.conditions)[list(CONDITION_COLUMNS)]),
            ("Variance components", sel(result.variance)[list(VARIANCE_COLUMNS)]),
            ("Comparisons", cmp[list(COMPARISON_COLUMNS)]),
        ]  # fmt: skip
    if not result.optimism.empty:
        blocks += [
            (f"Checkpoint selection (on {s.select_on}; oracle = best on the suite itself, optimism = oracle - "
             "selected, pp over seeds)", result.optimism),
            ("Selected, last and oracle checkpoint per seed", result.selection),
        ]  # fmt: skip
    if not result.trajectory_summary.empty:
        blocks += [(
            "Trajectories (forgetting events between consecutive checkpoints; partial successes and error "
            "shares at the reported checkpoint; mean and t-interval over seeds)", result.trajectory_summary,
        )]  # fmt: skip
    if len(result.trend):
        r0 = result.trend.iloc[0]
        blocks += [(f"Trend over {r0.level} (pp per {r0.per:g} {r0.level}: each seed's least-squares slope; mean, "
                    "t-interval and p over seeds)", result.trend)]  # fmt: skip
    if len(result.head_to_head_consistent):
        blocks += [
            ("Head-to-head per seed (a task is solved at pass@1 >= 0.5; improved = solved by the treatment only)",
             result.head_to_head.drop(columns=["improved_ids", "regressed_ids"])),
            ("Tasks that flip the same way in every seed", result.head_to_head_consistent),
        ]  # fmt: skip
    if not result.factorial_anova.empty or not result.factorial_effects.empty:
        names = " x ".join(f for f, _ in s.factors)
        blocks += [
            (f"Factorial ({names}): repeated-measures ANOVA, seeds as subjects", result.factorial_anova),
            ("Factorial effects (pp; main effects against each factor's first level, two-way interactions as "
             "differences of differences; paired t over seeds)", result.factorial_effects),
        ]  # fmt: skip
    if not result.trajectory_comparisons.empty:
        blocks += [(
            "Trajectory comparisons (treatment minus baseline per seed; paired t, BH-adjusted per suite: "
            "exploratory)", result.trajectory_comparisons,
        )]  # fmt: skip
    blocks += [("Verdict rules", verdict.__doc__.split("\n\n", 1)[1].strip()), ("Methods", METHODS)]
    blocks += [("Notes", "\n".join(f"- {n}" for n in result.notes))] if result.notes else []
    return blocks


def _markdown(result: AnalysisResult, figures: dict[str, list[Path]], decided: pd.DataFrame | None = None) -> str:
    lines = ["# Seed-level analysis", ""]
    lines += [f"![{p.stem}]({p.name})\n" for p in figures[""]]
    for head, body in _sections(result, decided):
        if head:
            lines += ["", f"## {head}" if head.startswith("Suite") else f"### {head}", ""]
        lines.append(_md_table(body) if isinstance(body, pd.DataFrame) else body)
        if head.startswith("Suite"):
            suite = head.split(" ", 2)[1]
            lines += [f"![{p.stem}]({p.name})\n" for p in figures.get(suite, [])]
    return "\n".join(lines) + "\n"


def _html(
    result: AnalysisResult, figures: dict[str, list[Path]], out: Path, decided: pd.DataFrame | None = None
) -> str:
    def img(p: Path) -> str:
        data = base64.b64encode((out / p.name).read_bytes()).decode()
        return f'<img alt="{p.stem}" src="data:image/png;base64,{data}" style="max-width:100%">'

    parts = [f"<h1>Seed-level analysis</h1>{''.join(img(p) for p in figures[''])}"]
    for head, body in _sections(result, decided):
        if head:
            parts.append(
                f"<h2>{html.escape(head)}</h2>" if head.startswith("Suite") else f"<h3>{html.escape(head)}</h3>"
            )
        if isinstance(body, pd.DataFrame):
            parts.append(body.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0))
        elif body:
            parts.append(_text_html(body))
        if head.startswith("Suite"):
            parts += [img(p) for p in figures.get(head.split(" ", 2)[1], [])]
    style = ("body{font-family:sans-serif;max-width:1200px;margin:auto}table{border-collapse:collapse;"
             "font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}")  # fmt: skip
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Analysis</title><style>{style}</style>"
        f"</head><body>{''.join(parts)}</body></html>\n"
    )


def _text_html(text: str) -> str:
    """Plain text or a '- ' bullet list (continuation lines indented) with **bold**, as HTML."""
    esc = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text))
    if not esc.startswith("- "):
        return f"<p>{esc}</p>".replace("\n", "<br>")
    items = [" ".join(item.split()) for item in re.split(r"(?m)^- ", esc) if item.strip()]
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _md_table(df: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v).replace("|", "\\|")

    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])
