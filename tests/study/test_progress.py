"""The progress line tells the truth: a retried trial is not counted as running twice, its failure and
cause are printed when they happen, and a note (e.g. MLflow away) rides on every line."""

from __future__ import annotations

import io
import re

from study.progress import Progress


def _counts(text: str) -> list[tuple[int, int, int, int]]:
    pattern = r"(\d+)/\d+ done, (\d+) running, (\d+) pending, (\d+) failed"
    return [tuple(map(int, m)) for m in re.findall(pattern, text)]  # type: ignore[misc]


def test_a_retry_frees_the_running_slot_and_says_why() -> None:
    out = io.StringIO()
    p = Progress("s", total=3, stream=out)
    p.on_start("a")
    p.on_start("b")
    p.on_retry("a", "ray.exceptions.ActorDiedError: worker died (traceback: /x/error.txt)", 1)
    p.on_start("c")  # Ray gave a's slot to c while a waits to restart
    p.on_start("a")
    p.on_complete("b", 5.0)
    p.on_error("c", "RuntimeError: boom (traceback: /y)")
    text = out.getvalue()
    assert _counts(text) == [(0, 1, 2, 0), (0, 2, 1, 0), (0, 1, 2, 0), (0, 2, 1, 0), (0, 3, 0, 0), (1, 2, 0, 0),
                             (1, 1, 0, 1)]  # fmt: skip
    assert "| RETRY a (failure 1): ray.exceptions.ActorDiedError: worker died (traceback: /x/error.txt)" in text
    assert "| FAILED c: RuntimeError: boom (traceback: /y)" in text


def test_a_status_note_rides_on_every_line() -> None:
    out = io.StringIO()
    p = Progress("s", total=1, stream=out)
    p.status = lambda: "MLflow down 30s, 1 trials buffered on disk"
    p.on_start("a")
    assert "eta estimating, MLflow down 30s, 1 trials buffered on disk | started a" in out.getvalue()
