"""Riding out a tracking server that goes away: trials keep running, MLflow catches up when it is back.

Everything a trial reports is on disk first (its folder's results.jsonl, node.jsonl, DONE.json), so a
write MLflow cannot take is not lost: the link remembers which trials are behind, skips writes while the
server is down (no stalled driver), probes the server's /health now and then, and when it answers the
study's hooks replay those trials from their folders. Replays are idempotent (runs found by tags, steps
logged once). Only HTTP tracking URIs can go away; a local store is written directly.
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Callable
from typing import Any

PROBE_EVERY_S = 10.0
CLIENT_RETRIES = {  # a write to a dead server fails in seconds, not after MLflow's minutes of backoff
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


def quick_failing_client() -> None:
    """Short MLflow client retries in this (driver) process, unless the user set their own."""
    for key, value in CLIENT_RETRIES.items():
        os.environ.setdefault(key, value)


class TrackingLink:
    """Whether the tracking server answers, and which trials' MLflow state is behind their folders."""

    def __init__(self, uri: str, say: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.uri = uri
        self.remote = uri.startswith(("http://", "https://"))
        self.say = say
        self.clock = clock
        self.down_since: float | None = None
        self.last_probe = 0.0
        self.behind: set[str] = set()

    def write(self, key: str, fn: Callable[[], Any]) -> bool:
        """Run one MLflow write for trial `key`; False (and `key` remembered) when the server is away."""
        if self.down_since is not None:
            self.behind.add(key)
            return False
        try:
            fn()
            return True
        except Exception as err:
            if not self.remote or not (unreachable(err) or not self.answers()):
                raise  # the server is there and answered: a real error, not an outage
            self.down_since = self.last_probe = self.clock()
            self.behind.add(key)
            self.say(f"MLflow unreachable at {self.uri} ({_first_line(err)}); trials go on, their results stay "
                     "on disk and reach MLflow when it is back")  # fmt: skip
            return False

    def back(self) -> bool:
        """True once the server answers again after an outage (probed at most every PROBE_EVERY_S)."""
        if self.down_since is None:
            return False
        now = self.clock()
        if now - self.last_probe < PROBE_EVERY_S:
            return False
        self.last_probe = now
        if not self.answers():
            return False
        self.say(f"MLflow back after {now - self.down_since:.0f}s; sending {len(self.behind)} trials' results")
        self.down_since = None
        return True

    def status(self) -> str:
        """A note for the progress line while the server is away."""
        if self.down_since is None:
            return ""
        return f"MLflow down {self.clock() - self.down_since:.0f}s, {len(self.behind)} trials buffered on disk"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.uri.rstrip('/')}/health", timeout=3) as r:
                return r.status == 200
        except OSError:
            return False


UNREACHABLE = (
    "Max retries exceeded", "Connection refused", "Failed to establish", "timed out", "Connection aborted",
    "Connection reset", "Bad Gateway", "Service Unavailable", "Gateway Timeout", "RemoteDisconnected",
)  # fmt: skip


def unreachable(err: BaseException) -> bool:
    """Whether an MLflow client error says the server could not be reached (a refused or dropped connection,
    a timeout, a gateway's 502/503/504), as opposed to the server answering with an error."""
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from requests.exceptions import Timeout

    kinds = (ConnectionError, TimeoutError, RequestsConnectionError, Timeout)
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, kinds) or any(m in str(seen) for m in UNREACHABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:160]
