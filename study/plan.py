"""`python -m study.plan --space NAME [--pilot STUDY_DIR]`: seeds, samples and cost before any GPU is spent.

For every declared comparison: the MDE at the planned seeds and the seeds per arm needed for the space's
`effect_of_interest_pp`, for the verdict rule the analysis applies (Welch at alpha / m and the
hierarchical interval; the paired t-test against base@0), by simulation (analysis/planning.py). The seed
spread is planned at its upper confidence bound from a pilot study (any finished `study.run --out`
folder of the same space, e.g. `--seeds 2`); without a pilot, over a range of assumed spreads. From the
pilot's variance components: what more samples per problem (K) would buy; from its measured trial
durations and the profile's resources: the trial-hours and GPU-hours of the full study.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import iterations, planning
from study.cli import Parser, positive_int, positive_number, trial_gpus
from study.errors import UserError, cli_errors
from study.layout import DONE_FILE, OUTCOMES_FILE, STUDY_FILE, TRIALS_DIR
from study.profile import load_profile
from study.resolve import ResolvedStudy
from study.space import load_space
from trainables.common.metrics import BASE_ARM

ASSUMED_SDS_PP = (1.0, 2.0, 4.0, 8.0)


def parser() -> Parser:
    p = Parser(prog="study.plan", description=__doc__.splitlines()[0])
    p.add_argument("--space", required=True, help="space name or YAML path")
    p.add_argument("--profile", help="profile the full study will run on (default: the space's, else tiny)")
    p.add_argument("--pilot", type=Path, help="a finished study folder of this space (its --out) to plan from")
    p.add_argument("--seeds", type=positive_int, help="planned seeds per condition (default: the space's)")
    p.add_argument("--effect", type=positive_number, help="effect of interest in pp (default: the space's)")
    p.add_argument("--power", type=float, default=0.8, help="target power (default 0.8)")
    p.add_argument("--confidence", type=float, default=0.8, help="upper confidence bound of the seed sd (0.8)")
    p.add_argument("--assume-sd", type=positive_number, nargs="+", help="assumed seed sds in pp (no pilot)")
    p.add_argument("--gpus-per-trial", type=trial_gpus, help="GPUs per trial (default: the profile's)")
    p.add_argument("--sims", type=positive_int, default=500, help="simulated studies per power (default 500)")
    p.add_argument("--json", type=Path, help="also write the plan as JSON here")
    return p


@dataclass(frozen=True)
class Pilot:
    """What a finished study tells the plan: its outcomes, resolved study and trial durations (s)."""

    study: ResolvedStudy
    outcomes: pd.DataFrame
    durations: pd.DataFrame  # condition, seed, duration_s


def load_pilot(path: Path, space: str) -> Pilot:
    file = path / STUDY_FILE
    if not file.is_file():
        raise UserError(f"--pilot: no {STUDY_FILE} in {path}; pass the --out folder of a finished study.run")
    study = ResolvedStudy.model_validate(json.loads(file.read_text())["study"])
    if study.name != space:
        raise UserError(f"--pilot: {path} is a study of space '{study.name}', not '{space}'; pilot the same space")
    table = path / OUTCOMES_FILE
    if not table.is_file():
        raise UserError(f"--pilot: no {OUTCOMES_FILE} in {path}; finish the pilot with study.run --resume")
    rows = []
    for t in study.trials:
        done = path / TRIALS_DIR / Path(t.trial_dir or t.key).name / DONE_FILE  # the key as written then
        if done.is_file():
            rows.append(
                {"condition": t.condition, "seed": t.seed, "duration_s": json.loads(done.read_text())["duration_s"]}
            )
    return Pilot(study, pd.read_csv(table), pd.DataFrame(rows, columns=["condition", "seed", "duration_s"]))


def rules(study: ResolvedStudy, alpha: float = 0.05) -> dict[tuple[str, str], planning.Rule]:
    """The rule of each comparison: Holm's first step (alpha / m) within its family, as analysis/core.py
    splits them (within one run: against the base model or another iteration; between conditions). A
    picked iteration (C@best) is planned as if fixed: its max-T correction costs more seeds than shown."""
    within = [c for c in study.comparisons if iterations.same_run(*c)]
    between = [c for c in study.comparisons if not iterations.same_run(*c)]
    out = {}
    for group, paired in ((within, True), (between, False)):
        for c in group:
            out[c] = planning.Rule(alpha=alpha, alpha_test=alpha / len(group), paired=paired)
    return out


def plan_rows(
    noises: dict[tuple[str, str], planning.Noise],
    rule_of: dict[tuple[str, str], planning.Rule],
    seeds: int,
    effect_pp: float | None,
    power: float,
    sims: int,
) -> pd.DataFrame:
    """One row per (comparison, noise label): MDE at ``seeds``, power and seeds needed at the effect."""
    rows = []
    for (pair, label), noise in noises.items():
        rule = rule_of[pair]
        effect = None if effect_pp is None else effect_pp / 100
        rows.append({
            "comparison": f"{pair[0]} vs {pair[1]}", "basis": label,
            "test": "paired t" if rule.paired else "welch+hier",
            "alpha_test": rule.alpha_test, "sd_pp": _sd_pp(noise, rule),
            "mde_pp": 100 * planning.mde_rule(noise, seeds, rule, power, sims),
            "power_at_effect": np.nan if effect is None else planning.power_rule(noise, seeds, effect, rule, sims),
            "seeds_needed": np.nan if effect is None else planning.seeds_rule(noise, effect, rule, power, sims),
        })  # fmt: skip
    return pd.DataFrame(rows)


def samples_rows(noise: planning.Noise, rule: planning.Rule, seeds: int, effect_pp: float | None, power: float,
                 sims: int) -> pd.DataFrame:  # fmt: skip
    """What K samples per problem buy: seed sd, MDE and seeds needed at K = 1, the pilot's, 2x and 4x."""
    k0 = noise.n_samples
    rows = []
    for k in sorted({1, k0, 2 * k0, 4 * k0}):
        n = noise.with_samples(k)
        rows.append({
            "samples_per_problem": k, "sd_pp": _sd_pp(n, rule),
            "mde_pp": 100 * planning.mde_rule(n, seeds, rule, power, sims),
            "seeds_needed": np.nan if effect_pp is None else planning.seeds_rule(n, effect_pp / 100, rule, power, sims),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _sd_pp(noise: planning.Noise, rule: planning.Rule) -> float:
    """The sd the test sees, in pp: one seed's mean score (welch), one seed's paired difference (paired t)."""
    return 100 * math.sqrt(max((2 if rule.paired else 1) * noise.var_seed_mean, 0.0))


def cost(durations: pd.DataFrame, seeds_of: dict[str, float], gpus: float, cpus: float) -> dict[str, float]:
    """Trial-hours, GPU-hours and CPU-hours of running ``seeds_of[c]`` seeds of each condition, at the
    mean measured duration of its pilot trials (the mean over all pilot trials where one has none)."""
    overall = float(durations["duration_s"].mean())
    mean = durations.groupby("condition")["duration_s"].mean().to_dict()
    hours = sum(n * mean.get(c, overall) for c, n in seeds_of.items()) / 3600
    return {"trials": float(sum(seeds_of.values())), "trial_hours": hours, "gpu_hours": hours * gpus,
            "cpu_hours": hours * cpus}  # fmt: skip


def seeds_per_condition(conditions: list[str], rows: pd.DataFrame, planned: int) -> dict[str, float]:
    """Seeds each condition needs: the most any comparison naming it needs, at least ``planned``."""
    need = dict.fromkeys(conditions, float(planned))
    for r in rows.itertuples():
        if not pd.isna(r.seeds_needed):
            for c in (iterations.condition_of(x) for x in str(r.comparison).split(" vs ")):
                if c in need:
                    need[c] = max(need[c], float(r.seeds_needed))
    return need


def _fmt(x: float, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if x == math.inf:
        return "> 200" if unit == "seeds" else "unreachable"
    return f"{int(x)}" if unit == "seeds" else f"{x:.2f}{unit}"


def render(rows: pd.DataFrame) -> str:
    out = rows.copy()
    for col, unit in (("sd_pp", " pp"), ("mde_pp", " pp"), ("power_at_effect", ""), ("seeds_needed", "seeds")):
        if col in out:
            out[col] = [_fmt(x, unit) for x in out[col]]
    if "alpha_test" in out:
        out["alpha_test"] = [f"{x:.3g}" for x in out["alpha_test"]]
    return out.to_string(index=False)


@cli_errors
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not 0 < args.power < 1 or not 0 < args.confidence < 1:
        raise UserError("--power and --confidence are probabilities; give values between 0 and 1")
    loaded = load_space(args.space)
    space = loaded.space
    profile = load_profile(args.profile or space.profile or "tiny")
    from study.analysis_run import spec_inputs
    from study.resolve import Options, resolve_study

    planned = args.seeds or len(space.seed_list)
    study = resolve_study(loaded, profile, Options(seeds=planned), Path("plan"), Path("plan"))
    effect = args.effect or space.effect_of_interest_pp
    metric, suite = spec_inputs(study.primary_metric.name)
    rule_of = rules(study)
    print(f"Plan for {space.name} on profile {profile.name}: {len(study.conditions)} conditions x {planned} seeds, "
          f"primary metric {study.primary_metric.name}, target power {args.power:g}")  # fmt: skip
    print("rule: supported when the seed-level p is below alpha / m (Holm's first step over the m comparisons of "
          "its family) and the hierarchical 95% interval excludes 0; against base@0 the paired t-test")  # fmt: skip
    print(f"effect of interest: {f'{effect:g} pp' if effect else 'none declared (set effect_of_interest_pp)'}")
    report: dict = {"space": space.name, "profile": profile.name, "planned_seeds": planned, "effect_pp": effect}
    if args.pilot is None:
        sds = args.assume_sd or ASSUMED_SDS_PP
        noises = {
            (pair, f"assumed sd {sd:g} pp"): planning.assumed(sd, 100) for pair in study.comparisons for sd in sds
        }
        rows = plan_rows(noises, rule_of, planned, effect, args.power, args.sims)
        pilot = f"python -m study.run --space {space.name} --seeds 2 --out out/{space.name}-pilot"
        print(f"no pilot: planned over assumed sds of one seed's mean score; run a pilot (`{pilot}`), then --pilot it")
        print(render(rows))
        report["comparisons"] = rows.to_dict(orient="records")
        return _write(args.json, report)
    pilot = load_pilot(args.pilot, space.name)
    data, k = _pilot_suite(pilot, suite, metric, study.comparisons)
    notes = _pilot_notes(pilot, profile.name)
    noises, raw = {}, {}
    for pair in study.comparisons:
        try:
            raw[pair] = planning.measured(data, pair, k)
        except (ValueError, KeyError) as err:
            raise UserError(f"--pilot: {err}; run the pilot with --seeds 2 or more") from None
        noises[(pair, f"{100 * args.confidence:g}% upper bound")] = raw[pair].upper(args.confidence)
    first = raw[study.comparisons[0]]
    print(f"pilot {args.pilot}: suite {data.suite}, {len(data.problems)} problems, K={first.n_samples}, "
          f"seed spread measured on {first.df:g} df" + "".join(f"; {n}" for n in notes))  # fmt: skip
    rows = plan_rows(noises, rule_of, planned, effect, args.power, args.sims)
    rows.insert(4, "sd_pilot_pp", [_sd_pp(raw[p], rule_of[p]) for p in study.comparisons])
    print("sd: of one seed's score (welch+hier) or of one seed's paired difference (paired t); the plan uses the bound")
    print(render(rows.assign(sd_pilot_pp=[_fmt(x, " pp") for x in rows["sd_pilot_pp"]])))
    report["comparisons"] = rows.to_dict(orient="records")
    report["samples"] = {}
    if k == 1 and first.sampling > 0:
        print("\nsamples per problem (the sampling noise of K samples is part of each seed's spread):")
        alike: dict[tuple, list[str]] = {}  # comparisons with the same rule and spread share one table
        for pair in study.comparisons:
            alike.setdefault((noises[(pair, rows["basis"][0])], rule_of[pair]), []).append(f"{pair[0]} vs {pair[1]}")
        for (noise, rule), names in alike.items():
            table = samples_rows(noise, rule, planned, effect, args.power, args.sims)
            print(f"{', '.join(names)}:\n{render(table)}")
            report["samples"] |= dict.fromkeys(names, table.to_dict(orient="records"))
    gpus = profile.resources.gpu if args.gpus_per_trial is None else args.gpus_per_trial
    report["cost"] = _print_cost(pilot, study.condition_names, rows, planned, gpus, profile.resources.cpu)
    return _write(args.json, report)


def _pilot_suite(pilot: Pilot, suite: str | None, metric: str, comparisons: tuple) -> tuple:
    from analysis.tables import AnalysisInputError, build_suite, check_outcomes, parse_metric, with_base_arm

    try:
        df = check_outcomes(pilot.outcomes)
        against = tuple(sorted({iterations.condition_of(t) for t, b in comparisons if b == BASE_ARM}))
        finals = dict(pilot.study.finals())
        if against:
            df, finals = with_base_arm(df, against), finals | {BASE_ARM: 0}
        arms = {}  # C@2 at its iteration; C@best planned at C's final (the pick is not known before the study)
        for arm in {x for pair in comparisons for x in pair}:
            parsed = iterations.parse(arm)
            if parsed:
                arms[arm] = finals[parsed[0]] if parsed[1] == iterations.BEST else int(parsed[1])
        if arms:
            df = iterations.with_arms(df, arms)
        name = suite or sorted(df["suite"].unique())[0]
        return build_suite(df, name, None, finals | arms, pinned=arms), parse_metric(metric)
    except AnalysisInputError as err:
        raise UserError(f"--pilot: {err}") from None


def _pilot_notes(pilot: Pilot, profile: str) -> list[str]:
    notes = []
    if pilot.study.smoke:
        notes.append("a --smoke pilot: its spread and durations are not those of the full budget")
    if pilot.study.profile != profile:
        notes.append(f"the pilot ran profile {pilot.study.profile}: its durations do not price {profile}")
    return notes


def _print_cost(pilot: Pilot, conditions: list[str], rows: pd.DataFrame, planned: int, gpus: float,
                cpus: float) -> dict:  # fmt: skip
    if pilot.durations.empty:
        print("\ncost: the pilot has no finished trials with a recorded duration")
        return {}
    print(f"\ncost (mean pilot trial {pilot.durations['duration_s'].mean() / 60:.1f} min; {gpus:g} GPU and "
          f"{cpus:g} CPU per trial):")  # fmt: skip
    out = {}
    designs = {f"planned ({planned} seeds)": dict.fromkeys(conditions, float(planned))}
    if rows["seeds_needed"].notna().any():
        designs["seeds needed for the effect"] = seeds_per_condition(conditions, rows, planned)
    for name, seeds_of in designs.items():
        c = cost(pilot.durations, seeds_of, gpus, cpus)
        out[name] = c | {"seeds": seeds_of}
        if not math.isfinite(c["trials"]):
            print(f"  {name}: unbounded (a comparison cannot reach the power within 200 seeds)")
            continue
        print(f"  {name}: {c['trials']:.0f} trials, {c['trial_hours']:.2f} trial-hours, {c['gpu_hours']:.2f} "
              f"GPU-hours, {c['cpu_hours']:.2f} CPU-hours")  # fmt: skip
    return out


def _write(path: Path | None, report: dict) -> int:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1, default=str))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
