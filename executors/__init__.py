"""Sandboxed executor: judge untrusted model-written programs without trusting them.

Isolation is enforced by the kernel (namespaces, landlock, seccomp, rlimits, a capped tmpfs per program) in worker
processes started by exec; verdicts come from a judge that sees only plain values. See
executors/verdicts.py for the statuses and executors/README.md for the design, what is measured and what is left.
"""

from executors import verdicts
from executors.api import ExecResult, IOCase, Job, Limits, SandboxUnavailable, TestOutcome
from executors.pool import SandboxExecutor

__all__ = ["ExecResult", "IOCase", "Job", "Limits", "SandboxExecutor", "SandboxUnavailable", "TestOutcome", "verdicts"]
