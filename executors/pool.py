"""SandboxExecutor: the trainer-side pool of worker processes and the batch API.

Workers are started by exec of a fresh interpreter (`python -I -S -B`, empty environment, own session),
never forked from the trainer, so no model weights, tokens or environment leak into them. One thread
calling `run` drives all workers through a selector, keeping three jobs queued per worker. A worker that
dies or stops answering is killed with its process group and restarted; its jobs are retried, and a job
that keeps failing that way comes back as `sandbox_error` (0 of n passed).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence

from executors import proto, verdicts
from executors.api import ExecResult, Job, Limits, SandboxUnavailable, TestOutcome, _Stats
from executors.scratch import remove_leftovers

_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_RETRIES = 2
_LIMITS = Limits()
FEATURES = ("namespaces", "landlock", "seccomp")  # what `disable` may switch off
_DEPTH = 3  # jobs queued per worker: the one judged, the one it starts ahead (worker.AHEAD), one in the pipe


def _job_json(job: Job) -> dict:
    return {
        "id": job.id,
        "program": job.program,
        "tests": list(job.tests),
        "setup": job.setup,
        "test": job.test,
        "entry_point": job.entry_point,
        "helpers": job.helpers,
        "io": [[c.input, c.output] for c in job.io],
    }


class _Worker:
    """One worker process and its non-blocking pipe ends."""

    def __init__(self, config: dict) -> None:
        debug = os.environ.get("CODEABLATE_SANDBOX_DEBUG") == "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", _WORKER, _PKG_PARENT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if debug else subprocess.DEVNULL,
            env={"CODEABLATE_SANDBOX_DEBUG": "1"} if debug else {},
            cwd="/",
            close_fds=True,
            start_new_session=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.w = self.proc.stdin.fileno()
        self.r = self.proc.stdout.fileno()
        proto.send_json(self.w, config)
        hello = proto.recv_json(self.r)
        if not isinstance(hello, dict):
            self.kill()
            raise SandboxUnavailable("sandbox worker failed to start; rerun with CODEABLATE_SANDBOX_DEBUG=1")
        self.hello = hello
        if not hello.get("ok"):
            self.kill()
            missing = "; ".join(hello.get("missing") or ["unknown"])
            raise SandboxUnavailable(
                f"sandbox isolation unavailable: {missing}. Fix the kernel setting, or pass mode='weak' "
                "(executors.check --weak) to run with weaker isolation, recorded in every result"
            )
        os.set_blocking(self.w, False)
        os.set_blocking(self.r, False)
        self.out = bytearray()
        self.reader = proto.FrameReader(1 << 30)
        self.inflight: deque[tuple[int, float]] = deque()  # (job index, deadline)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        self.proc.wait()
        remove_leftovers(tempfile.gettempdir(), self.proc.pid)  # weak mode: its fork server could not clean up

    def stop(self, timeout: float = 2.0) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class SandboxExecutor:
    """Runs untrusted programs against their tests in kernel-isolated worker processes.

    mode: "strict" refuses to run (SandboxUnavailable) when a kernel feature is missing; "weak" runs
    with what there is and records isolation="weak" in every result.
    disable: kernel features to leave off as if this machine lacked them ("namespaces", "landlock",
    "seccomp"): how the strict refusal and the weak mode are tested on a machine that has them all.
    """

    def __init__(
        self,
        workers: int = 2,
        limits: Limits = _LIMITS,
        mode: str = "strict",
        disable: tuple[str, ...] = (),
    ) -> None:
        if mode not in ("strict", "weak"):
            raise ValueError(f"mode must be 'strict' or 'weak', not {mode!r}")
        unknown = set(disable) - set(FEATURES)
        if unknown:
            raise ValueError(f"disable: unknown features {sorted(unknown)}; choose from {list(FEATURES)}")
        self.disable = tuple(disable)
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.limits = limits
        self.mode = mode
        self.stats = _Stats()
        self._pool: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer = weakref.finalize(self, _stop_all, self._pool)
        atexit.register(self._finalizer)

    @property
    def isolation(self) -> str:
        self._start()
        return str(self._pool[0].hello["isolation"])

    @property
    def features(self) -> dict:
        self._start()
        return dict(self._pool[0].hello.get("features") or {})

    def _config(self) -> dict:
        return {
            "limits": self.limits.to_json(),
            "mode": self.mode,
            "disable": list(self.disable),
            "tmp": tempfile.gettempdir(),  # where a weak-mode fork server keeps scratch (no tmpfs of its own)
        }

    def _start(self) -> None:
        if self._closed:
            raise RuntimeError("SandboxExecutor is closed")
        while len(self._pool) < self.workers:
            self._pool.append(_Worker(self._config()))

    def __enter__(self) -> SandboxExecutor:
        with self._lock:
            self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker, fork server and child; safe to call twice."""
        with self._lock:
            self._closed = True
            self._finalizer()

    def _budget(self, job: Job) -> float:
        n = len(job.io) or (len(job.tests) if job.test is None else 8)
        lim = self.limits
        return min(lim.program_s, lim.per_test_s * (n + 1)) + 5.0

    def run(self, jobs: Sequence[Job]) -> list[ExecResult]:
        """Judge every job; results in the same order. Calls from several threads are serialised."""
        with self._lock:
            self._start()
            return _Batch(self, list(jobs)).run()


