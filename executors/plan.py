"""Turn a Job's tests into judge-side code: what runs in the judge, what the sandbox is asked for.

MBPP: each assert statement is one test, run in the judge; `setup` runs in the sandbox after the
program, and its import lines also run in the judge. HumanEval: the test code runs in the judge; the
body of `check(candidate)` is split into one test per top-level statement that asserts (statements
before it ride along), or kept whole when it returns early or has no top-level assert. Names the tests
use that neither the judge nor the standard library provides are asked of the sandbox, where the
program defined them: calls to them become remote calls that return plain values. Trusted helper code
(`Job.helpers`, e.g. the HumanEval prompt) runs in the judge first, so the names it defines (all but
the entry point) are the judge's own, not the program's.
"""

from __future__ import annotations

import ast
import builtins
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from types import CodeType

from executors.api import Job

_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class Plan:
    judge_setup: CodeType | None  # runs first in the judge namespace
    child_setup: str  # runs in the sandbox after the program
    tests: tuple[CodeType | str, ...]  # str: the test does not compile (error text)
    free: tuple[str, ...]  # names the tests load, asked of the sandbox unless the judge has them
    stdlib: tuple[str, ...]  # free names that are standard modules: imported in the judge instead
    candidate: str | None  # HumanEval entry point, bound to `candidate`
    shadowable: tuple[str, ...] = ()  # builtins the tests call that the program may be testing (`sum`)
    helpers: tuple[CodeType, ...] = ()  # trusted helper statements, run in the judge before judge_setup
    final_assert: tuple[tuple[int, int] | None, ...] = ()  # per test: lines of its last statement if an assert


def _scan(tree: ast.AST) -> tuple[set[str], bool]:
    """(names loaded, whether an assert occurs) in one pass; ast.walk's nested generators cost 3x."""
    names: set[str] = set()
    has_assert = False
    stack = [tree]
    while stack:
        n = stack.pop()
        t = type(n)
        if t is ast.Name:
            if type(n.ctx) is ast.Load:  # type: ignore[attr-defined]
                names.add(n.id)  # type: ignore[attr-defined]
            continue
        if t is ast.Assert:
            has_assert = True
        for f in t._fields:
            v = getattr(n, f, None)
            if type(v) is list:
                stack.extend(x for x in v if isinstance(x, ast.AST))
            elif isinstance(v, ast.AST):
                stack.append(v)
    return names, has_assert


def _loads(tree: ast.AST) -> set[str]:
    return _scan(tree)[0]


def _split_free(names: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names -= _BUILTINS
    std = {n for n in names if n in sys.stdlib_module_names}
    return tuple(sorted(names - std)), tuple(sorted(std))


def _escapes(stmts: list[ast.stmt]) -> bool:
    """True if the body returns/yields or declares scopes, which splitting would break."""
    todo: list[ast.AST] = list(stmts)
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom, ast.Global, ast.Nonlocal, ast.Await)):
            return True
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(n))
    return False


def _final_assert(stmts: list[ast.stmt]) -> tuple[int, int] | None:
    last = stmts[-1] if stmts else None
    return (last.lineno, last.end_lineno or last.lineno) if isinstance(last, ast.Assert) else None


def _compile(stmts: list[ast.stmt], name: str) -> CodeType:
    return compile(ast.Module(body=stmts, type_ignores=[]), name, "exec")


def _mbpp(job: Job) -> Plan:
    tests: list[CodeType | str] = []
    finals: list[tuple[int, int] | None] = []
    free: set[str] = set()
    for i, src in enumerate(job.tests):
        try:
            tree = ast.parse(src)
            tests.append(_compile(tree.body, f"<test {i}>"))
            finals.append(_final_assert(tree.body))
            free |= _loads(tree)
        except (SyntaxError, ValueError) as e:
            tests.append(f"test does not compile: {e}")
            finals.append(None)
    judge_setup = None
    if job.setup.strip():
        try:
            imports = [s for s in ast.parse(job.setup).body if isinstance(s, (ast.Import, ast.ImportFrom))]
            judge_setup = _compile(imports, "<setup imports>") if imports else None
        except SyntaxError:
            pass  # the sandbox reports it when it runs the setup
    names, std = _split_free(set(free))
    shadow = tuple(sorted(free & _BUILTINS))
    return Plan(judge_setup, job.setup, tuple(tests), names, std, None, shadow, final_assert=tuple(finals))


def _humaneval(job: Job) -> Plan:
    assert job.test is not None and job.entry_point is not None
    module = ast.parse(job.test)
    check = next((s for s in module.body if isinstance(s, ast.FunctionDef) and s.name == "check"), None)
    if check is None:
        raise ValueError("`test` defines no check(candidate)")
    free = _loads(module) | {job.entry_point}
    param = check.args.args[0].arg if check.args.args else "candidate"
    body = check.body
    under_test = {"candidate", job.entry_point}
    scans = [_scan(s) for s in body]
    is_test = [has and bool(names & under_test) for names, has in scans]  # `assert True` is no test
    if _escapes(body) or not any(is_test) or param != "candidate":
        call = ast.parse("check(candidate)").body
        return Plan(_compile(module.body, "<test>"), "", (_compile(call, "<check>"),), *_split_free(free),
                    job.entry_point)  # fmt: skip
    groups: list[list[ast.stmt]] = [[]]
    for stmt, test in zip(body, is_test, strict=True):
        groups[-1].append(stmt)
        if test:
            groups.append([])
    if not groups[-1]:
        groups.pop()
    elif len(groups) > 1:
        groups[-2].extend(groups.pop())
    tests = tuple(_compile(g, f"<check {i}>") for i, g in enumerate(groups))
    finals = tuple(_final_assert(g) for g in groups)
    return Plan(_compile(module.body, "<test>"), "", tests, *_split_free(free), job.entry_point, final_assert=finals)


def _helpers(source: str, entry_point: str | None) -> tuple[CodeType, ...]:
    """Top-level statements of trusted helper code, without the entry point's definition (that one is
    always the program's). Each compiles alone, so one the judge cannot run does not stop the rest."""
    if not source.strip():
        return ()
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return ()
    keep = [s for s in body if not (isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == entry_point)]
    return tuple(_compile([s], "<helpers>") for s in keep)


@lru_cache(maxsize=512)
def make_plan(
    job_tests: tuple[str, ...], setup: str, test: str | None, entry_point: str | None, helpers: str = ""
) -> Plan:
    """Plan for a job's tests (cached: GRPO judges the same problem many times)."""
    job = Job(id="", program="", tests=job_tests, setup=setup, test=test, entry_point=entry_point)
    plan = _humaneval(job) if test is not None else _mbpp(job)
    return replace(plan, helpers=_helpers(helpers, entry_point)) if helpers else plan
