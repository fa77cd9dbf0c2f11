"""Stdin/stdout tasks: the tiny stand-in for competitive-programming benchmarks (LiveCodeBench, AtCoder).

The same families as the function tasks, asked as a script: read the argument from one input line,
print the answer. Judged by exact output after whitespace normalisation (the sandbox's `io` mode),
several cases per task. Prompt::

    # Input: one line, an integer x.
    # Add 7 to x. Print the result.
    # Example input: 3
    # Example output: 10

Splits reuse the function tasks' fixed partition of (family, parameters): io train draws from the
train combinations, io validation from the transfer ones, io test from the held-out ones, so the
three never share an expression. The corpus distribution mirrors the function tasks': several
structures, the family's misconception, and the script-side habit (a `solve` function defined and
never called, so nothing is printed).
"""

from __future__ import annotations

import random

from trainables.tiny.families import ARG, Family, sample_input
from trainables.tiny.solutions import CLEAN_WRAPPERS, SHARES, alternates, differs, distinct, wrap

IO_SPLITS = {"io_train": "train", "io_val": "transfer", "io_test": "heldout"}
N_CASES = 4
INPUT_SAYS = {
    "int": "one line, an integer x.",
    "list": "one line, integers nums separated by spaces.",
    "str": "one line, a string s.",
}
PARSE = {"int": "int(input())", "list": "list(map(int, input().split()))", "str": "input()"}
PARSE_SYS = {
    "int": "int(sys.stdin.readline())",
    "list": "[int(t) for t in sys.stdin.readline().split()]",
    "str": "sys.stdin.readline().strip()",
}


def render_input(value: object) -> str:
    """One input line for an argument value: lists as space-separated integers."""
    if isinstance(value, list):
        return " ".join(map(str, value)) + "\n"
    return f"{value}\n"


def render_output(value: object) -> str:
    """The expected stdout for a result: lists as space-separated items, else str(value)."""
    if isinstance(value, list):
        return " ".join(map(str, value)) + "\n"
    return f"{value}\n"


def _printer(expr: str, is_list: bool) -> str:
    return f"print(*{expr})" if is_list else f"print({expr})"


def clean_scripts(family: Family, params: tuple[str, ...], is_list: bool) -> tuple[str, ...]:
    """Correct scripts of different structure: direct first, a temp variable, sys.stdin, and a
    `solve` function in every clean function structure."""
    arg = ARG[family.kind]
    expr = family.render(params, family.body)
    scripts = [
        f"{arg} = {PARSE[family.kind]}\n{_printer(expr, is_list)}\n",
        f"{arg} = {PARSE[family.kind]}\nresult = {expr}\n{_printer('result', is_list)}\n",
        f"import sys\n\n{arg} = {PARSE_SYS[family.kind]}\n{_printer(expr, is_list)}\n",
    ]
    bodies = [wrap(s, arg, expr) for s in CLEAN_WRAPPERS] + list(alternates(family, params))
    call = _printer(f"solve({PARSE[family.kind]})", is_list)
    scripts += [f"def solve({arg}):\n{body}\n\n{call}\n" for body in bodies]
    return distinct(scripts)


def io_corpus_distribution(
    family: Family, params: tuple[str, ...], is_list: bool, *, habit: float, bug: float
) -> tuple[tuple[str, float], ...]:
    """(script, probability) pairs summing to 1 for one io task (see the module docstring)."""
    arg = ARG[family.kind]
    right, wrong = family.render(params, family.body), family.render(params, family.bug)
    call = _printer(f"solve({PARSE[family.kind]})", is_list)
    out: dict[str, float] = {}

    def add(text: str, p: float) -> None:
        if p > 0.0:
            out[text] = out.get(text, 0.0) + p

    for expr, p_expr in ((right, 1.0 - bug), (wrong, bug)):
        add(f"{arg} = {PARSE[family.kind]}\n{_printer(expr, is_list)}\n", SHARES["direct"] * p_expr)
        add(f"{arg} = {PARSE[family.kind]}\nresult = {expr}\n{_printer('result', is_list)}\n", 0.1 * p_expr)
        solve = f"def solve({arg}):\n{wrap('direct', arg, expr)}"
        rest = 1.0 - SHARES["direct"] - 0.1 - SHARES["alternates"]
        add(f"{solve}\n\n{call}\n", rest * p_expr * (1.0 - habit))
        add(solve, rest * p_expr * habit)
    alts = alternates(family, params)
    for body in alts:
        add(f"def solve({arg}):\n{body}\n\n{call}\n", SHARES["alternates"] / len(alts))
    return tuple(out.items())


def io_prompt(kind: str, description: str, spec: str, cases: list[tuple[str, str]]) -> str:
    """The comment block of an io task: input format, the task (if described), one or two examples."""
    lines = [f"Input: {INPUT_SAYS[kind]}"]
    if spec == "described":
        lines.append(f"{description} Print the result.")
    for given, expected in cases[: 1 if spec == "described" else 2]:
        lines.append(f"Example input: {given.rstrip()}")
        lines.append(f"Example output: {expected.rstrip()}")
    return "".join(f"# {line}\n" for line in lines)


def draw_cases(fn, bad, kind: str, params: tuple[str, ...], rng: random.Random) -> list[tuple[object, object]]:
    """N_CASES distinct (argument, result) pairs whose results are not all equal and on which the
    misconception `bad` is wrong at least once."""
    for _ in range(500):
        seen: list[str] = []
        while len(seen) < N_CASES:
            value = sample_input(kind, params, rng)
            if value not in seen:
                seen.append(value)
        cases = [(eval(v), fn(eval(v))) for v in seen]  # literals we just generated
        if len({repr(r) for _, r in cases}) > 1 and any(differs(bad, v, r) for v, r in cases):
            return cases
    raise ValueError(f"tiny io tasks: no cases tell {params} apart from its misconception; change the family")