def _stop_all(pool: list[_Worker]) -> None:
    for w in pool:
        w.stop()
    pool.clear()


class _Batch:
    """One `run` call: feeds jobs to workers, collects frames, retries infrastructure faults."""

    def __init__(self, ex: SandboxExecutor, jobs: list[Job]) -> None:
        self.ex = ex
        self.jobs = jobs
        self.results: list[ExecResult | None] = [None] * len(jobs)
        self.tries = [0] * len(jobs)
        self.todo: deque[int] = deque(range(len(jobs)))
        self.sel = selectors.DefaultSelector()

    def run(self) -> list[ExecResult]:
        for w in self.ex._pool:
            self.sel.register(w.r, selectors.EVENT_READ, w)
        try:
            while any(r is None for r in self.results):
                self._feed()
                timeout = self._next_deadline()
                for key, _ in self.sel.select(timeout):
                    self._on_readable(key.data)
                self._expire()
        finally:
            self.sel.close()
        self.ex.stats.jobs += len(self.jobs)
        return [r for r in self.results if r is not None]

    def _feed(self) -> None:
        for w in self.ex._pool:
            while self.todo and len(w.inflight) < _DEPTH:
                i = self.todo.popleft()
                w.inflight.append((i, 0.0))
                w.out += proto.frame(json.dumps(_job_json(self.jobs[i])).encode())
            self._flush(w)
            if w.inflight and w.inflight[0][1] == 0.0:
                i, _ = w.inflight.popleft()
                w.inflight.appendleft((i, time.monotonic() + self.ex._budget(self.jobs[i])))

    def _flush(self, w: _Worker) -> None:
        try:
            while w.out:
                n = os.write(w.w, w.out)
                del w.out[:n]
        except BlockingIOError:
            pass
        except OSError:
            self._restart(w, "worker stdin closed")

    def _next_deadline(self) -> float:
        deadlines = [w.inflight[0][1] for w in self.ex._pool if w.inflight and w.inflight[0][1]]
        pending_out = any(w.out for w in self.ex._pool)
        if pending_out:
            return 0.005
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else 1.0

    def _on_readable(self, w: _Worker) -> None:
        try:
            data = os.read(w.r, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._restart(w, "worker exited")
            return
        w.reader.feed(data)

        while (frame := w.reader.take()) is not None:
            msg = json.loads(frame)
            if "fault" in msg:  # the worker's fork server failed: restart it, retry what it held
                self._restart(w, f"fork server fault: {msg['fault']}")
                return
            i, _ = w.inflight.popleft()
            if w.inflight:
                j, _ = w.inflight.popleft()
                w.inflight.appendleft((j, time.monotonic() + self.ex._budget(self.jobs[j])))
            self._finish(i, msg)

    def _finish(self, i: int, msg: dict) -> None:
        tests = tuple(TestOutcome(s, e) for s, e in msg["tests"])
        if any(t.status == verdicts.SANDBOX for t in tests):
            self._retry(i, next(t.error or "" for t in tests if t.status == verdicts.SANDBOX))
            return
        self.results[i] = ExecResult(
            id=self.jobs[i].id,
            passed=msg["passed"],
            total=msg["total"],
            category=msg["category"],
            tests=tests,
            wall_s=msg["wall_s"],
            isolation=msg["isolation"],
        )

    def _retry(self, i: int, why: str) -> None:
        self.tries[i] += 1
        if self.tries[i] <= MAX_RETRIES:
            self.ex.stats.retries += 1
            self.todo.appendleft(i)
            return
        self.ex.stats.sandbox_errors += 1
        n = max(1, len(self.jobs[i].io) or len(self.jobs[i].tests))
        self.results[i] = ExecResult(
            id=self.jobs[i].id,
            passed=0,
            total=n,
            category=verdicts.SANDBOX,
            tests=tuple(TestOutcome(verdicts.SANDBOX, why[:200]) for _ in range(n)),
            wall_s=0.0,
            isolation=self.ex.isolation if self.ex._pool else self.ex.mode,
        )

    def _expire(self) -> None:
        now = time.monotonic()
        for w in list(self.ex._pool):
            if w.inflight and w.inflight[0][1] and w.inflight[0][1] < now:
                self._restart(w, "worker stopped answering")

    def _restart(self, w: _Worker, why: str) -> None:
        pool = self.ex._pool
        idx = pool.index(w)
        self.sel.unregister(w.r)
        w.kill()
        for i, _ in w.inflight:
            if self.results[i] is None:
                self._retry(i, why)
        w.inflight.clear()
        self.ex.stats.worker_restarts += 1
        reasons = self.ex.stats.extra.setdefault("restart_reasons", [])
        reasons[:] = [*reasons[-9:], why]
        new = _Worker(self.ex._config())
        pool[idx] = new
        self.sel.register(new.r, selectors.EVENT_READ, new)
