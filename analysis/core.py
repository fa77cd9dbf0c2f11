"""``analyze``: the whole seed-level and problem-level analysis of one outcomes table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis import bootstrap as bs
from analysis import (
    factorial,
    headtohead,
    iterations,
    planning,
    power,
    problemtests,
    profiles,
    seedtests,
    selection,
    trajectories,
    trend,
)
from analysis.aggregate import over_seeds
from analysis.estimators import per_problem_scores, t_interval, variance_components
from analysis.multiplicity import benjamini_hochberg, holm
from analysis.result import AnalysisResult
from analysis.spec import AnalysisSpec
from analysis.tables import (
    BASE_ARM,
    AnalysisInputError,
    SuiteData,
    build_suite,
    check_metrics,
    check_outcomes,
    parse_metric,
    with_base_arm,
)
from analysis.verdict import EQUIVALENT, SUPPORTED, verdict

PASS_AT_KS = (1, 2, 5, 10, 20, 50, 100)
PLAN_CONFIDENCE = 0.8  # MDE and seeds needed are planned at this upper confidence bound of the seed spread


def analyze(outcomes: pd.DataFrame, spec: AnalysisSpec, metrics_df: pd.DataFrame | None = None) -> AnalysisResult:
    """Analyse a tidy outcomes table (see ``analysis.tables``) under ``spec``.

    Returns an ``AnalysisResult`` with per-condition, per-seed, variance and per-comparison tables
    (deltas in percentage points), per-problem deltas and per-iteration curves.
    """
    df = check_outcomes(outcomes)
    k = parse_metric(spec.metric)
    suites = sorted(df["suite"].unique())
    if spec.suite is not None:
        if spec.suite not in suites:
            raise AnalysisInputError(f"unknown suite '{spec.suite}'; the table has: {', '.join(suites)}")
        suites = [spec.suite] + ([x for x in suites if x != spec.suite] if spec.all_suites else [])
    pairs = spec.comparisons or tuple(
        (c, spec.baseline) for c in sorted(df["condition"].unique()) if c != spec.baseline
    )
    finals = dict(spec.finals)
    named = {spec.baseline, *(c for pair in pairs for c in pair)}
    if BASE_ARM in named:
        against = {iterations.condition_of(t) for t, b in pairs if b == BASE_ARM}
        df = with_base_arm(df, tuple(sorted(against or set(df["condition"].unique()))))
        finals[BASE_ARM] = 0
    conds = sorted(df["condition"].unique())
    for name in named:
        if iterations.condition_of(name) not in conds:
            raise AnalysisInputError(f"unknown condition '{name}'; the table has: {', '.join(conds)}")
    if not pairs:
        raise AnalysisInputError("nothing to compare: the table has only the baseline condition")

    chosen = selection.select(df, spec.select_on, k) if spec.select_on and spec.iteration is None else None
    picked = _pick_best(df, pairs, spec, k, suites[0], finals)  # C@best: the iteration, chosen on one suite
    fixed = {t: p[1] for t in named if (p := iterations.parse(t)) and p[1] != iterations.BEST}
    arms = {t: int(it) for t, it in fixed.items()} | {s.token: s.iteration for s in picked.values()}
    raw = df  # the runs as they are: trajectories, curves and profiles never see the iteration arms
    plain = tuple(pair for pair in pairs if not any(iterations.parse(x) for x in pair))
    if arms:
        df = iterations.with_arms(df, arms)
        finals |= arms
    blocks, skipped = [], []
    for i, s in enumerate(suites):
        try:
            data = build_suite(df, s, spec.iteration, finals, chosen, pinned=arms)
            blocks.append(_analyze_suite(data, spec, k, pairs, i, picked))
        except AnalysisInputError as err:
            if i == 0:
                raise  # the primary suite must be analysable
            skipped.append(f"suite {s} not analysed: {err}")  # a secondary suite never costs the primary
    curves = _curves_from_outcomes(raw, k) if metrics_df is None else _curves_from_metrics(metrics_df)
    by_seed = trajectories.per_seed(raw[raw["suite"].isin(suites)], chosen, finals)
    picks = pd.DataFrame()
    if chosen:  # the selection suite itself is left out: at its own pick it has no optimism to show
        picks = selection.table(raw[raw["suite"] != spec.select_on], chosen, k)
        if spec.select_on in suites:
            skipped.append(f"suite {spec.select_on} chose the checkpoints: its scores there are optimistic")
    cat = lambda key: pd.concat([b[key] for b in blocks], ignore_index=True)  # noqa: E731
    broken = broken_evaluations(raw[raw["suite"].isin(suites)])
    design = {"anova": pd.DataFrame(), "effects": pd.DataFrame(), "notes": []}
    if spec.factors and spec.levels:
        design = factorial.analyze_factorial(cat("seeds"), spec.factors, spec.levels, 1 - spec.alpha)
    return AnalysisResult(
        spec=spec,
        primary_suite=suites[0],
        conditions=cat("conditions"),
        seeds=cat("seeds"),
        variance=cat("variance"),
        comparisons=cat("comparisons"),
        problem_deltas=cat("problem_deltas"),
        curves=curves,
        notes=tuple(_broken_note(r) for r in broken.itertuples())
        + tuple(n for b in blocks for n in b["notes"])
        + tuple(skipped)
        + tuple(design["notes"]),
        broken_evaluations=broken,
        trend=trend.trend(cat("seeds"), spec.trend[0], dict(spec.trend[2]), spec.trend[1], 1 - spec.alpha)
        if spec.trend
        else pd.DataFrame(),
        iterations={b["suite"]: b["iteration"] for b in blocks},
        selection=picks,
        trajectory=by_seed,
        problem_trajectory=trajectories.problem_rates(raw[raw["suite"].isin(suites)]),
        trajectory_summary=trajectories.summary(by_seed, 1 - spec.alpha),
        trajectory_comparisons=trajectories.compare(by_seed, plain, 1 - spec.alpha),
        head_to_head=cat("head_to_head"),
        head_to_head_consistent=cat("head_to_head_consistent"),
        factorial_anova=design["anova"],
        factorial_effects=design["effects"],
        profiles=pd.concat(
            [profiles.eval_profiles(raw[raw["suite"].isin(suites)]), profiles.rollout_profiles(metrics_df)],
            ignore_index=True,
        ),
        optimism=selection.optimism(picks, 1 - spec.alpha) if chosen else pd.DataFrame(),
    )


def broken_evaluations(df: pd.DataFrame) -> pd.DataFrame:
    """(suite, condition, iterations, pass_rate, format_failure_share) where the format alarm fires
    (trainables.common.diagnostics.broken_evaluation), over seeds, per iteration; empty without well_formed."""
    from trainables.common.diagnostics import broken_evaluation

    cols = ["suite", "condition", "iterations", "pass_rate", "format_failure_share"]
    if "well_formed" not in df.columns or df["well_formed"].isna().all():
        return pd.DataFrame(columns=cols)
    d = df[df["condition"] != BASE_ARM].assign(malformed=~df["well_formed"].astype(bool))
    g = d.groupby(["suite", "condition", "iteration"]).agg(pass_rate=("passed", "mean"), share=("malformed", "mean"))
    hit = g[[broken_evaluation(p, s) for p, s in zip(g["pass_rate"], g["share"], strict=True)]].reset_index()
    rows = [{"suite": suite, "condition": cond, "iterations": " ".join(str(i) for i in sorted(h["iteration"])),
             "pass_rate": float(h["pass_rate"].mean()), "format_failure_share": float(h["share"].mean())}
            for (suite, cond), h in hit.groupby(["suite", "condition"], sort=True)]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _broken_note(r: object) -> str:
    return (
        f"BROKEN EVALUATION? suite {r.suite}, {r.condition} (iterations {r.iterations}): pass rate "  # type: ignore[attr-defined]
        f"{100 * r.pass_rate:.1f}%, {100 * r.format_failure_share:.0f}% of samples do not parse or lack the "  # type: ignore[attr-defined]
        "entry point: a prompt or extraction format mismatch, not a measured 0%"
    )


def _pick_best(
    df: pd.DataFrame, pairs: tuple[tuple[str, str], ...], spec: AnalysisSpec, k: int, primary: str, finals: dict
) -> dict[str, iterations.Selected]:
    """token -> its chosen iteration for every ``C@best`` treatment, picked on the ``select_on`` suite (else the
    primary one) against the first baseline it is compared with (analysis/iterations.py)."""
    out: dict[str, iterations.Selected] = {}
    suite = spec.select_on or primary
    for treat, base in pairs:
        parsed = iterations.parse(treat)
        if parsed is None or parsed[1] != iterations.BEST:
            continue
        if treat in out:
            if out[treat].baseline != base:
                raise AnalysisInputError(f"{treat} is compared with {out[treat].baseline} and {base}; an iteration is "
                                         "picked against one baseline: compare it with one")  # fmt: skip
            continue
        base_parsed = iterations.parse(base)
        if base_parsed and base_parsed[1] == iterations.BEST:
            raise AnalysisInputError(f"{base}: a picked iteration is a treatment; compare it against a fixed arm")
        if base == BASE_ARM:
            base_it = 0
        elif base_parsed:
            base_it = int(base_parsed[1])
        else:
            base_it = int(finals.get(base, df.loc[df["condition"] == base, "iteration"].max()))
        rng = np.random.default_rng([spec.rng_seed, 7])
        out[treat] = iterations.select_best(treat, base, suite, selection.scores(df, k), base_it, rng, spec.n_boot)
    return out


def _analyze_suite(
    data: SuiteData,
    spec: AnalysisSpec,
    k: int,
    pairs: tuple[tuple[str, str], ...],
    index: int,
    picked: dict[str, iterations.Selected] | None = None,
) -> dict:
    rng = np.random.default_rng([spec.rng_seed, index])
    for cond, cube in data.outcomes.items():
        if cube.shape[2] < k:
            raise AnalysisInputError(
                f"suite {data.suite}, {cond}: {spec.metric} needs >= {k} samples per problem, has {cube.shape[2]}"
            )
    missing = sorted({c for pair in pairs for c in pair} - set(data.conditions))
    if missing:
        raise AnalysisInputError(
            f"suite {data.suite}: no outcomes for {', '.join(missing)} at iteration "
            f"{data.iteration}; pass --iteration, --study (arms of different kinds end at different iterations) "
            "or check the trials finished"
        )
    scores = {c: per_problem_scores(cube, k) for c, cube in data.outcomes.items()}  # (r, n) each
    level = 1 - spec.alpha
    conditions, seeds_rows, var_rows = [], [], []
    for cond, s in scores.items():
        per_seed = s.mean(axis=1)
        lo, hi = t_interval(per_seed, level)
        cube = data.outcomes[cond]
        n_seeds, mean, sd = over_seeds(per_seed)
        conditions.append({
            "suite": data.suite, "condition": cond, "n_seeds": n_seeds, "n_problems": s.shape[1],
            "n_samples": cube.shape[2], "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi,
        })  # fmt: skip
        ks = [j for j in PASS_AT_KS if j <= cube.shape[2]]
        at_k = {f"pass_at_{j}": per_problem_scores(cube, j).mean(axis=1) for j in sorted({*ks, k})}
        for i, seed in enumerate(data.seeds[cond]):
            row = {"suite": data.suite, "condition": cond, "seed": int(seed), "score": per_seed[i]}
            seeds_rows.append(row | {m: v[i] for m, v in at_k.items()})
        vc = variance_components(s)
        total = vc.seed + vc.problem + vc.residual
        var_rows.append({
            "suite": data.suite, "condition": cond, "var_seed": vc.seed, "var_problem": vc.problem,
            "var_residual": vc.residual, "sd_seed_pp": 100 * np.sqrt(vc.seed),
            "sd_problem_pp": 100 * np.sqrt(vc.problem), "sd_residual_pp": 100 * np.sqrt(vc.residual),
            "share_seed": vc.seed / total if total > 0 else np.nan, "se_mean_pp": 100 * vc.se_mean,
        })  # fmt: skip

    groups, n_units = data.groups()  # problems, or the suite's declared clusters, are what is resampled
    problem_counts = bs.resample_counts(rng, n_units, spec.n_boot)
    rows, deltas = [], []
    for treat, base in pairs:
        same_seeds = bool(np.array_equal(data.seeds[base], data.seeds[treat]))
        row = compare(data.outcomes[base], data.outcomes[treat], k, spec, rng, problem_counts, groups, same_seeds)
        ids = {"suite": data.suite, "treatment": treat, "baseline": base, "comparison": f"{treat}_vs_{base}"}
        paired = _paired_by_seed(data, scores, treat, base, level)
        rows.append(ids | row | paired)
        d = scores[treat].mean(axis=0) - scores[base].mean(axis=0)
        deltas.append(pd.DataFrame({
            "suite": data.suite, "treatment": treat, "baseline": base, "problem_id": list(data.problems),
            "treatment_score": scores[treat].mean(axis=0), "baseline_score": scores[base].mean(axis=0),
            "delta_pp": 100 * d,
        }))  # fmt: skip
    cmp = pd.DataFrame(rows)
    # Against the base model, or one condition at two iterations, the arms are the same runs: paired by seed.
    same_run = [iterations.same_run(t, b) for t, b in pairs]
    within = pd.Series(same_run, index=cmp.index)
    cmp["seed_test"] = np.where(within, "paired_t", "welch")
    cmp["p_seed"] = np.where(within, cmp["p_paired"], cmp["p_welch"])
    picks = [(picked or {}).get(t) for t in cmp["treatment"]]
    cmp["selected_iteration"] = [p.iteration if p else np.nan for p in picks]
    cmp["optimism_pp"] = [p.optimism_pp if p else np.nan for p in picks]
    cmp["p_maxt"] = np.nan
    for i, (p, base) in enumerate(zip(picks, cmp["baseline"], strict=True)):
        if p is not None and p.suite == data.suite and p.baseline == base:  # the pick's own suite: correct for it
            cmp.loc[i, "p_maxt"] = p.p_maxt
            cmp.loc[i, "p_seed"] = max(float(cmp.loc[i, "p_seed"]), p.p_maxt)
            cmp.loc[i, "seed_test"] = f"{cmp.loc[i, 'seed_test']}+maxT"
    # Two families: the comparisons between conditions, and the checks against the base model (did
    # training move a condition at all), which answer another question and are adjusted among themselves.
    cmp["p_holm"] = cmp["p_bh"] = np.nan
    for group in (within, ~within):
        if group.any():
            cmp.loc[group, "p_holm"] = holm(cmp.loc[group, "p_seed"])
            cmp.loc[group, "p_bh"] = benjamini_hochberg(cmp.loc[group, "p_seed"])
    cmp["family"] = spec.family
    cmp["p_adjusted"] = cmp["p_holm"] if spec.family == "declared" else cmp["p_bh"]
    margin = spec.equivalence_margin_pp  # declared before the study, or none: never the study's own MDE
    cmp["equivalence_margin_pp"] = np.nan if margin is None else margin
    cmp["verdict"] = [verdict(r.p_adjusted, *_interval(r), margin, spec.alpha) for r in cmp.itertuples()]
    family_size = {True: int(within.sum()), False: int((~within).sum())}
    planned = [_plan(scores, data, t, b, spec, family_size[w], w) for (t, b), w in zip(pairs, same_run, strict=True)]
    cmp["mde_seed_pp"] = [100 * mde for mde, _ in planned]
    cmp["seeds_needed"] = [need for _, need in planned]
    cmp["notes"] = [_notes(r, spec.alpha, spec.effect_of_interest_pp, spec.power) for r in cmp.itertuples()]
    one = {c: per_problem_scores(cube, 1) for c, cube in data.outcomes.items()}  # solved = pass@1 >= 0.5
    h2h, h2h_all = headtohead.head_to_head(data.suite, data.problems, data.seeds, one, pairs)
    notes = list(data.notes)
    for p in (picked or {}).values():
        notes.append(p.note() if p.suite == data.suite else
                     f"{p.token} is iteration {p.iteration}, picked on suite {p.suite}: reported here without "
                     "selection bias")  # fmt: skip
    if groups is not None:
        notes.append(f"suite {data.suite}: {len(data.problems)} problems in {n_units} declared clusters; problem-level "
                     "tests and the hierarchical interval resample whole clusters (cluster bootstrap, CR1 SE), "
                     "and McNemar, which takes problems as independent, is not used")  # fmt: skip
    return {
        "suite": data.suite, "iteration": data.iteration, "notes": notes,
        "head_to_head": h2h, "head_to_head_consistent": h2h_all,
        "conditions": pd.DataFrame(conditions), "seeds": pd.DataFrame(seeds_rows),
        "variance": pd.DataFrame(var_rows), "comparisons": cmp,
        "problem_deltas": pd.concat(deltas, ignore_index=True),
    }  # fmt: skip


def compare(
    cube_a: NDArray[np.bool_],
    cube_b: NDArray[np.bool_],
    k: int,
    spec: AnalysisSpec,
    rng: np.random.Generator,
    problem_counts: NDArray[np.float64],
    groups: NDArray[np.int64] | None = None,
    same_seeds: bool = True,
) -> dict:
    """All seed-level and problem-level statistics of treatment ``b`` against baseline ``a``.

    cube_a, cube_b: (n_seeds_arm, n_problems, n_samples_arm) bool on the same problems.
    problem_counts: (n_boot, n_units) resampling counts shared by both arms (and comparisons); a unit is
    a problem, or with ``groups`` (n_problems,) cluster indices, a cluster of problems resampled whole.
    The problem-level test is exact McNemar on discordant pairs summed over seed pairs when both arms
    have one sample per problem, k = 1, no clusters (McNemar takes problems as independent) and the same
    declared seeds (``same_seeds``: row i of each cube is the same seed id, so each pair is one seed's two
    runs, not an arbitrary matching); otherwise the paired bootstrap over problems or clusters. Returns a
    flat dict; deltas and intervals in pp, p-values unadjusted. Also used as is by the calibration
    simulation. The seed-level MDE and seeds needed depend on the family and are added by ``_plan``.
    """
    s_a, s_b = per_problem_scores(cube_a, k), per_problem_scores(cube_b, k)  # (r, n)
    a, b = s_a.mean(axis=1), s_b.mean(axis=1)  # per-seed scores
    level = 1 - spec.alpha
    welch = seedtests.welch_test(a, b, level)
    perm = seedtests.permutation_test(a, b, rng, n_resamples=spec.n_boot)
    sd = seedtests.pooled_sd(a, b)

    diffs = s_b.mean(axis=0) - s_a.mean(axis=0)  # (n_problems,)
    pb = problemtests.paired_bootstrap(diffs, problem_counts, level, groups)
    single = cube_a.shape[2] == 1 and cube_b.shape[2] == 1 and cube_a.shape[0] == cube_b.shape[0] and k == 1
    if single and groups is None and same_seeds:
        n10, n01 = problemtests.discordant_counts(cube_a[..., 0], cube_b[..., 0])
        problem_test, p_problem = "mcnemar_exact", problemtests.mcnemar_exact_p(n10, n01)
    else:
        n10 = n01 = -1
        problem_test, p_problem = "paired_bootstrap", pb.p

    boot, df = bs.hierarchical_bootstrap(s_a, s_b, problem_counts, rng, groups)
    h_lo, h_hi = bs.small_sample_interval(boot, welch.delta, df, level)
    n = diffs.size
    se_problem = problemtests.cluster_robust_se(diffs, groups)  # sd/sqrt(n) without clusters
    return {
        "n_seeds_treatment": b.size, "n_seeds_baseline": a.size, "n_problems": n,
        "delta_pp": 100 * welch.delta,
        "ci_low_pp": 100 * welch.ci_low, "ci_high_pp": 100 * welch.ci_high,
        "hier_ci_low_pp": 100 * h_lo, "hier_ci_high_pp": 100 * h_hi, "hier_df": df,
        "t_welch": welch.t, "df_welch": welch.df, "p_welch": welch.p,
        "p_permutation": perm.p, "permutation_exact": perm.exact, "permutation_min_p": perm.min_p,
        "hedges_g": seedtests.hedges_g(a, b), "prob_improvement": seedtests.probability_of_improvement(a, b),
        "problem_test": problem_test, "p_problem": p_problem, "discordant_b": n10, "discordant_c": n01,
        "problem_delta_pp": 100 * pb.delta, "p_problem_bootstrap": pb.p,
        "problem_ci_low_pp": 100 * pb.ci_low, "problem_ci_high_pp": 100 * pb.ci_high,
        "wins": int(np.sum(diffs > 0)), "losses": int(np.sum(diffs < 0)), "ties": int(np.sum(diffs == 0)),
        "best_case_p_net": problemtests.best_case_exact_p(round(float(diffs.sum()))),
        "sd_seed_pooled_pp": 100 * sd,
        "n_clusters": problem_counts.shape[1] if groups is not None else 0,
        "problem_se_pp": 100 * se_problem,
        "mde_problem_pp": 100 * power.mde_from_se(se_problem, spec.alpha, spec.power),
    }  # fmt: skip


def _plan(
    scores: dict, data: SuiteData, treat: str, base: str, spec: AnalysisSpec, m: int, same_run: bool
) -> tuple[float, float]:
    """(MDE in score units, seeds per arm for the declared effect of interest) of one comparison, for the
    verdict rule (its family of ``m`` at Holm's first step), at the 80% upper bound of the seed spread
    (analysis/planning.py); NaN seeds without a declared effect, both NaN with ``power_sims`` 0."""
    if spec.power_sims == 0:
        return float("nan"), float("nan")
    paired = None
    if same_run:
        shared = np.intersect1d(data.seeds[treat], data.seeds[base])
        pick = lambda c: scores[c].mean(axis=1)[np.searchsorted(data.seeds[c], shared)]  # noqa: E731
        paired = pick(treat) - pick(base)
    noise = planning.of_comparison(scores[base], scores[treat], paired).upper(PLAN_CONFIDENCE)
    rule = planning.Rule(spec.alpha, spec.alpha / m, paired is not None)
    r = min(scores[treat].shape[0], scores[base].shape[0])
    sims = spec.power_sims
    mde = planning.mde_rule(noise, r, rule, spec.power, sims, n_boot=sims, seed=spec.rng_seed)
    if spec.effect_of_interest_pp is None:
        return mde, float("nan")
    effect = spec.effect_of_interest_pp / 100
    return mde, planning.seeds_rule(noise, effect, rule, spec.power, sims, n_boot=sims, seed=spec.rng_seed)


def _interval(r) -> tuple[float, float]:
    """The interval a verdict reads: the paired one within a run (against the base model, or one condition at
    two iterations), else the hierarchical one."""
    if str(r.seed_test).startswith("paired_t"):
        return r.paired_ci_low_pp, r.paired_ci_high_pp
    return r.hier_ci_low_pp, r.hier_ci_high_pp


def _paired_by_seed(data: SuiteData, scores: dict, treat: str, base: str, level: float) -> dict:
    """Per-seed differences (treatment minus baseline) over the seeds both arms have: mean, t interval,
    p, and how many seeds went up or down. NaN / 0 when fewer than two seeds are shared."""
    shared = np.intersect1d(data.seeds[treat], data.seeds[base])
    pick = lambda c: scores[c].mean(axis=1)[np.searchsorted(data.seeds[c], shared)]  # noqa: E731
    d = pick(treat) - pick(base) if shared.size else np.zeros(0)
    nan = float("nan")
    out = {"n_paired_seeds": int(shared.size), "seeds_up": int(np.sum(d > 0)), "seeds_down": int(np.sum(d < 0))}
    if shared.size < 2:
        return out | {"paired_delta_pp": nan, "paired_ci_low_pp": nan, "paired_ci_high_pp": nan, "p_paired": nan}
    test = seedtests.paired_t_test(d, level)
    return out | {
        "paired_delta_pp": 100 * test.delta, "paired_ci_low_pp": 100 * test.ci_low,
        "paired_ci_high_pp": 100 * test.ci_high, "p_paired": test.p,
    }  # fmt: skip


def _notes(r, alpha: float, interest: float | None = None, power: float = 0.8) -> str:
    if str(r.seed_test).startswith("paired_t"):
        return _paired_notes(r, alpha)
    out = []
    if min(r.n_seeds_treatment, r.n_seeds_baseline) < 2:
        out.append("fewer than 2 seeds in an arm: no seed-level test is possible")
    elif r.permutation_exact and r.permutation_min_p >= alpha:
        out.append(
            f"{r.n_seeds_treatment} vs {r.n_seeds_baseline} seeds: with these values the exact permutation p "
            f"cannot go below {r.permutation_min_p:.3g}"
        )
    if r.p_problem < alpha and r.verdict != SUPPORTED:
        out.append(
            f"problem-level {r.problem_test} p={r.p_problem:.3g}: these models differ, but seed-to-seed "
            "variation leaves the condition effect unresolved"
        )
    if str(r.verdict).startswith(EQUIVALENT):
        out.append(f"interval within the declared margin +/-{r.equivalence_margin_pp:g} pp")
    elif r.verdict != SUPPORTED and interest is not None and np.isfinite(r.seeds_needed):
        out.append(f"about {int(r.seeds_needed)} seeds per arm would resolve the declared effect of interest, "
                   f"{interest:g} pp, with power {power:g}")  # fmt: skip
    elif r.verdict != SUPPORTED and interest is None:
        out.append("no effect of interest declared: set effect_of_interest_pp, or run study.plan, to plan seeds")
    return "; ".join(out)


def _paired_notes(r, alpha: float) -> str:
    """Notes on a comparison with the base model: how many seeds moved, and the problem-level view."""
    out = [f"up in {r.seeds_up} of {r.n_paired_seeds} seeds, down in {r.seeds_down} (paired by seed)"]
    if r.n_paired_seeds < 2:
        out.append("fewer than 2 seeds in both arms: no paired test is possible")
    if r.p_problem < alpha and r.verdict != SUPPORTED:
        out.append(f"problem-level {r.problem_test} p={r.p_problem:.3g}, but the seeds leave it unresolved")
    if str(r.verdict).startswith(EQUIVALENT):
        out.append(f"interval within the declared margin +/-{r.equivalence_margin_pp:g} pp")
    return "; ".join(out)


def _curves_from_outcomes(df: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per (suite, condition, seed, iteration) score: mean over problems of per-problem pass@k."""
    curves = selection.scores(df, k).rename(columns={"score": "value"})
    curves["metric"] = [f"eval/{s}/pass_at_{k}" for s in curves["suite"]]
    return curves[["condition", "seed", "iteration", "metric", "value"]]


def _curves_from_metrics(metrics_df: pd.DataFrame) -> pd.DataFrame:
    return check_metrics(metrics_df)
