"""The analysis result: tables, flat MLflow-safe metrics and params, JSON and a text summary."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from analysis.spec import AnalysisSpec

CONDITION_METRICS = ("n_seeds", "mean", "sd", "ci_low", "ci_high")
VARIANCE_METRICS = ("sd_seed_pp", "sd_problem_pp", "sd_residual_pp", "share_seed")
COMPARISON_METRICS = (
    "delta_pp", "ci_low_pp", "ci_high_pp", "hier_ci_low_pp", "hier_ci_high_pp", "p_welch", "p_permutation",
    "p_problem", "p_holm", "p_bh", "p_adjusted", "hedges_g", "prob_improvement", "mde_seed_pp",
    "mde_problem_pp", "problem_se_pp", "n_clusters", "seeds_needed", "wins", "losses", "p_seed",
    "paired_delta_pp", "paired_ci_low_pp", "paired_ci_high_pp", "p_paired", "seeds_up", "seeds_down",
)  # fmt: skip


def safe_key(name: str) -> str:
    """MLflow-safe key part: keep alphanumerics, '_', '-', '.', ' '; anything else becomes '_'."""
    return re.sub(r"[^A-Za-z0-9_.\- ]", "_", str(name))


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """Everything ``analyze`` found.

    conditions: one row per (suite, condition): n_seeds, mean/sd/ci over per-seed scores (fraction).
    seeds: one row per (suite, condition, seed): score and unbiased pass@k for k <= K.
    variance: per (suite, condition) seed/problem/residual components (score^2 and sd in pp).
    comparisons: one row per (suite, treatment, baseline): deltas and intervals in pp, tests, MDEs,
        verdict and notes.
    problem_deltas: one row per (suite, comparison, problem): seed-averaged scores and delta in pp.
    curves: per-iteration values (condition, seed, iteration, metric, value).
    """

    spec: AnalysisSpec
    primary_suite: str
    conditions: pd.DataFrame
    seeds: pd.DataFrame
    variance: pd.DataFrame
    comparisons: pd.DataFrame
    problem_deltas: pd.DataFrame
    curves: pd.DataFrame
    notes: tuple[str, ...] = ()
    iterations: dict[str, int] = field(default_factory=dict)
    selection: pd.DataFrame = field(default_factory=pd.DataFrame)  # per (suite, condition, seed); select_on only
    optimism: pd.DataFrame = field(default_factory=pd.DataFrame)  # per (suite, condition); select_on only
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)  # per (suite, condition, seed): forgetting...
    trajectory_summary: pd.DataFrame = field(default_factory=pd.DataFrame)  # per (suite, condition, quantity)
    problem_trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)  # per problem and iteration: pass rate
    trajectory_comparisons: pd.DataFrame = field(default_factory=pd.DataFrame)  # per (suite, pair, quantity)
    profiles: pd.DataFrame = field(default_factory=pd.DataFrame)  # per (suite, condition, iteration, profile, key)
    broken_evaluations: pd.DataFrame = field(default_factory=pd.DataFrame)  # the format alarm, per (suite, condition)
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)  # per suite: seed-level slope over a numeric level
    head_to_head: pd.DataFrame = field(default_factory=pd.DataFrame)  # per (suite, comparison, seed): task flips
    head_to_head_consistent: pd.DataFrame = field(default_factory=pd.DataFrame)  # per (suite, comparison)
    factorial_anova: pd.DataFrame = field(default_factory=pd.DataFrame)  # per (suite, effect): repeated-measures F
    factorial_effects: pd.DataFrame = field(default_factory=pd.DataFrame)  # per (suite, contrast): pp, interval

    def _prefix(self, suite: str) -> str:
        return "" if suite == self.primary_suite else f"{safe_key(suite)}/"

    def mlflow_metrics(self) -> dict[str, float]:
        """Flat finite metrics: ``cond/<name>/<metric>_<stat>`` and ``cmp/<treat>_vs_<base>/<stat>``.

        Non-primary suites carry a ``<suite>/`` prefix. Condition stats are fractions; ``*_pp`` are pp.
        """
        m = safe_key(self.spec.metric)
        out: dict[str, float] = {}
        var = self.variance.set_index(["suite", "condition"])
        for r in self.conditions.itertuples(index=False):
            base = f"{self._prefix(r.suite)}cond/{safe_key(r.condition)}/"
            for stat in CONDITION_METRICS:
                out[f"{base}{m}_{stat}"] = float(getattr(r, stat))
            for stat in VARIANCE_METRICS:
                out[f"{base}{stat}"] = float(var.loc[(r.suite, r.condition), stat])
        for r in self.comparisons.itertuples(index=False):
            base = f"{self._prefix(r.suite)}cmp/{safe_key(r.comparison)}/"
            for stat in COMPARISON_METRICS:
                out[f"{base}{stat}"] = float(getattr(r, stat))
        for r in self.trend.itertuples(index=False):
            base = f"{self._prefix(r.suite)}trend/{safe_key(r.level)}/"
            for stat in ("slope_pp", "ci_low_pp", "ci_high_pp", "p"):
                out[f"{base}{stat}"] = float(getattr(r, stat))
        for r in self.broken_evaluations.itertuples(index=False):
            out[f"{self._prefix(r.suite)}alarm/broken_eval/{safe_key(r.condition)}"] = 1.0
        for r in self.head_to_head_consistent.itertuples(index=False):
            base = f"{self._prefix(r.suite)}h2h/{safe_key(f'{r.treatment}_vs_{r.baseline}')}/"
            out[f"{base}always_improved"] = float(r.always_improved)
            out[f"{base}always_regressed"] = float(r.always_regressed)
        h2h = self.head_to_head
        means = h2h.groupby(["suite", "treatment", "baseline"])[["improved", "regressed"]].mean() if len(h2h) else h2h
        for r in means.itertuples():
            base = f"{self._prefix(r.Index[0])}h2h/{safe_key(f'{r.Index[1]}_vs_{r.Index[2]}')}/"
            out[f"{base}improved_mean"], out[f"{base}regressed_mean"] = float(r.improved), float(r.regressed)
        for r in self.optimism.itertuples(index=False):
            base = f"{self._prefix(r.suite)}selection/{safe_key(r.condition)}/"
            for stat in ("selected", "last", "oracle", "optimism_pp", "optimism_ci_low_pp", "optimism_ci_high_pp"):
                out[f"{base}{stat}"] = float(getattr(r, stat))
        return {k: v for k, v in out.items() if math.isfinite(v)}

    def mlflow_params(self) -> dict[str, str]:
        """Settings and verdicts as strings: ``analysis/<field>`` and ``cmp/<treat>_vs_<base>/verdict``."""
        out = {f"analysis/{k}": str(v) for k, v in asdict(self.spec).items()}
        out["analysis/primary_suite"] = self.primary_suite
        for r in self.comparisons.itertuples(index=False):
            base = f"{self._prefix(r.suite)}cmp/{safe_key(r.comparison)}/"
            out[f"{base}verdict"] = r.verdict
            out[f"{base}problem_test"] = r.problem_test
        return out

    def to_json(self) -> dict:
        """JSON-ready dict: spec, iterations, notes, library versions and every table as records."""
        import scipy
        import statsmodels

        def records(df: pd.DataFrame) -> list[dict]:
            return [{k: _jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]

        return {
            "spec": asdict(self.spec),
            "primary_suite": self.primary_suite,
            "iterations": self.iterations,
            "notes": list(self.notes),
            "versions": {
                "numpy": np.__version__,
                "scipy": scipy.__version__,
                "statsmodels": statsmodels.__version__,
            },
            "conditions": records(self.conditions),
            "seeds": records(self.seeds),
            "variance": records(self.variance),
            "comparisons": records(self.comparisons),
            "selection": records(self.selection),
            "optimism": records(self.optimism),
            "trajectory": records(self.trajectory),
            "trajectory_summary": records(self.trajectory_summary),
            "trajectory_comparisons": records(self.trajectory_comparisons),
            "profiles": records(self.profiles),
            "broken_evaluations": records(self.broken_evaluations),
            "trend": records(self.trend),
            "head_to_head": records(self.head_to_head),
            "head_to_head_consistent": records(self.head_to_head_consistent),
            "factorial_anova": records(self.factorial_anova),
            "factorial_effects": records(self.factorial_effects),
        }

    def summary_text(self) -> str:
        """Readable plain-text tables: conditions, then comparisons with verdicts, per suite."""
        lines = [f"metric {self.spec.metric}, alpha {self.spec.alpha}, {self.spec.family} family, "
                 f"{self.spec.n_boot} bootstrap resamples, rng seed {self.spec.rng_seed}"]  # fmt: skip
        for suite, conds in self.conditions.groupby("suite", sort=False):
            lines += ["", f"suite {suite} (iteration {self.iterations.get(suite, '?')})"]
            c = conds.assign(
                mean_pct=100 * conds["mean"], sd_pp=100 * conds["sd"],
                ci95=_intervals(100 * conds["ci_low"], 100 * conds["ci_high"], ".1f"),
            )[["condition", "n_seeds", "n_problems", "n_samples", "mean_pct", "sd_pp", "ci95"]]  # fmt: skip
            lines.append(c.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
            cmp = self.comparisons[self.comparisons["suite"] == suite]
            paired = cmp["seed_test"] == "paired_t"  # against the base model: the paired interval decides
            t = pd.DataFrame({
                "comparison": cmp["comparison"], "delta_pp": cmp["delta_pp"].where(~paired, cmp["paired_delta_pp"]),
                "ci_pp": _intervals(cmp["hier_ci_low_pp"].where(~paired, cmp["paired_ci_low_pp"]),
                                    cmp["hier_ci_high_pp"].where(~paired, cmp["paired_ci_high_pp"]), ".2f"),
                "seed_test": cmp["seed_test"], "p_seed": cmp["p_seed"], "p_perm": cmp["p_permutation"],
                "p_adj": cmp["p_adjusted"],
                "p_problem": cmp["p_problem"], "g": cmp["hedges_g"], "mde_pp": cmp["mde_seed_pp"],
                "verdict": cmp["verdict"],
            })  # fmt: skip
            lines += ["", t.to_string(index=False, float_format=lambda x: f"{x:.3g}")]
            lines += [f"  {r.comparison}: {r.notes}" for r in cmp.itertuples() if r.notes]
        if not self.optimism.empty:
            o = self.optimism.assign(
                selected_pct=100 * self.optimism["selected"],
                last_pct=100 * self.optimism["last"],
                oracle_pct=100 * self.optimism["oracle"],
                optimism_ci=_intervals(
                    self.optimism["optimism_ci_low_pp"], self.optimism["optimism_ci_high_pp"], ".2f"
                ),
            )[["suite", "condition", "n_seeds", "selected_pct", "last_pct", "oracle_pct", "optimism_pp", "optimism_ci"]]
            lines += [
                "",
                f"checkpoints selected on {self.spec.select_on}; oracle = best on the suite itself "
                "(a pick on the test set), optimism = oracle - selected (pp, over seeds)",
            ]
            lines.append(o.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _intervals(low: pd.Series, high: pd.Series, fmt: str) -> list[str]:
    return [f"[{lo:{fmt}}, {hi:{fmt}}]" for lo, hi in zip(low, high, strict=True)]


def _jsonable(v: object) -> object:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
