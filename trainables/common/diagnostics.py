"""Diagnostics of judged samples beyond pass@k (rollouts and evaluation alike): how long completions are,
what Ruff finds in them by rule category, and how they fail.

Per sample: its error kind (`error_kind`: pass, wrong_answer, syntax_error, timeout, runtime_error_<Type>,
or the sandbox's other verdicts) and its Ruff codes under the fixed diagnostic selection (lint.RUFF_SELECT).
Per batch (`profile`): findings per program per category (`ruff/<category>`, every category present,
0 included), the share of each error kind (`error/<kind>`; ALWAYS's kinds even at 0), and the mean
completion length in tokens.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from trainables.common.lint import CATEGORIES, RUFF_IGNORE, RUFF_SELECT, findings, rule_categories
from trainables.common.problems import Problem

ALWAYS = ("pass", "wrong_answer", "syntax_error", "timeout")
"""Error kinds every profile reports (0 included), so curves do not start where a kind first occurs;
runtime errors (by exception type) and the sandbox's rarer verdicts appear when they occur."""


def error_kind(category: str) -> str:
    """A verdict category as a metric-safe error kind: runtime_error:ValueError -> runtime_error_ValueError."""
    return re.sub(r"[^A-Za-z0-9_]", "_", category)


def lint_codes(programs: Sequence[str]) -> list[str]:
    """Per program, its Ruff codes under the diagnostic selection, space-joined ('' when clean)."""
    return [" ".join(codes) for codes in findings(programs, RUFF_SELECT, ignore=RUFF_IGNORE)]


def profile(categories: Sequence[str], codes: Sequence[str], lengths: Sequence[int] | None = None) -> dict[str, float]:
    """`ruff/<category>` findings per program, `error/<kind>` shares and `completion_length` (tokens)."""
    n = len(categories)
    if n == 0:
        return {}
    table = rule_categories()
    found = Counter(table.get(c, "correctness") for joined in codes for c in joined.split())
    out = {f"ruff/{cat}": found.get(cat, 0) / n for cat in CATEGORIES}
    kinds = Counter(error_kind(c) for c in categories)
    for kind in (*ALWAYS, *sorted(set(kinds) - set(ALWAYS))):
        out[f"error/{kind}"] = kinds.get(kind, 0) / n
    if lengths is not None and len(lengths):
        out["completion_length"] = float(np.mean(lengths))
    return out


def defines(program: str, name: str) -> bool:
    """Whether `program` parses and binds `name` at module level (a def, class, assignment or import)."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
            return True
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
        if isinstance(node, ast.Import | ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
            return True
    return False


def well_formed(problem: Problem, program: str) -> bool:
    """Whether a program is in the form its tests need: it parses, and binds the entry point they call
    (stdin/stdout problems have none). A suite whose failures are mostly not well formed is a broken
    evaluation (a prompt or extraction format mismatch), not a model that cannot code."""
    if problem.io or not problem.entry_point:
        try:
            ast.parse(program)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
        return True
    return defines(program, problem.entry_point)


BROKEN_PASS_RATE = 0.02
BROKEN_FORMAT_SHARE = 0.5


def broken_evaluation(pass_rate: float, format_failure_share: float) -> bool:
    """The format alarm: almost nothing passes (< 2%) and most samples are not well formed (> 50%)."""
    return pass_rate < BROKEN_PASS_RATE and format_failure_share > BROKEN_FORMAT_SHARE
