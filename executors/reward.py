"""Reward rule and overall category of a judged job.

Rule (n tests, k passed; statuses are per test):
- `syntax_error` (the program does not compile) -> shaping.syntax.
- k == n -> 1.0; 0 < k < n -> k / n (partial passes keep their fraction whatever the failures were).
- k == 0 and any test timed out -> shaping.timeout.
- k == 0 and every failure is error-like (runtime_error:*, memory, crash, output_limit,
  unrepresentable_value) -> shaping.runtime. Crashing, exhausting memory or flooding output on purpose
  therefore earns no more than raising an exception would.
- k == 0 with at least one wrong_answer -> 0.0.
- `sandbox_error` (infrastructure fault, never the program's doing) -> 0.0; callers drop these.

Overall category: "pass" if all pass, else the most severe per-test status in SEVERITY order.
"""

from __future__ import annotations

from collections.abc import Sequence

from executors.api import Shaping, TestOutcome

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


def reward(tests: Sequence[TestOutcome], shaping: Shaping) -> float:
    """Reward of one job from its per-test statuses (see module docstring)."""
    n = len(tests)
    statuses = [base(t.status) for t in tests]
    if SANDBOX in statuses:
        return 0.0
    if SYNTAX in statuses:
        return shaping.syntax
    k = statuses.count(PASS)
    if n and k == n:
        return 1.0
    if k > 0:
        return k / n
    if TIMEOUT in statuses:
        return shaping.timeout
    if statuses and all(s in ERROR_LIKE for s in statuses):
        return shaping.runtime
    return 0.0
