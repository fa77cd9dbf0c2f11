"""Stdin/stdout jobs (`Job.io`): each case runs the program as a script in a fresh child, and the judge
compares what it printed with the expected output here, outside the sandbox.

A child gets the program and its own case's input, nothing else (child.py, b"P"): expected outputs and
other cases' inputs stay in the worker. Its stdout is the reply pipe, which in this mode carries no
frames at all, so nothing the program prints can pass for a protocol message, and what it writes
elsewhere (stderr, other fds) is never compared. Pass means: the script ended cleanly (exit status 0)
and its stdout equals the expected output up to whitespace at line ends and trailing blank lines.
The failure kind comes from the exit status and the child's last stderr line (child.EXC_MARK); a
program can write that line itself, but only to pick its own failure.
"""

from __future__ import annotations

import json
import marshal
import os
import time

from executors import verdicts
from executors.api import IOCase, Limits, TestOutcome
from executors.child import EXC_MARK
from executors.session import Child, ChildGone, ForkClient, Script


def lines(text: str) -> list[str]:
    """The lines that are compared: each stripped of whitespace at its end, trailing blank lines dropped."""
    out = [line.rstrip() for line in text.split("\n")]
    while out and not out[-1]:
        out.pop()
    return out


def compare(stdout: bytes, expected: str) -> TestOutcome:
    """Pass when `stdout` (UTF-8, invalid bytes read as U+FFFD) equals `expected` up to `lines`. A
    program that printed nothing at all fails a case that expects output, even a lone empty line."""
    if not stdout and expected:
        return TestOutcome(verdicts.WRONG, "printed nothing")
    got, want = lines(stdout.decode("utf-8", "replace")), lines(expected)
    if got == want:
        return TestOutcome(verdicts.PASS)
    at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
    return TestOutcome(verdicts.WRONG, f"output differs at line {at + 1} ({len(got)} lines, expected {len(want)})")


def start(fs: ForkClient, program: str, case: IOCase) -> Child:
    """A fresh child sent the program and this case's input, then EOF (it starts loading at once)."""
    child = fs.fork()
    child.send(b"P" + marshal.dumps(program))
    child.send_input(case.input.encode("utf-8", "replace"))
    return child


def judge(
    fs: ForkClient, limits: Limits, program: str, cases: tuple[IOCase, ...], first: Child | None
) -> list[TestOutcome]:
    """Per-case outcomes, one fresh child per case (`first`: the first case's, started ahead). Each case
    has `per_test_s` of wall time, the whole job `program_s`; a syntax error scores every case."""
    deadline = time.monotonic() + limits.program_s
    out: list[TestOutcome] = []
    child = first
    try:
        for i, case in enumerate(cases):
            left = deadline - time.monotonic()
            if left <= 0:
                out.extend(TestOutcome(verdicts.TIMEOUT, "program time limit") for _ in cases[i:])
                break
            child = child or start(fs, program, case)
            outcome = run(child, min(limits.per_test_s, left), case.output)
            child = None
            out.append(outcome)
            if outcome.status == verdicts.SYNTAX:
                out.extend([outcome] * (len(cases) - i - 1))
                break
    finally:
        if child is not None:
            child.kill()
    return out


def run(child: Child, seconds: float, expected: str) -> TestOutcome:
    """The outcome of one case in `child` within `seconds` of wall time (the child is gone after)."""
    try:
        ended = child.collect(seconds)
    except ChildGone as e:
        return TestOutcome(e.category, e.detail)
    if ended is None:
        child.kill()
        return TestOutcome(verdicts.TIMEOUT, "per-test time limit")
    return verdict(ended, expected)


def verdict(ended: Script, expected: str) -> TestOutcome:
    """Exit 0: compare stdout. Exit 1 or 2 with the child's exception line last on stderr: that exception,
    or a syntax error (2: the program did not compile). Else how it died."""
    code = os.waitstatus_to_exitcode(ended.status) if ended.status >= 0 else -1
    if code == 0:
        return compare(ended.stdout, expected)
    last = ended.stderr_tail.rstrip(b"\n").rpartition(b"\n")[2]
    if code in (1, 2) and last.startswith(EXC_MARK):
        try:
            kind, msg = json.loads(last[len(EXC_MARK) :])
        except (ValueError, TypeError):
            kind, msg = "Exception", ""
        kind, msg = str(kind)[:80], str(msg)[:300]
        if code == 2:
            return TestOutcome(verdicts.SYNTAX, f"{kind}: {msg}")
        return TestOutcome(verdicts.MEMORY if kind == "MemoryError" else verdicts.runtime(kind), msg or None)
    if code > 0:
        return TestOutcome(verdicts.CRASH, f"exited with code {code}")
    gone = ended.death()
    return TestOutcome(gone.category, gone.detail)
