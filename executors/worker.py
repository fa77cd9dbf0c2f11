"""A worker process: started by exec from the trainer, it judges jobs read from its stdin.

Start-up order matters: import and pre-import the standard library, fork the fork server (which
hardens itself and forks every sandboxed child), and only then read jobs, so the fork server and its
children never hold test data. Run as `python -I -S -B worker.py`; the trainer holds the other ends of
stdin/stdout, and EOF on stdin ends the worker, the fork server and every child.
Frames (executors.proto): trainer sends {"limits", "mode", "disable", "tmp"} then one job per
frame; the worker answers a hello {"ok", "isolation", "features", "missing"} then one result per job, in order.
Pipelining: when the next jobs are already in the pipe, the worker starts up to AHEAD of them (Judge.start:
each gets its own fresh child, the program and the first batch of calls, at low priority) before it
judges the current one, so those children load and compute while the current job is judged.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import sys
import time
from collections import deque

PRELOAD = [
    "abc",
    "array",
    "bisect",
    "builtins",
    "calendar",
    "cmath",
    "collections",
    "collections.abc",
    "copy",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "hashlib",
    "heapq",
    "itertools",
    "json",
    "math",
    "numbers",
    "operator",
    "random",
    "re",
    "statistics",
    "string",
    "struct",
    "textwrap",
    "types",
    "typing",
    "unicodedata",
]


AHEAD = 1  # jobs a worker starts ahead of the one it judges (executors.pool keeps AHEAD + 2 queued)


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _job(d: dict):  # type: ignore[no-untyped-def]
    from executors.api import Job

    return Job(
        id=str(d["id"]),
        program=d["program"],
        tests=tuple(d.get("tests") or ()),
        setup=d.get("setup") or "",
        test=d.get("test"),
        entry_point=d.get("entry_point"),
        helpers=d.get("helpers") or "",
        io=tuple(d.get("io") or ()),
    )


def _fault(out_fd: int, job_id: str, why: str) -> None:
    from executors import proto

    proto.send_json(out_fd, {"id": job_id, "fault": why[:200]})


def _start(judge, msg: dict):  # type: ignore[no-untyped-def]
    """(t0, job, started) for a job frame, or None when the fork server failed (after reporting it)."""
    from executors.session import SandboxFault

    t0 = time.perf_counter()
    job = _job(msg)
    try:
        return t0, job, judge.start(job)
    except SandboxFault:
        return None


def main() -> None:
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # trusted test code that prints must not corrupt the channel
        os.dup2(devnull, fd)
    from executors import forkserver, harden, proto, verdicts
    from executors.api import Limits, TestOutcome
    from executors.judge import Judge
    from executors.session import ForkClient, SandboxFault

    harden.set_name(b"sandbox-worker")
    _preload()
    config = proto.recv_json(in_fd)
    if not isinstance(config, dict):
        return
    limits = Limits(**config["limits"])
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        mine.close()
        os.close(in_fd)
        os.close(out_fd)
        forkserver.main(theirs, {"limits": limits.to_json(), **{k: config[k] for k in ("mode", "disable", "tmp")}})
    theirs.close()
    hello_raw = mine.recv(65536)
    import json

    hello = json.loads(hello_raw[1:]) if hello_raw[:1] == b"H" else {"ok": False, "missing": ["no hello"]}
    hello["isolation"] = "strict" if not hello.get("missing") else "weak"
    proto.send_json(out_fd, hello)
    if not hello["ok"]:
        return
    isolation = hello["isolation"]
    judge = Judge(ForkClient(mine, pid, limits.to_json()), limits)
    poller = select.poll()
    poller.register(in_fd, select.POLLIN)
    ahead: deque[tuple] = deque()  # jobs started (their children are loading them), oldest first
    eof = False
    try:
        while True:
            if not ahead:
                if eof:
                    return
                msg = proto.recv_json(in_fd)
                if msg is None:
                    return
                first = _start(judge, msg)
                if first is None:
                    return
                ahead.append(first)
            # Pipelining: start the jobs queued behind this one now (up to AHEAD), so their children load
            # the programs and answer the first calls while this job is judged.
            while not eof and len(ahead) <= AHEAD and poller.poll(0):
                msg = proto.recv_json(in_fd)
                if msg is None:
                    eof = True
                    break
                judge.background = os.geteuid() == 0
                nxt = _start(judge, msg)
                judge.background = False
                if nxt is None:
                    _fault(out_fd, ahead[0][1].id, "fork server failed")
                    return
                ahead.append(nxt)
            t0, job, started = ahead.popleft()
            try:
                tests = judge.finish(started)
            except SandboxFault as e:  # the fork server is gone: let the trainer restart this worker
                _fault(out_fd, job.id, str(e))
                return
            except Exception as e:  # a judge bug must not be scored as the program's failure
                tests = [TestOutcome(verdicts.SANDBOX, f"judge: {type(e).__name__}: {e}"[:200])]
            res = {
                "id": job.id,
                "passed": sum(t.status == verdicts.PASS for t in tests),
                "total": len(tests),
                "category": verdicts.category(tests),
                "tests": [[t.status, t.error] for t in tests],
                "wall_s": time.perf_counter() - t0,
                "isolation": isolation,
            }
            proto.send_json(out_fd, res)
            try:
                judge.prepare()
            except SandboxFault as e:
                _fault(out_fd, "", str(e))
                return
    finally:
        judge.close()
        mine.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    main()
