"""Honest checkpoint selection: choose each seed's checkpoint on a validation suite, report on the others.

Seed document 001 picks "the optimal checkpoint" among 8 by the benchmark it then reports, which is
optimistic by construction. Here each (condition, seed) is analysed at the iteration (>= 1) that scores
best on the validation suite; the `selection` table puts, per suite, that score beside the last
checkpoint's and the oracle's (the best on the suite itself, what a pick on the test set reports), and
`optimism` summarises oracle minus selected per condition over seeds (in pp, with a t-interval).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.estimators import pass_at_k, t_interval
from analysis.tables import AnalysisInputError
from trainables.common.metrics import BASE_ARM

Key = tuple[str, int]  # (condition, seed)


def scores(df: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per (suite, condition, seed, iteration): the mean over problems of the per-problem pass@k."""
    g = df.groupby(["suite", "condition", "seed", "iteration", "problem_id"], sort=True)["passed"]
    per_problem = g.agg(["sum", "count"]).reset_index()
    per_problem = per_problem[per_problem["count"] >= k].copy()
    per_problem["score"] = pass_at_k(per_problem["count"].to_numpy(), per_problem["sum"].to_numpy(), k)
    return per_problem.groupby(["suite", "condition", "seed", "iteration"], as_index=False)["score"].mean()


def select(df: pd.DataFrame, suite: str, k: int) -> dict[Key, int]:
    """(condition, seed) -> its selected iteration: the best on `suite` among iterations >= 1, the earliest
    among ties. Conditions without trained iterations (an untrained arm) are not in the map."""
    shared = overlap(df, suite)
    if shared:
        raise AnalysisInputError(
            f"select_on: suite '{suite}' shares problems with {shared}; checkpoints chosen on it would be "
            "optimistic there too; give the validation suite problems of its own"
        )
    s = scores(df[(df["suite"] == suite) & (df["iteration"] >= 1) & (df["condition"] != BASE_ARM)], k)
    if s.empty:
        have = sorted(df["suite"].unique())
        raise AnalysisInputError(
            f"select_on: no outcomes on suite '{suite}' after iteration 0; the table has suites: {', '.join(have)}"
        )
    s = s.sort_values(["condition", "seed", "score", "iteration"], ascending=[True, True, False, True])
    best = s.drop_duplicates(["condition", "seed"])
    keys = zip(best["condition"], best["seed"], best["iteration"], strict=True)
    return {(str(c), int(seed)): int(it) for c, seed, it in keys}


def overlap(df: pd.DataFrame, suite: str) -> str:
    """'' when `suite`'s problems appear in no other suite, else the first overlap, named."""
    ids = df.groupby("suite")["problem_id"].agg(set)
    if suite not in ids:
        return ""
    for other, theirs in ids.items():
        common = ids[suite] & theirs if other != suite else set()
        if common:
            return f"suite '{other}' ({len(common)} problems, e.g. {sorted(common)[0]})"
    return ""


def table(df: pd.DataFrame, chosen: dict[Key, int], k: int) -> pd.DataFrame:
    """Per (suite, condition, seed): selected, last and oracle iterations and scores (fractions)."""
    s = scores(df[(df["iteration"] >= 1) & (df["condition"] != BASE_ARM)], k)
    rows = []
    for (suite, cond, seed), g in s.groupby(["suite", "condition", "seed"], sort=True):
        picked = chosen.get((str(cond), int(seed)))
        if picked is None:
            continue
        at = g.set_index("iteration")["score"]
        oracle_it = int(g.sort_values(["score", "iteration"], ascending=[False, True]).iloc[0]["iteration"])
        rows.append({
            "suite": suite, "condition": cond, "seed": int(seed),
            "selected_iteration": picked, "selected": float(at.get(picked, np.nan)),
            "last_iteration": int(at.index.max()), "last": float(at.loc[at.index.max()]),
            "oracle_iteration": oracle_it, "oracle": float(at.loc[oracle_it]),
        })  # fmt: skip
    out = pd.DataFrame(rows)
    if not out.empty:
        out["optimism_pp"] = 100 * (out["oracle"] - out["selected"])
    return out


def optimism(selection: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per (suite, condition): mean oracle-minus-selected (pp) over seeds with its t-interval, and the
    mean selected, last and oracle scores (fractions)."""
    rows = []
    for (suite, cond), g in selection.groupby(["suite", "condition"], sort=True):
        lo, hi = t_interval(g["optimism_pp"].to_numpy(), level)
        rows.append({
            "suite": suite, "condition": cond, "n_seeds": len(g), "selected": g["selected"].mean(),
            "last": g["last"].mean(), "oracle": g["oracle"].mean(), "optimism_pp": g["optimism_pp"].mean(),
            "optimism_ci_low_pp": lo, "optimism_ci_high_pp": hi,
        })  # fmt: skip
    return pd.DataFrame(rows)
