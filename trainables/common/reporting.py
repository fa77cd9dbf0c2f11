"""The small interface through which a trainable reports, so it runs with or without Ray."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from trainables.common import checkpoints
from trainables.common.checkpoints import Checkpoint


class Reporter(Protocol):
    """Receives one result per outer iteration; `checkpoint_dir` is what trainables.common.checkpoints saved."""

    def report(self, metrics: dict[str, float], checkpoint_dir: Path | None) -> None: ...

    def restored_checkpoint(self) -> Checkpoint | None:
        """The checkpoint to resume from after an interruption, if any."""
        ...


class ListReporter:
    """Collects results in memory: for tests and for running a trial without Ray."""

    def __init__(self, resume_from: Path | None = None) -> None:
        self.results: list[dict[str, float]] = []
        self.checkpoints: list[Path | None] = []
        self._resume_from = resume_from

    def report(self, metrics: dict[str, float], checkpoint_dir: Path | None) -> None:
        self.results.append(dict(metrics))
        self.checkpoints.append(checkpoint_dir)

    def restored_checkpoint(self) -> Checkpoint | None:
        if self._resume_from is None:
            return None
        found = checkpoints.read(self._resume_from)
        if found is None:  # never silently start over: that would overwrite the trial's outcomes
            raise ValueError(f"{self._resume_from} is not a resumable checkpoint (missing, or adapter only)")
        return found
