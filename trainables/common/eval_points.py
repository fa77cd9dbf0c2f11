"""Evaluation points inside one TRL `train()` call, for the kinds that train once per trial (sft, dpo).

At each of C evenly spaced steps the callback has TRL save a checkpoint (adapter, optimizer, scheduler,
RNG, step), evaluates on a copy of the RNG states (so a run resumed from that checkpoint trains exactly
as this one does), saves our checkpoint beside TRL's and reports the point as an iteration with the means
of TRL's logged values since the previous point. `train_with_points` runs the one `train()` call: from
the start (after the shared iteration-0 evaluation) or from the TRL checkpoint of a restored trial.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from trainables.common import base_eval, checkpoints
from trainables.common.config import TrialConfig
from trainables.common.outcomes import write_outcomes
from trainables.common.reporting import Reporter

TRL_DIR = "trl"
Alarm = Callable[[dict[str, float]], dict[str, float]]  # a point's metrics -> extra metrics (e.g. alarms)


def eval_steps(total: int, points: int) -> list[int]:
    """`points` evenly spaced steps in 1..total, the last one `total` (distinct; fewer if total < points)."""
    return sorted({max(1, round(total * c / points)) for c in range(1, points + 1)})


class EvalPoints(TrainerCallback):
    """Evaluate, checkpoint and report at `points` (global steps); `logged` maps TRL's log keys to our
    metric names (each reported as its mean since the previous point); `alarm` adds metrics from them."""

    def __init__(
        self,
        cfg: TrialConfig,
        reporter: Reporter,
        points: list[int],
        run_eval: Callable[[int], base_eval.Evaluation],
        facts: dict[str, float],
        logged: dict[str, str],
        alarm: Alarm | None = None,
    ) -> None:
        self.cfg, self.reporter, self.points, self.run_eval = cfg, reporter, points, run_eval
        self.facts, self.logged, self.alarm = facts, logged, alarm
        self.model: Any = None  # the trainer's model, set by train_with_points
        self.since: dict[str, list[float]] = {}

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kw: Any) -> None:
        for src, dst in self.logged.items():
            if logs and src in logs:
                self.since.setdefault(dst, []).append(float(logs[src]))

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
        if state.global_step in self.points:
            control.should_save = True
        return control

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
        step = state.global_step
        iteration = self.points.index(step) + 1
        rng = checkpoints.rng_state()  # TRL has just saved the RNG states training goes on with
        metrics, rows = self.run_eval(iteration)
        checkpoints.set_rng_state(rng)
        write_outcomes(self.cfg.trial_dir, iteration, rows)
        means = {dst: sum(v) / len(v) for dst, v in self.since.items() if v}
        self.since = {}
        out = {"iteration": iteration, "train/step": float(step), "train/epoch": float(state.epoch or 0.0),
               **means, **self.facts, **metrics}  # fmt: skip
        if self.alarm is not None:
            out.update(self.alarm(out))
        state_ = {"trl_checkpoint": f"checkpoint-{step}", "step": step}
        path = checkpoints.save(self.cfg.trial_dir, self.cfg.key, iteration, self.model, kind_state=state_, metrics=out)
        self.reporter.report({k: v for k, v in out.items() if not _nan(v)}, path)
        return control


def train_with_points(trainer: Any, points: EvalPoints, eval_at_start: bool) -> None:
    """The trial's one `train()` call: from its restored TRL checkpoint, or from the start after the shared
    iteration-0 evaluation (the base model, once per seed for every condition)."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    points.model = trainer.model
    restored = points.reporter.restored_checkpoint()
    resume: str | None = None
    if restored is not None:
        if restored.iteration >= len(points.points):
            return  # every point was reported before the interruption
        resume = str(Path(points.cfg.trial_dir) / TRL_DIR / restored.kind_state["trl_checkpoint"])
    elif eval_at_start:
        (metrics, rows), _ = base_eval.shared(points.cfg, lambda: points.run_eval(0))
        write_outcomes(points.cfg.trial_dir, 0, rows)
        points.reporter.report({"iteration": 0, **points.facts, **metrics}, None)
    trainer.train(resume_from_checkpoint=resume)


def _nan(v: object) -> bool:
    return isinstance(v, float) and math.isnan(v)
