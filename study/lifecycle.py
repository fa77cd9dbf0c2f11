"""The driver's side of a study: MLflow runs per trial, progress, and idempotent finalisation.

Every step is safe to repeat: runs are found by their keys, steps are logged once, and a trial that
finished on disk but not in MLflow (the driver died in between) is finalised on the next resume.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.aggregate import condition_aggregates
from study.layout import DONE_FILE, NODE_FILE, RESULTS_FILE
from study.orchestrate import HOST, NODE_ID
from study.progress import Progress
from study.summary import trial_results
from study.tracking import Tracker, flatten
from study.tracking_link import PROBE_EVERY_S, TrackingLink
from trainables.common.config import LOCATIONS, TrialConfig
from trainables.common.outcomes import read_outcomes

NODE_TAG = "codeablate.ray_node_id"
HOST_TAG = "codeablate.ray_host"


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
        link: TrackingLink | None = None,
    ) -> None:
        self.tracker = tracker
        self.progress = progress
        self.trials = {t.key: t for t in trials}
        self.condition_runs = condition_runs
        self.provenance = provenance
        self.primary = primary_metric
        self.run_ids: dict[str, str] = {}
        self.nodes: dict[str, str] = {}  # trial key -> the Ray node it was last tagged with
        self.live: set[str] = set()  # running now
        self.failed: dict[str, str] = {}  # trial key -> its error line
        self.retries: dict[str, dict[str, str]] = {}  # trial key -> its last retry's tags
        self.link = link or TrackingLink(tracker.uri, progress.line)
        progress.status = self.link.status

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

    def _write(self, key: str, fn: Any) -> bool:
        """One MLflow write for a trial, through the link: skipped (and the trial remembered) while the
        tracking server is away; the trials it missed are replayed first once it answers again."""
        if self.link.back():
            self.flush()
        return self.link.write(key, fn)

    def started(self, key: str) -> None:
        self.live.add(key)
        self._write(key, lambda: self.tracker.mark_running(self.run_id(key)))
        self.progress.on_start(key)

    def result(self, key: str, result: dict[str, Any]) -> None:
        step = int(result.get("iteration", result.get("training_iteration", 0)))
        self._write(key, lambda: self._log_result(key, result, step))
        self.progress.on_result(key, step, self.primary, result.get(self.primary))

    def _log_result(self, key: str, result: dict[str, Any], step: int) -> None:
        self.tracker.log_result(self.run_id(key), _reported(result), step)
        node = result.get(NODE_ID)
        if node and self.nodes.get(key) != node:  # the first result of each attempt: where it runs
            self.tracker.set_tags(self.run_id(key), {NODE_TAG: node, HOST_TAG: str(result.get(HOST, ""))})
            self.nodes[key] = node

    def completed(self, key: str) -> None:
        self.live.discard(key)
        self._write(key, lambda: self.finalize(key))
        cfg = self.trials[key]
        self.progress.on_complete(key, duration(cfg) if is_done(cfg) else 0.0)

    def retrying(self, key: str, message: str, failures: int) -> None:
        self.live.discard(key)
        self.retries[key] = {"codeablate.failures": str(failures), "codeablate.last_error": message[:5000]}
        self._write(key, lambda: self.tracker.set_tags(self.run_id(key), self.retries[key]))
        self.progress.on_retry(key, message, failures)

    def errored(self, key: str, message: str) -> None:
        self.live.discard(key)
        self.failed[key] = message
        self._write(key, lambda: self._mark_failed(key))
        self.progress.on_error(key, message)

    def _mark_failed(self, key: str) -> None:
        run_id = self.run_id(key)
        self.tracker.set_tags(run_id, {"codeablate.error": self.failed[key][:5000]})
        self.tracker.finish(run_id, "FAILED")

    def flush(self) -> None:
        """Replay, from their folders, the trials whose writes the tracking server missed (idempotent: what
        the server holds is read back first, since a write may have landed without its reply)."""
        self.tracker.forget()
        for key in sorted(self.link.behind):
            try:
                if not self.link.write(key, lambda key=key: self._replay(key)):
                    return  # away again: the rest waits for the next return
            except Exception as err:  # the server answered with an error: say so, keep the trial for later
                self.progress.line(f"MLflow: could not send {key}'s results ({type(err).__name__}: {err}); retried")
                continue
            self.link.behind.discard(key)

    def _replay(self, key: str) -> None:
        cfg = self.trials[key]
        if self.finalize(key) or is_done(cfg):
            return
        for row in trial_results(cfg.trial_dir):
            self._log_result(key, row, int(row["iteration"]))
        self.tracker.set_tags(self.run_id(key), {**node_tags(cfg), **self.retries.get(key, {})})
        if key in self.failed:
            self._mark_failed(key)
        elif key in self.live:
            self.tracker.mark_running(self.run_id(key))

    def wait_for_tracking(self, max_wait_s: float, sleep: Any = time.sleep) -> bool:
        """After the trials: wait (with a line a minute) for an unreachable tracking server and send what
        it missed; False when it stays away longer than `max_wait_s`."""
        waited, said = 0.0, -60.0
        while self.link.down_since is not None or self.link.behind:
            if self.link.down_since is None:  # up, with trials still to send (a replay that failed)
                self.flush()
                if not self.link.behind:
                    break
            if waited > max_wait_s:
                return False
            if waited - said >= 60:
                self.progress.line(
                    f"trials done; waiting up to {max_wait_s / 60:.0f} min for MLflow at {self.link.uri}"
                )
                said = waited
            sleep(PROBE_EVERY_S)
            waited += PROBE_EVERY_S
            if self.link.back():
                self.flush()
        return True

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
        self.tracker.set_tags(run_id, {"codeablate.duration_s": f"{duration(cfg):.1f}", **node_tags(cfg)})
        self.tracker.finish(run_id)
        return True


def node_tags(cfg: TrialConfig) -> dict[str, str]:
    """Where the trial's last attempt ran (its folder's node.jsonl), as MLflow tags; {} before it ran."""
    path = cfg.trial_dir / NODE_FILE
    for line in reversed(path.read_text().splitlines() if path.is_file() else []):
        try:  # a line cut short by a kill is skipped
            last = json.loads(line)
        except json.JSONDecodeError:
            continue
        return {NODE_TAG: last[NODE_ID], HOST_TAG: last[HOST]}
    return {}


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
