"""Visible progress while a study runs: done / running / pending / failed, elapsed, estimate."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def fmt_s(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """Counts trials by state and prints one line per event, with an estimate of time left."""

    def __init__(self, study: str, total: int, already_done: int = 0, stream: TextIO = sys.stdout) -> None:
        self.study = study
        self.total = total
        self.done = already_done
        self.running: set[str] = set()
        self.failed: set[str] = set()
        self.durations: list[float] = []
        self.started = time.monotonic()
        self.peak_parallel = 1
        self.stream = stream
        self.status: Callable[[], str] = lambda: ""  # a note for every line (e.g. the tracking server is away)

    @property
    def pending(self) -> int:
        return self.total - self.done - len(self.running) - len(self.failed)

    def eta(self) -> str:
        if not self.durations:
            return "estimating"
        left = self.pending + len(self.running) / 2
        mean = sum(self.durations) / len(self.durations)
        return "~" + fmt_s(mean * left / max(self.peak_parallel, 1))

    def line(self, event: str) -> None:
        elapsed = fmt_s(time.monotonic() - self.started)
        note = self.status()
        print(
            f"[{self.study} {elapsed}] {self.done}/{self.total} done, {len(self.running)} running, "
            f"{self.pending} pending, {len(self.failed)} failed, eta {self.eta()}{f', {note}' if note else ''} "
            f"| {event}",
            file=self.stream,
            flush=True,
        )

    def on_start(self, key: str) -> None:
        self.running.add(key)
        self.peak_parallel = max(self.peak_parallel, len(self.running))
        self.line(f"started {key}")

    def on_result(self, key: str, iteration: int, metric: str, value: float | None) -> None:
        shown = f"{metric} {value:.3f}" if value is not None else ""
        self.line(f"{key} iteration {iteration} {shown}".rstrip())

    def on_complete(self, key: str, duration_s: float) -> None:
        self.running.discard(key)
        self.done += 1
        self.durations.append(duration_s)
        self.line(f"finished {key} in {fmt_s(duration_s)}")

    def on_retry(self, key: str, message: str, failures: int) -> None:
        """Ray restarts a failed trial from its checkpoint: it is no longer running until it starts again."""
        self.running.discard(key)
        self.line(f"RETRY {key} (failure {failures}): {message}")

    def on_error(self, key: str, message: str) -> None:
        self.running.discard(key)
        self.failed.add(key)
        self.line(f"FAILED {key}: {message}")
