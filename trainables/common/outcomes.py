"""Per-problem outcome tables on disk: one CSV per evaluated iteration, written atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

OUTCOMES_DIR = "outcomes"
OUTCOME_COLUMNS = (
    "condition", "seed", "iteration", "suite", "problem_id", "sample", "passed", "category",
    "tests_passed", "tests_total",  # how many of the problem's test cases the sample passed: partial successes
    "completion_tokens", "lint",  # generated tokens; the sample's Ruff codes (diagnostics.lint_codes), space-joined
    "well_formed",  # parses and binds the entry point its tests call (diagnostics.well_formed): the format alarm
    "cluster",  # the problem's cluster where its suite declares them (SuiteSpec.clusters), else ""
)  # fmt: skip


def write_outcomes(trial_dir: Path, iteration: int, rows: list[dict[str, Any]]) -> Path:
    """Write (or rewrite, after a resume) one iteration's outcomes."""
    folder = trial_dir / OUTCOMES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"iter_{iteration:03d}.csv"
    tmp = path.with_suffix(".tmp")
    pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS)).to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


def read_outcomes(trial_dir: Path) -> pd.DataFrame:
    """All iterations of one trial as one tidy table (empty if none were written)."""
    files = sorted((trial_dir / OUTCOMES_DIR).glob("iter_*.csv"))
    if not files:
        return pd.DataFrame(columns=list(OUTCOME_COLUMNS))
    table = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    if "lint" in table:
        table["lint"] = table["lint"].fillna("")  # a clean sample's empty code list reads back as NaN
    return table
