"""Qualitative claims about training trajectories as measured quantities, per seed and per condition.

Seed document 001 says one model "forgot" a solved problem at a later checkpoint, produces more
"partial successes", and makes "cleaner" errors, each from one seed. From the per-sample outcomes:

- forgetting events: per (suite, condition, seed), the number of (problem, checkpoint) pairs where the
  problem is solved at a trained checkpoint and not at the next one (solved = at least half of its
  samples pass; checkpoints are iterations >= 1);
- partial successes: the share of samples at the reported checkpoint that pass some but not all of their
  test cases (needs the outcomes' tests_passed / tests_total columns);
- error types: the share of samples at the reported checkpoint by verdict category (runtime errors
  grouped without their exception type).
The reported checkpoint is the selected one when a selection is made, else the condition's final one.
Each is summarised per condition as a mean over seeds with a t-interval, and compared between the
study's pairs of conditions seed by seed (paired t on per-seed differences, BH-adjusted per suite:
these are exploratory, secondary to the declared comparisons of pass@k).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.estimators import t_interval
from analysis.multiplicity import benjamini_hochberg
from analysis.seedtests import paired_t_test
from trainables.common.metrics import BASE_ARM

Key = tuple[str, int]


def forgetting(df: pd.DataFrame) -> pd.DataFrame:
    """(suite, condition, seed, forgetting_events): solved -> unsolved transitions between consecutive
    trained checkpoints, summed over problems."""
    trained = df[(df["iteration"] >= 1) & (df["condition"] != BASE_ARM)]
    solved = trained.groupby(["suite", "condition", "seed", "problem_id", "iteration"])["passed"].mean() >= 0.5
    rows = []
    for (suite, cond, seed), g in solved.groupby(level=["suite", "condition", "seed"], sort=True):
        events = 0
        for _, track in g.groupby(level="problem_id"):
            seq = track.sort_index(level="iteration").to_numpy()
            events += int(((seq[:-1]) & (~seq[1:])).sum())
        rows.append({"suite": suite, "condition": cond, "seed": int(seed), "forgetting_events": float(events)})
    return pd.DataFrame(rows)


def at_checkpoint(df: pd.DataFrame, chosen: dict[Key, int] | None, finals: dict[str, int]) -> pd.DataFrame:
    """(suite, condition, seed, partial_success_share, error_<category>_share...) at the reported checkpoint."""
    rows = []
    for (suite, cond, seed), g in df[df["condition"] != BASE_ARM].groupby(["suite", "condition", "seed"]):
        it = (chosen or {}).get((str(cond), int(seed)), finals.get(str(cond), int(g["iteration"].max())))
        at = g[g["iteration"] == it]
        if at.empty:
            continue
        row: dict[str, object] = {"suite": suite, "condition": cond, "seed": int(seed), "checkpoint": int(it)}
        if {"tests_passed", "tests_total"} <= set(at.columns) and at["tests_total"].notna().all():
            partial = (at["tests_passed"] > 0) & (at["tests_passed"] < at["tests_total"])
            row["partial_success_share"] = float(partial.mean())
        if "category" in at.columns:
            kinds = at["category"].astype(str).str.split(":").str[0]
            for kind, share in kinds.value_counts(normalize=True).items():
                row[f"share_{kind}"] = float(share)
        rows.append(row)
    out = pd.DataFrame(rows)
    shares = [c for c in out.columns if c.startswith("share_")]
    return out.fillna(dict.fromkeys(shares, 0.0)) if shares else out


def per_seed(df: pd.DataFrame, chosen: dict[Key, int] | None, finals: dict[str, int]) -> pd.DataFrame:
    """Every trajectory quantity per (suite, condition, seed)."""
    keys = ["suite", "condition", "seed"]
    out = at_checkpoint(df, chosen, finals)
    lost = forgetting(df)
    if out.empty or lost.empty:
        return out if lost.empty else lost
    return out.merge(lost, on=keys, how="outer")


def problem_rates(df: pd.DataFrame) -> pd.DataFrame:
    """(suite, condition, seed, problem_id, iteration, pass_rate): the per-problem trajectory behind the plot."""
    g = df[df["condition"] != BASE_ARM].groupby(["suite", "condition", "seed", "problem_id", "iteration"])
    return g["passed"].mean().rename("pass_rate").reset_index()


def summary(by_seed: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per (suite, condition, quantity): mean over seeds with its t-interval."""
    if by_seed.empty:
        return pd.DataFrame()
    quantities = [c for c in by_seed.columns if c not in ("suite", "condition", "seed", "checkpoint")]
    rows = []
    for (suite, cond), g in by_seed.groupby(["suite", "condition"], sort=True):
        for q in quantities:
            values = g[q].dropna().to_numpy()
            lo, hi = t_interval(values, level)
            mean = float(values.mean()) if values.size else float("nan")
            rows.append({"suite": suite, "condition": cond, "quantity": q, "n_seeds": int(values.size),
                         "mean": mean, "ci_low": lo, "ci_high": hi})  # fmt: skip
    return pd.DataFrame(rows)


def compare(by_seed: pd.DataFrame, pairs: tuple[tuple[str, str], ...], level: float) -> pd.DataFrame:
    """Per (suite, treatment, baseline, quantity): the mean over shared seeds of treatment minus baseline
    (shares as fractions, forgetting in events), its paired t-interval and p, p_adj (BH within the
    suite), and how many seeds went up and down. Pairs with the untrained base arm are left out."""
    if by_seed.empty:
        return pd.DataFrame()
    quantities = [c for c in by_seed.columns if c not in ("suite", "condition", "seed", "checkpoint")]
    rows = []
    for suite, g in by_seed.groupby("suite", sort=True):
        table = g.set_index(["condition", "seed"])
        conds = set(g["condition"])
        for treat, base in pairs:
            if BASE_ARM in (treat, base) or not {treat, base} <= conds:
                continue
            for q in quantities:
                d = (table.loc[treat, q] - table.loc[base, q]).dropna().to_numpy()
                if d.size == 0:
                    continue
                res = paired_t_test(d, level)
                rows.append({"suite": suite, "treatment": treat, "baseline": base, "quantity": q,
                             "n_seeds": int(d.size), "delta": res.delta, "ci_low": res.ci_low, "ci_high": res.ci_high,
                             "p": res.p, "seeds_up": int((d > 0).sum()), "seeds_down": int((d < 0).sum())})  # fmt: skip
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_adj"] = np.nan
    for _, idx in out.groupby("suite").groups.items():
        out.loc[idx, "p_adj"] = benjamini_hochberg(out.loc[idx, "p"].to_numpy())
    return out
