"""A factorial study's main effects and interactions, with seeds as the unit of inference.

Conditions that cross factors (reward x optimizer: tests-grpo, ruff-gspo, ...) are analysed as one
design per suite: each seed's score (mean over problems, at the analysed checkpoint) in every cell.
Seeds share the base model and the data, so they are the repeated-measures subjects:

- `anova`: a repeated-measures ANOVA (statsmodels AnovaRM, seeds as subjects) with every factor's main
  effect and their interactions: F, degrees of freedom, p. It needs every seed in every cell; seeds
  missing a cell are left out (and counted).
- `effects`: each contrast in pp with a paired t-interval over seeds. A main effect of level L of factor F
  is, per seed, the mean over the other factors' cells of score(F=L) - score(F=reference), the
  reference being F's first declared level; a two-way interaction of levels (a, b) is the difference of
  differences (y[a, b] - y[a, ref]) - (y[ref, b] - y[ref, ref]) averaged over any third factor.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd

from analysis.seedtests import paired_t_test

Factors = tuple[tuple[str, tuple[str, ...]], ...]  # (factor, its levels, reference first), in order
Levels = tuple[tuple[str, tuple[str, ...]], ...]  # (condition, its level of each factor, in factor order)


def cells(seeds: pd.DataFrame, factors: Factors, levels: Levels) -> tuple[pd.DataFrame, int]:
    """(seed x factor levels -> score for the design's conditions, seeds dropped for a missing cell)."""
    names = [f for f, _ in factors]
    of = {cond: dict(zip(names, lv, strict=True)) for cond, lv in levels}
    rows = seeds[seeds["condition"].isin(of)]
    table = pd.DataFrame([{"seed": int(r.seed), **of[r.condition], "score": float(r.score)} for r in rows.itertuples()])
    if table.empty:
        return table, 0
    n_cells = int(np.prod([len(lv) for _, lv in factors]))
    full = table.groupby("seed")["score"].count() == n_cells
    return table[table["seed"].isin(full[full].index)].reset_index(drop=True), int((~full).sum())


def anova(table: pd.DataFrame, factors: Factors) -> pd.DataFrame:
    """Repeated-measures ANOVA rows (effect, F, df_num, df_den, p); empty with fewer than 2 full seeds."""
    from statsmodels.stats.anova import AnovaRM

    if table.empty or table["seed"].nunique() < 2:
        return pd.DataFrame(columns=["effect", "F", "df_num", "df_den", "p"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # zero within-cell variance gives inf / nan F
        res = AnovaRM(table, "score", "seed", within=[f for f, _ in factors]).fit().anova_table
    return pd.DataFrame({
        "effect": res.index.str.replace(":", " x "), "F": res["F Value"].to_numpy(),
        "df_num": res["Num DF"].to_numpy(), "df_den": res["Den DF"].to_numpy(), "p": res["Pr > F"].to_numpy(),
    })  # fmt: skip


def effects(table: pd.DataFrame, factors: Factors, level: float) -> pd.DataFrame:
    """Main-effect and two-way interaction contrasts (pp) with paired t-intervals over seeds."""
    cols = ["effect", "contrast", "n_seeds", "delta_pp", "ci_low_pp", "ci_high_pp", "p"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    names = [f for f, _ in factors]
    wide = table.pivot_table(index="seed", columns=names, values="score")
    rows = []
    for f, lv in factors:
        for other in lv[1:]:
            d = _mean_over_rest(wide, {f: other}, names) - _mean_over_rest(wide, {f: lv[0]}, names)
            rows.append(_row(f, f"{other} - {lv[0]}", d, level))
    for (f, lf), (g, lg) in itertools.combinations(factors, 2):
        for a, b in itertools.product(lf[1:], lg[1:]):
            cell = {(x, y): _mean_over_rest(wide, {f: x, g: y}, names) for x in (lf[0], a) for y in (lg[0], b)}
            d = (cell[a, b] - cell[a, lg[0]]) - (cell[lf[0], b] - cell[lf[0], lg[0]])
            rows.append(_row(f"{f} x {g}", f"({a} - {lf[0]}) x ({b} - {lg[0]})", d, level))
    return pd.DataFrame(rows, columns=cols)


def _mean_over_rest(wide: pd.DataFrame, fixed: dict[str, str], names: list[str]) -> pd.Series:
    """Per seed, the mean score over the cells with `fixed` levels (averaging the other factors)."""
    keep = [all(dict(zip(names, col if isinstance(col, tuple) else (col,), strict=True))[k] == v
                for k, v in fixed.items()) for col in wide.columns]  # fmt: skip
    return wide.loc[:, keep].mean(axis=1)


def _row(effect: str, contrast: str, d: pd.Series, level: float) -> dict:
    res = paired_t_test(d.to_numpy(), level)
    return {"effect": effect, "contrast": contrast, "n_seeds": int(d.size), "delta_pp": 100 * res.delta,
            "ci_low_pp": 100 * res.ci_low, "ci_high_pp": 100 * res.ci_high, "p": res.p}  # fmt: skip


def analyze_factorial(seeds: pd.DataFrame, factors: Factors, levels: Levels, level: float) -> dict[str, pd.DataFrame]:
    """Per suite: `anova` and `effects` (with a suite column), and notes on seeds left out."""
    anovas, contrasts, notes = [], [], []
    for suite, g in seeds.groupby("suite", sort=False):
        table, dropped = cells(g, factors, levels)
        if dropped:
            notes.append(f"factorial, suite {suite}: {dropped} seeds left out for a missing cell")
        anovas.append(anova(table, factors).assign(suite=suite, n_seeds=table["seed"].nunique() if len(table) else 0))
        contrasts.append(effects(table, factors, level).assign(suite=suite))
    return {
        "anova": pd.concat(anovas, ignore_index=True) if anovas else pd.DataFrame(),
        "effects": pd.concat(contrasts, ignore_index=True) if contrasts else pd.DataFrame(),
        "notes": notes,
    }
