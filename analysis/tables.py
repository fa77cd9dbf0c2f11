"""Ingest the tidy outcomes table and turn one suite of it into paired arrays.

Contract: one row per sample with columns condition (str), seed (int), iteration (int), suite (str),
problem_id (str), sample (int, 0..K-1), passed (bool); trials' tables concatenated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trainables.common.metrics import BASE_ARM

REQUIRED_COLUMNS = ("condition", "seed", "iteration", "suite", "problem_id", "sample", "passed")
OPTIONAL_COLUMNS = ("category", "tests_passed", "tests_total", "completion_tokens", "lint", "well_formed", "cluster")
# cluster: the problem's cluster where its suite declares them (a tiny task family, a LiveCodeBench contest);
# empty otherwise. Problems of one cluster are resampled together (analysis/bootstrap.py).
METRICS_COLUMNS = ("condition", "seed", "iteration", "metric", "value")


class AnalysisInputError(ValueError):
    """Bad input to the analysis; the message is one line naming what is wrong and the fix."""


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet table; errors name the fix."""
    p = Path(path)
    if not p.is_file():
        raise AnalysisInputError(f"{p}: file not found; pass the outcomes table trials write (.csv or .parquet)")
    if p.suffix == ".parquet":
        return pd.read_parquet(p)
    if p.suffix in (".csv", ".gz") or p.name.endswith(".csv.gz"):
        return pd.read_csv(p)
    raise AnalysisInputError(f"{p}: unknown table format '{p.suffix}'; use a .csv or .parquet file")


