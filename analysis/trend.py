"""A dose-response trend across conditions: the slope of a seed's score over a numeric level (pairs,
steps, ...), with seeds as the unit of inference.

Seed document 002 reads "each 500 additional pairs costs ~2 pp" from one run per pair count. Here each
seed's scores over the trend's conditions (at their analysed checkpoints) give that seed's least-squares
slope; the slopes' mean over seeds, its t-interval and p (one-sample t against 0) are the trend, in pp
per `per` units of the level. A seed missing a condition is left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.seedtests import paired_t_test

COLUMNS = ["suite", "level", "per", "n_seeds", "n_conditions", "slope_pp", "ci_low_pp", "ci_high_pp", "p",
           "seed_slopes_pp"]  # fmt: skip


def trend(seeds: pd.DataFrame, name: str, values: dict[str, float], per: float, level: float) -> pd.DataFrame:
    """Per suite: the seed-level slope of score over `values[condition]`, in pp per `per` units."""
    rows = []
    for suite, g in seeds[seeds["condition"].isin(values)].groupby("suite", sort=False):
        wide = g.pivot_table(index="seed", columns="condition", values="score").dropna()
        if wide.shape[1] < 2 or wide.empty:
            continue
        x = np.array([values[c] for c in wide.columns], dtype=float)
        xc = x - x.mean()
        slopes = (wide.to_numpy() - wide.to_numpy().mean(axis=1, keepdims=True)) @ xc / (xc @ xc)
        res = paired_t_test(slopes * per * 100, level)
        rows.append({"suite": suite, "level": name, "per": per, "n_seeds": len(slopes), "n_conditions": len(x),
                     "slope_pp": res.delta, "ci_low_pp": res.ci_low, "ci_high_pp": res.ci_high, "p": res.p,
                     "seed_slopes_pp": " ".join(f"{s * per * 100:.9g}" for s in slopes)})  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)
