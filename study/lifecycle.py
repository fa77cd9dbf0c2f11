"""The driver's side of a study: MLflow runs per trial, progress, and idempotent finalisation.

Every step is safe to repeat: runs are found by their keys, steps are logged once, and a trial that
finished on disk but not in MLflow (the driver died in between) is finalised on the next resume.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.aggregate import condition_aggregates
from study.layout import DONE_FILE, RESULTS_FILE
from study.progress import Progress
from study.summary import trial_results
from study.tracking import Tracker, flatten
from trainables.common.config import LOCATIONS, TrialConfig
from trainables.common.outcomes import read_outcomes


def is_done(cfg: TrialConfig) -> bool:
    return (cfg.trial_dir / DONE_FILE).is_file()


def duration(cfg: TrialConfig) -> float:
    return float(json.loads((cfg.trial_dir / DONE_FILE).read_text())["duration_s"])


def trial_params(cfg: TrialConfig, provenance: dict[str, str]) -> dict[str, str]:
    body = cfg.model_dump(mode="json", exclude=set(LOCATIONS))
    return {
        **flatten("", body),
        "trainable": cfg.trainable,
        "trial_key": cfg.key,
        "config_hash": cfg.config_hash(),
        **provenance,
    }


def _reported(result: dict[str, Any]) -> dict[str, float]:
    keep = ("eval/", "train/", "iteration", "trial_s")
    return {k: v for k, v in result.items() if k.startswith(keep) and isinstance(v, int | float)}


class StudyHooks:
    """Implements orchestrate.Hooks: MLflow writes and progress lines for each trial event."""

    def __init__(
        self,
        tracker: Tracker,
        progress: Progress,
        trials: list[TrialConfig],
        condition_runs: dict[str, str],
        provenance: dict[str, str],
        primary_metric: str,
    ) -> None:
        self.tracker = tracker
        self.progress = progress
        self.trials = {t.key: t for t in trials}
        self.condition_runs = condition_runs
        self.provenance = provenance
        self.primary = primary_metric
        self.run_ids: dict[str, str] = {}

    def run_id(self, key: str) -> str:
        if key not in self.run_ids:
            cfg = self.trials[key]
            self.run_ids[key] = self.tracker.trial_run(
                self.condition_runs[cfg.condition],
                key,
                cfg.run_name,
                cfg.condition,
                trial_params(cfg, self.provenance),
            )
        return self.run_ids[key]

    def started(self, key: str) -> None:
        self.tracker.mark_running(self.run_id(key))
        self.progress.on_start(key)

    def result(self, key: str, result: dict[str, Any]) -> None:
        step = int(result.get("iteration", result.get("training_iteration", 0)))
        self.tracker.log_result(self.run_id(key), _reported(result), step)
        self.progress.on_result(key, step, self.primary, result.get(self.primary))

    def completed(self, key: str) -> None:
        self.finalize(key)
        cfg = self.trials[key]
        self.progress.on_complete(key, duration(cfg) if is_done(cfg) else 0.0)

    def errored(self, key: str, message: str) -> None:
        run_id = self.run_id(key)
        self.tracker.set_tags(run_id, {"codeablate.error": message[:5000]})
        self.tracker.finish(run_id, "FAILED")
        self.progress.on_error(key, message)

    def finalize(self, key: str) -> bool:
        """Log what a finished trial left on disk and mark its run FINISHED (once)."""
        cfg = self.trials[key]
        if not is_done(cfg) or self.tracker.is_finished(key):
            return False
        run_id = self.run_id(key)
        for row in trial_results(cfg.trial_dir):
            self.tracker.log_result(run_id, _reported(row), int(row["iteration"]))
        outcomes = read_outcomes(cfg.trial_dir)
        path = cfg.trial_dir / "outcomes.csv"
        outcomes.to_csv(path, index=False)
        config = cfg.trial_dir / "config.json"
        config.write_text(cfg.model_dump_json(indent=2))
        files = [path, config, cfg.trial_dir / RESULTS_FILE, cfg.trial_dir / DONE_FILE]
        self.tracker.log_artifacts(run_id, [f for f in files if f.is_file()])
        self.tracker.set_tags(run_id, {"codeablate.duration_s": f"{duration(cfg):.1f}"})
        self.tracker.finish(run_id)
        return True


def combined_outcomes(trials: list[TrialConfig]) -> pd.DataFrame:
    """The study's tidy per-problem table: every trial, every evaluated iteration."""
    frames = [read_outcomes(t.trial_dir) for t in trials if is_done(t)]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def log_condition_aggregates(tracker: Tracker, condition_runs: dict[str, str], final: pd.DataFrame) -> None:
    """Each condition run gets mean (same key as its trials) and sd across seeds of every final metric."""
    if final.empty:
        return
    metric_cols = [c for c in final.columns if c.startswith(("eval/", "train/"))]
    agg = condition_aggregates(final, metric_cols, list(condition_runs))
    for cond, run_id in condition_runs.items():
        block = agg[agg.condition == cond]
        if block.empty:
            continue
        out: dict[str, float] = {"n_seeds": float(block.n_seeds.max())}
        for r in block.itertuples():
            out[r.metric] = r.mean
            if r.n_seeds > 1:
                out[f"{r.metric}_sd"] = r.sd
        tracker.log_summary(run_id, out)


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)