def check_outcomes(df: pd.DataFrame, where: str = "outcomes") -> pd.DataFrame:
    """Check columns and types; return a copy with canonical dtypes (str ids, int seed/sample, bool)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise AnalysisInputError(
            f"{where}: missing column(s) {', '.join(missing)}; the table needs {', '.join(REQUIRED_COLUMNS)}"
        )
    if df.empty:
        raise AnalysisInputError(f"{where}: the table has no rows; run the study's trials first")
    kept = [c for c in OPTIONAL_COLUMNS if c in df.columns]  # read by the trajectory quantities
    out = df.loc[:, list(REQUIRED_COLUMNS) + kept].copy()
    for col in ("condition", "suite", "problem_id"):
        out[col] = out[col].astype(str)
    try:
        for col in ("seed", "iteration", "sample"):
            out[col] = out[col].astype(np.int64)
    except (TypeError, ValueError) as err:
        raise AnalysisInputError(f"{where}: seed, iteration and sample must be integers ({err})") from None
    passed = out["passed"]
    if passed.dtype != bool:
        mapped = passed.astype(str).str.lower().map({"true": True, "false": False, "1": True, "0": False})
        if mapped.isna().any():
            raise AnalysisInputError(f"{where}: column passed must be boolean (True/False or 1/0)")
        out["passed"] = mapped.astype(bool)
    return out


def parse_metric(metric: str) -> int:
    """'pass_at_1' -> 1, 'pass_at_10' -> 10 (the project's one spelling; 'pass@k' as people type it is
    read too); anything else is an input error."""
    m = re.fullmatch(r"pass(?:@|_at_)(\d+)", metric.strip())
    if not m or int(m.group(1)) < 1:
        raise AnalysisInputError(f"unknown metric '{metric}'; use pass_at_1 or pass_at_k with k <= samples per problem")
    return int(m.group(1))


def canonical_metric(metric: str) -> str:
    """'pass@5' or 'pass_at_5' -> 'pass_at_5' (the name in every table, plot and MLflow key)."""
    return f"pass_at_{parse_metric(metric)}"


@dataclass(frozen=True)
class SuiteData:
    """One suite at one iteration, as arrays. ``outcomes[c]``: (n_seeds_c, n_problems, n_samples_c) bool,
    rows in ``seeds[c]`` order, columns in ``problems`` order (shared by every condition)."""

    suite: str
    iteration: int
    problems: tuple[str, ...]
    seeds: dict[str, NDArray[np.int64]]
    outcomes: dict[str, NDArray[np.bool_]]
    notes: tuple[str, ...] = field(default=())
    clusters: tuple[str, ...] | None = None  # per problem (``problems`` order); None: problems are independent

    def groups(self) -> tuple[NDArray[np.int64] | None, int]:
        """(cluster index per problem (n_problems,), or None; number of resampling units)."""
        if self.clusters is None:
            return None, len(self.problems)
        names, index = np.unique(np.asarray(self.clusters), return_inverse=True)
        return index.astype(np.int64), int(names.size)

    @property
    def conditions(self) -> tuple[str, ...]:
        return tuple(self.outcomes)


def with_base_arm(df: pd.DataFrame, conditions: tuple[str, ...]) -> pd.DataFrame:
    """The table plus BASE_ARM rows: per (suite, seed), the iteration-0 outcomes of `conditions` (those
    compared with the base model). They must agree where they overlap (a study evaluates iteration 0
    once per seed and every condition reads it); conditions that started from different iteration-0
    outcomes (another model, other eval settings) cannot share one base arm: an error says so."""
    at0 = df[(df["iteration"] == 0) & df["condition"].isin(conditions)]
    if at0.empty:
        raise AnalysisInputError(
            f"'{BASE_ARM}' needs iteration-0 outcomes of {', '.join(conditions)} and the table has none;"
            " evaluate iteration 0 (the default)"
        )
    keys = ["suite", "seed", "problem_id", "sample"]
    spread = at0.groupby(keys)["passed"].nunique()
    if (spread > 1).any():
        suite, seed, problem, _ = spread[spread > 1].index[0]
        raise AnalysisInputError(
            f"'{BASE_ARM}': {', '.join(conditions)} start from different iteration-0 outcomes (suite {suite}, "
            f"seed {seed}, problem {problem}); compare them with each other, or pass --iteration 0"
        )
    samples = at0.groupby(["suite", "condition", "seed"])["sample"].max().groupby(["suite", "seed"]).nunique()
    if (samples > 1).any():
        raise AnalysisInputError(f"'{BASE_ARM}': {', '.join(conditions)} evaluated iteration 0 with different K")
    base = at0.sort_values("condition", kind="stable").drop_duplicates(keys)
    return pd.concat([df, base.assign(condition=BASE_ARM)], ignore_index=True)


def select_iteration(
    df: pd.DataFrame,
    suite: str,
    iteration: int | None,
    finals: dict[str, int] | None = None,
    chosen: dict[tuple[str, int], int] | None = None,
    pinned: dict[str, int] | None = None,
) -> tuple[pd.DataFrame, int, list]:
    """Rows of ``suite`` at ``iteration``; None: each condition at its final iteration (``finals``, the
    resolved study's), or at the suite's last iteration when no finals are known. Seeds without it are
    dropped, noted. Returns (rows, the largest iteration used, notes)."""
    rows = df[df["suite"] == suite]
    if iteration is not None:
        wanted = pd.Series(int(iteration), index=rows.index)
    elif finals:
        wanted = rows["condition"].map(finals).fillna(rows["iteration"].max())
    else:
        wanted = pd.Series(int(rows["iteration"].max()), index=rows.index)
    if iteration is None and chosen:  # checkpoints selected per (condition, seed) on a validation suite
        keys = zip(rows["condition"], rows["seed"], strict=True)
        picked = pd.Series([chosen.get((str(c), int(s))) for c, s in keys], index=rows.index, dtype="float64")
        wanted = picked.fillna(wanted)
    wanted = wanted.where(rows["condition"] != BASE_ARM, 0)  # the base model is iteration 0, always
    if pinned:  # arms that name their iteration (C@2) keep it whatever --iteration says
        wanted = wanted.where(~rows["condition"].isin(list(pinned)), rows["condition"].map(pinned))
    at = rows[rows["iteration"] == wanted]
    per_cond = {str(c): int(i) for c, i in zip(rows["condition"], wanted, strict=True)}
    if iteration is None and chosen:
        per_cond = {c: i for c, i in per_cond.items() if not any(k[0] == c for k in chosen)}
    if at.empty:
        have = sorted(rows["iteration"].unique().tolist())
        asked = iteration if iteration is not None else ", ".join(f"{c} {i}" for c, i in sorted(per_cond.items()))
        raise AnalysisInputError(f"suite {suite}: no rows at iteration {asked}; available iterations: {have}")
    it = int(at["iteration"].max())
    notes = []
    if iteration is None and chosen:
        shown = ", ".join(f"{c} s{s}: {i}" for (c, s), i in sorted(chosen.items()))
        notes.append(f"suite {suite}: each seed at its checkpoint selected on the validation suite ({shown})")
    elif len(set(per_cond.values())) > 1:
        shown = ", ".join(f"{c} {i}" for c, i in sorted(per_cond.items()))
        notes.append(f"suite {suite}: conditions compared at their final iterations ({shown})")
    runs = rows[["condition", "seed"]].drop_duplicates()
    done = at[["condition", "seed"]].drop_duplicates()
    lost = runs.merge(done, how="left", indicator=True).query("_merge == 'left_only'")
    for cond, seed in lost[["condition", "seed"]].itertuples(index=False):
        want = (chosen or {}).get((str(cond), int(seed)), per_cond.get(str(cond)))
        notes.append(f"suite {suite}: {cond} seed {seed} has no iteration {want}; left out")
    return at, it, notes


def build_suite(
    df: pd.DataFrame,
    suite: str,
    iteration: int | None = None,
    finals: dict[str, int] | None = None,
    chosen: dict[tuple[str, int], int] | None = None,
    pinned: dict[str, int] | None = None,
) -> SuiteData:
    """Arrays for one suite; asserts every (condition, seed) answered the same problems, K samples each."""
    at, it, notes = select_iteration(df, suite, iteration, finals, chosen, pinned)
    problems = tuple(sorted(at["problem_id"].unique()))
    p_index = {p: i for i, p in enumerate(problems)}
    seeds, outcomes = {}, {}
    for cond, rows in at.groupby("condition", sort=True):
        seed_ids = np.sort(rows["seed"].unique())
        k = int(rows["sample"].max()) + 1
        s_idx = np.searchsorted(seed_ids, rows["seed"].to_numpy())
        p_idx = rows["problem_id"].map(p_index).to_numpy()
        j_idx = rows["sample"].to_numpy()
        if j_idx.min() < 0:
            raise AnalysisInputError(f"suite {suite}, {cond}: negative sample index; samples are 0..K-1")
        shape = (seed_ids.size, len(problems), k)
        count = np.zeros(shape, dtype=np.int64)
        np.add.at(count, (s_idx, p_idx, j_idx), 1)
        if count.max() > 1:
            raise AnalysisInputError(
                f"suite {suite}, {cond}: duplicate rows for one (seed, problem_id, sample) at iteration {it};"
                " de-duplicate the concatenated trial tables"
            )
        if count.min() == 0:
            s, p, _ = np.argwhere(count == 0)[0]
            raise AnalysisInputError(
                f"suite {suite}, {cond} seed {seed_ids[s]}: missing outcomes (e.g. problem {problems[p]});"
                " every condition and seed must answer the same problems with K samples (pairing)"
            )
        cube = np.zeros(shape, dtype=bool)
        cube[s_idx, p_idx, j_idx] = rows["passed"].to_numpy()
        seeds[str(cond)] = seed_ids
        outcomes[str(cond)] = cube
    return SuiteData(suite, it, problems, seeds, outcomes, tuple(notes), _clusters(at, suite, problems))


def _clusters(rows: pd.DataFrame, suite: str, problems: tuple[str, ...]) -> tuple[str, ...] | None:
    """Each problem's cluster from the optional ``cluster`` column; None when the suite declares none.
    A problem must have one cluster, and a suite that declares clusters must give every problem one."""
    if "cluster" not in rows.columns:
        return None
    labels = rows["cluster"].fillna("").astype(str)
    if (labels == "").all():
        return None
    per = labels.groupby(rows["problem_id"]).agg(lambda x: sorted(set(x)))
    split = per[per.map(len) > 1]
    if not split.empty:
        raise AnalysisInputError(
            f"suite {suite}: problem {split.index[0]} is in clusters {split.iloc[0]}; a problem belongs to one cluster"
        )
    named = {p: c[0] for p, c in per.items()}
    if any(named[p] == "" for p in problems):
        bare = next(p for p in problems if named[p] == "")
        raise AnalysisInputError(f"suite {suite}: problem {bare} has no cluster while others do; label every problem")
    return tuple(named[p] for p in problems)


def check_metrics(df: pd.DataFrame) -> pd.DataFrame:
    """Check the per-iteration metrics table (condition, seed, iteration, metric, value)."""
    missing = [c for c in METRICS_COLUMNS if c not in df.columns]
    if missing:
        raise AnalysisInputError(
            f"metrics: missing column(s) {', '.join(missing)}; the table needs {', '.join(METRICS_COLUMNS)}"
        )
    out = df.loc[:, list(METRICS_COLUMNS)].copy()
    out["condition"] = out["condition"].astype(str)
    out["metric"] = out["metric"].astype(str)
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    return out
