"""Per-condition aggregates over seeds: the one place that computes n, mean and sd across seeds.

Used by the analysis (per-seed scores from outcomes), the study summary and the MLflow condition runs
(per-seed reported metrics), so the three can never disagree on what "mean +/- sd over seeds" is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike


def over_seeds(values: ArrayLike) -> tuple[int, float, float]:
    """(n, mean, sd) of per-seed values (nan dropped); sd with ddof=1, nan below two seeds."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0, float("nan"), float("nan")
    return int(v.size), float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan")


def condition_aggregates(per_seed: pd.DataFrame, metrics: list[str], order: list[str] | None = None) -> pd.DataFrame:
    """Rows (condition, metric, n_seeds, mean, sd) from a table with one row per (condition, seed) and
    one column per metric; conditions in `order` (default: first appearance), metrics as given."""
    cols = ["condition", "metric", "n_seeds", "mean", "sd"]
    if per_seed.empty:
        return pd.DataFrame(columns=cols)
    conditions = order or list(dict.fromkeys(per_seed["condition"]))
    rows = []
    for metric in metrics:
        if metric not in per_seed:
            continue
        for cond in conditions:
            n, mean, sd = over_seeds(per_seed.loc[per_seed["condition"] == cond, metric])
            if n:
                rows.append({"condition": cond, "metric": metric, "n_seeds": n, "mean": mean, "sd": sd})
    return pd.DataFrame(rows, columns=cols)
