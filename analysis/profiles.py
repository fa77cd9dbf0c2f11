"""Diagnostic profiles per condition over iterations: how samples fail, what Ruff finds, how long they are.

From the evaluation outcomes (per sample: `category`, and when present `lint` codes and
`completion_tokens`) and, when the per-iteration metrics are given, from the rollouts' own profile
(`train/error/<kind>`, `train/ruff/<category>`, `train/completion_length`). Each value is a mean over
seeds of the seed's value: error shares (fractions of samples), Ruff findings per program per rule
category, completion length in tokens. Rows: (suite, condition, iteration, profile, key, value), suite
"rollouts" for the training samples.
"""

from __future__ import annotations

import pandas as pd

from trainables.common.diagnostics import error_kind
from trainables.common.lint import CATEGORIES, rule_categories
from trainables.common.metrics import BASE_ARM

COLUMNS = ["suite", "condition", "iteration", "profile", "key", "value"]


def eval_profiles(df: pd.DataFrame) -> pd.DataFrame:
    """The evaluation samples' profiles (module docstring); empty without a `category` column."""
    if "category" not in df.columns or df.empty:
        return pd.DataFrame(columns=COLUMNS)
    d = df[df["condition"] != BASE_ARM].copy()
    keys = ["suite", "condition", "seed", "iteration"]
    d["kind"] = d["category"].astype(str).map(error_kind)
    errors = pd.crosstab([d[k] for k in keys], d["kind"], normalize="index").stack().rename("value").reset_index()
    frames = [errors.rename(columns={"kind": "key"}).assign(profile="error")]
    if "lint" in d.columns:
        table = rule_categories()
        codes = d["lint"].fillna("").astype(str).str.split()
        for cat in CATEGORIES:
            d[cat] = codes.map(lambda cs, c=cat: sum(table.get(x, "correctness") == c for x in cs))
        ruff = d.groupby(keys)[list(CATEGORIES)].mean().stack().rename("value").reset_index()
        frames.append(ruff.rename(columns={f"level_{len(keys)}": "key"}).assign(profile="ruff"))
    if "completion_tokens" in d.columns and d["completion_tokens"].notna().any():
        length = d.groupby(keys)["completion_tokens"].mean().rename("value").reset_index()
        frames.append(length.assign(profile="length", key="completion_tokens"))
    per_seed = pd.concat(frames, ignore_index=True)
    return _over_seeds(per_seed)


def rollout_profiles(metrics: pd.DataFrame | None) -> pd.DataFrame:
    """The rollouts' profiles from per-iteration metrics (condition, seed, iteration, metric, value)."""
    if metrics is None or metrics.empty:
        return pd.DataFrame(columns=COLUMNS)
    m = metrics[metrics["metric"].str.match(r"^train/(error/|ruff/|completion_length$)")].copy()
    if m.empty:
        return pd.DataFrame(columns=COLUMNS)
    parts = m["metric"].str.removeprefix("train/").str.split("/", n=1)
    m["profile"] = parts.str[0].replace({"completion_length": "length"})
    m["key"] = parts.map(lambda p: p[1] if len(p) > 1 else "completion_tokens")
    # a kind that did not occur in a seed's rollouts is not logged there: it is a share of 0, not a gap
    keys = ["condition", "seed", "iteration"]
    counts = m[m["profile"] != "length"].set_index([*keys, "profile", "key"])["value"]
    counts = counts.groupby(level=list(range(5))).mean().unstack(["profile", "key"]).fillna(0.0)
    filled = counts.stack(["profile", "key"], future_stack=True).rename("value").reset_index()
    long = pd.concat([filled, m[m["profile"] == "length"][[*keys, "profile", "key", "value"]]], ignore_index=True)
    return _over_seeds(long.assign(suite="rollouts"))


def _over_seeds(per_seed: pd.DataFrame) -> pd.DataFrame:
    per_seed = per_seed.astype({"iteration": "int64", "value": "float64"})  # a base arm's concat leaves objects
    out = per_seed.groupby(["suite", "condition", "iteration", "profile", "key"], as_index=False)["value"].mean()
    return out[COLUMNS].sort_values(COLUMNS[:5]).reset_index(drop=True)
