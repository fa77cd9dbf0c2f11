"""Per-condition summary of final metrics: n seeds, mean +/- sd, delta vs the baseline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.aggregate import condition_aggregates
from study.layout import RESULTS_FILE
from study.space import MetricSpec
from trainables.common.config import TrialConfig


def trial_results(trial_dir: Path) -> list[dict[str, float]]:
    """A trial's reported results, one per iteration (the last report wins after a resume)."""
    path = trial_dir / RESULTS_FILE
    if not path.is_file():
        return []
    by_iter: dict[int, dict[str, float]] = {}
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                continue  # being written right now (a running trial read by an MLflow replay): skip it
            raise
        by_iter[int(row["iteration"])] = row
    return [by_iter[i] for i in sorted(by_iter)]


def final_table(trials: list[TrialConfig]) -> pd.DataFrame:
    """One row per finished trial: condition, seed, key and its last iteration's metrics."""
    rows = []
    for cfg in trials:
        results = trial_results(cfg.trial_dir)
        if results:
            rows.append({"condition": cfg.condition, "seed": cfg.seed, "trial_key": cfg.key, **results[-1]})
    return pd.DataFrame(rows)


def is_rate(metric: str) -> bool:
    return "pass_at_" in metric or metric.endswith("pass_rate") or metric.endswith("fix_rate")


def summarize(final: pd.DataFrame, metrics: tuple[MetricSpec, ...], baseline: str, order: list[str]) -> pd.DataFrame:
    """Rows (condition, metric): n, mean, sd (analysis.aggregate), delta vs baseline (pp for rates)."""
    agg = condition_aggregates(final, [m.name for m in metrics], order)
    if agg.empty:
        return agg
    direction = {m.name: m.direction for m in metrics}
    base = agg[agg.condition == baseline].set_index("metric")["mean"]
    agg.insert(2, "direction", agg.metric.map(direction))
    scale = agg.metric.map(lambda m: 100.0 if is_rate(m) else 1.0)
    agg["delta"] = [
        (r.mean - base[r.metric]) * s if r.condition != baseline and r.metric in base else np.nan
        for r, s in zip(agg.itertuples(), scale, strict=True)
    ]
    agg["delta_unit"] = agg.metric.map(lambda m: "pp" if is_rate(m) else "abs")
    return agg


def render(summary: pd.DataFrame, baseline: str) -> str:
    """A fixed-width text table: one block per metric."""
    if summary.empty:
        return "no finished trials to summarize"
    lines = []
    for metric, block in summary.groupby("metric", sort=False):
        direction = block.direction.iloc[0]
        lines.append(f"{metric} ({'higher' if direction == 'max' else 'lower'} is better)")
        for r in block.itertuples():
            sd = f"{r.sd:.4f}" if np.isfinite(r.sd) else "  n/a "
            delta = (
                "baseline"
                if r.condition == baseline
                else f"{r.delta:+.2f} {r.delta_unit} vs {baseline}"
                if np.isfinite(r.delta)
                else ""
            )
            lines.append(f"  {r.condition:<24} n={r.n_seeds:<3} {r.mean:.4f} +/- {sd}   {delta}")
    return "\n".join(lines)
