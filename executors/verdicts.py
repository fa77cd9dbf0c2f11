"""Verdict statuses and the overall category of a judged job: what the sandbox says, nothing more.

Per-test statuses: "pass", "wrong_answer", "syntax_error", "timeout", "memory", "crash",
"output_limit", "unrepresentable_value", "runtime_error:<ExceptionType>", and "sandbox_error" (an
infrastructure fault, never the program's doing). Overall category: "pass" if all pass, else the most
severe per-test status in SEVERITY order. What a verdict is worth as a reward is decided by the
trainer (trainables/common/rewards.py), not here.
"""

from __future__ import annotations

from collections.abc import Sequence

from executors.api import TestOutcome

PASS = "pass"
WRONG = "wrong_answer"
SYNTAX = "syntax_error"
TIMEOUT = "timeout"
MEMORY = "memory"
CRASH = "crash"
OUTPUT = "output_limit"
UNREPR = "unrepresentable_value"
SANDBOX = "sandbox_error"
RUNTIME = "runtime_error"

SEVERITY = (SANDBOX, SYNTAX, TIMEOUT, MEMORY, OUTPUT, CRASH, UNREPR, RUNTIME, WRONG)
ERROR_LIKE = frozenset({MEMORY, CRASH, OUTPUT, UNREPR, RUNTIME})


def base(status: str) -> str:
    """`runtime_error:ValueError` -> `runtime_error`."""
    return status.split(":", 1)[0]


def runtime(exc_type: str) -> str:
    return f"{RUNTIME}:{exc_type}"


def category(tests: Sequence[TestOutcome]) -> str:
    """Overall category: "pass" or the most severe failing status (runtime_error keeps its type)."""
    failing = [t.status for t in tests if t.status != PASS]
    if not failing:
        return PASS
    return min(failing, key=lambda s: SEVERITY.index(base(s)) if base(s) in SEVERITY else len(SEVERITY))
