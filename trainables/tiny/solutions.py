"""Solutions of a tiny task in several structures, with and without lint findings, right and wrong.

A family gives one return expression (`Family.body`), its misconception (`Family.bug`) and a few
alternative bodies (loops, conditionals, the `operator` module...). Wrappers turn an expression into
a function body in a given structure. From these come:

- `clean_solutions`: correct programs without lint findings, pairwise different in structure
  (`structure` erases names, so a renamed variable is not a new structure); at least five per task;
- `corpus_distribution`: the programs the base model is trained to imitate for a task, with their
  probabilities. Like a real pretraining corpus it mixes structures, carries lint findings in a share
  of correct programs (LINT_SHARE, one rule per wrapper in LINT_RULES), and two kinds of defects an
  execution reward can unlearn: the family's misconception (rate `bug` per family) and a habit
  shared by all families, printing the answer instead of returning it (rate `habit` per family).
  RL acting on the shared habit is what lets it transfer from training tasks to held-out ones.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from trainables.tiny.families import ARG, Family

#: Wrappers of a return expression `{e}` (for an argument `{arg}`) that add no lint finding.
CLEAN_WRAPPERS: dict[str, str] = {
    "direct": "    return {e}\n",
    "temp": "    result = {e}\n    return result\n",
    "helper": "    def inner({arg}):\n        return {e}\n\n    return inner({arg})\n",
}
#: Wrappers that carry exactly one Ruff finding each (the rule code is the key). "F401" is a header
#: line before the function.
LINT_WRAPPERS: dict[str, str] = {
    "E731": "    compute = lambda {arg}: {e}\n    return compute({arg})\n",
    "F401": "    return {e}\n",
    "F841": "    original = {arg}\n    return {e}\n",
    "E711": "    if {arg} == None:\n        return None\n    return {e}\n",
    "E722": "    try:\n        return {e}\n    except:\n        return None\n",
}
LINT_RULES = tuple(LINT_WRAPPERS)
#: Shares of the corpus by structure: the direct return, the other clean wrappers, the family's
#: alternatives (split evenly) and the lint-bearing wrappers (split evenly).
SHARES = {"direct": 0.35, "temp": 0.08, "helper": 0.05, "alternates": 0.27, "lint": 0.25}
LINT_SHARE = SHARES["lint"]
#: Wrappers whose last line returns the answer: the print habit turns it into print(...).
HABIT_WRAPPERS = frozenset({"direct", "temp", "helper", "E731", "F401", "F841"})


def wrap(style: str, arg: str, expr: str) -> str:
    """A function body (indented lines) in `style` returning `expr`, plus a header for F401."""
    template = CLEAN_WRAPPERS.get(style) or LINT_WRAPPERS[style]
    return template.replace("{arg}", arg).replace("{e}", expr)


def program(name: str, arg: str, body: str, style: str = "") -> str:
    """A whole completion: `def name(arg):` and its body (with `import math` first for F401)."""
    header = "import math\n\n" if style == "F401" else ""
    return f"{header}def {name}({arg}):\n{body}"


def with_print_habit(body: str) -> str:
    """The body with its final `return X` turned into `print(X)`: the shared defect."""
    head, _, last = body.rstrip("\n").rpartition("\n")
    indent = last[: len(last) - len(last.lstrip())]
    assert last.lstrip().startswith("return "), body
    fixed = f"{indent}print({last.lstrip()[len('return ') :]})"
    return f"{head}\n{fixed}\n" if head else f"{fixed}\n"


def alternates(family: Family, params: tuple[str, ...]) -> tuple[str, ...]:
    """The family's alternative bodies for these parameters."""
    return tuple(family.render(params, alt) for alt in family.alternates)


def clean_solutions(family: Family, params: tuple[str, ...], name: str) -> tuple[str, ...]:
    """Correct, lint-free programs of different structure: direct first, then the others."""
    arg = ARG[family.kind]
    expr = family.render(params, family.body)
    bodies = [wrap(s, arg, expr) for s in CLEAN_WRAPPERS] + list(alternates(family, params))
    return distinct(program(name, arg, body) for body in bodies)


def corpus_distribution(
    family: Family, params: tuple[str, ...], name: str, *, habit: float, bug: float
) -> tuple[tuple[str, float], ...]:
    """(program, probability) pairs summing to 1: what the corpus holds for one task.

    Expression wrappers carry the misconception with probability `bug` and, those in HABIT_WRAPPERS,
    the print habit with probability `habit`, independently; alternatives are always right.
    """
    arg = ARG[family.kind]
    right, wrong = family.render(params, family.body), family.render(params, family.bug)
    styles = [("direct", SHARES["direct"]), ("temp", SHARES["temp"]), ("helper", SHARES["helper"])]
    styles += [(rule, LINT_SHARE / len(LINT_RULES)) for rule in LINT_RULES]
    out: dict[str, float] = {}
    for style, share in styles:
        for expr, p_expr in ((right, 1.0 - bug), (wrong, bug)):
            body = wrap(style, arg, expr)
            habit_here = habit if style in HABIT_WRAPPERS else 0.0
            for text, p in ((body, 1.0 - habit_here), (None, habit_here)):
                if p <= 0.0 or p_expr <= 0.0:
                    continue
                text = text if text is not None else with_print_habit(body)
                key = program(name, arg, text, style)
                out[key] = out.get(key, 0.0) + share * p_expr * p
    alts = alternates(family, params)
    for body in alts:
        key = program(name, arg, body)
        out[key] = out.get(key, 0.0) + SHARES["alternates"] / len(alts)
    return tuple(out.items())


def differs(bad, value: object, expected: object) -> bool:
    """Whether the function `bad` gets `value` wrong (raising counts as wrong)."""
    try:
        return bad(value) != expected
    except Exception:
        return True


def structure(source: str) -> str:
    """The program's AST with every identifier erased: equal for programs that differ only in names,
    whitespace or comments."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            node.id = "_"
        elif isinstance(node, ast.arg):
            node.arg = "_"
        elif isinstance(node, ast.FunctionDef):
            node.name = "_"
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def distinct(programs: Iterable[str]) -> tuple[str, ...]:
    """The programs in order, dropping any whose structure an earlier one already has."""
    seen: set[str] = set()
    out = []
    for source in programs:
        key = structure(source)
        if key not in seen:
            seen.add(key)
            out.append(source)
    return tuple(out)
