"""Families of tiny Python function-writing tasks: a return expression, phrasings, parameter domains.

A family is a template; an instance fixes its parameters (the constants of the expression). The
split between train and held-out instances is made on (family, parameters), so held-out tasks are
unseen combinations by construction. Compositions (`chain_*`) chain two integer operations, so a
model must combine pieces it has only seen apart or in other combinations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

#: Bump when a change here or in tasks.py changes the generated tasks (it is part of the model hash).
GENERATOR_VERSION = "tiny-tasks-4"

SMALL = tuple(str(k) for k in range(2, 10))
MID = tuple(str(k) for k in range(1, 31))
TAKE = tuple(str(k) for k in range(1, 5))
WORDS = tuple(
    f'"{w}"' for w in ("ab", "cd", "xy", "ok", "hi", "end", "pre", "zz", "top", "ace", "bed", "dab", "ox", "ex")
)
CHARS = tuple(f'"{c}"' for c in "abcdexyz")
STR_ALPHABET = "abcdexyz"

ARG = {"int": "x", "list": "nums", "str": "s"}


@dataclass(frozen=True)
class Family:
    """A task template: `body` is the return expression with {a}, {b} for its parameters."""

    name: str
    kind: str  # argument kind: "int", "list" or "str" (the argument is named ARG[kind])
    body: str
    phrasings: tuple[str, ...]  # descriptions with {a}, {b}; one is drawn per instance
    domains: tuple[tuple[str, ...], ...]  # one domain of source literals per parameter
    names: tuple[str, ...]  # entry-point names; one is drawn per instance
    group: str  # "int", "list", "str" or "chain": families are sampled group first

    def render(self, params: tuple[str, ...], template: str) -> str:
        """Fill a body or phrasing template with this instance's parameters."""
        return template.format(**dict(zip("ab", params, strict=False)))


def _single(name: str, kind: str, body: str, phrasings: tuple[str, ...], domains, names) -> Family:
    return Family(name, kind, body, phrasings, tuple(domains), tuple(names), kind)


_SINGLES: tuple[Family, ...] = (
    _single(
        "add",
        "int",
        "x + {a}",
        ("Return x plus {a}.", "Add {a} to x.", "Return the sum of x and {a}."),
        [MID],
        ("add_k", "plus_k", "add_const"),
    ),
    _single(
        "sub",
        "int",
        "x - {a}",
        ("Return x minus {a}.", "Subtract {a} from x.", "Return x decreased by {a}."),
        [MID],
        ("sub_k", "minus_k", "take_away"),
    ),
    _single(
        "mul",
        "int",
        "x * {a}",
        ("Return x times {a}.", "Multiply x by {a}.", "Return the product of x and {a}."),
        [SMALL],
        ("mul_k", "times_k", "scale"),
    ),
    _single(
        "mod",
        "int",
        "x % {a}",
        ("Return x modulo {a}.", "Return the remainder of x divided by {a}."),
        [SMALL],
        ("mod_k", "remainder"),
    ),
    _single(
        "floordiv",
        "int",
        "x // {a}",
        ("Return x floor-divided by {a}.", "Divide x by {a}, rounding down."),
        [SMALL],
        ("div_k", "floor_div"),
    ),
    _single(
        "gt",
        "int",
        "x > {a}",
        ("Return whether x is greater than {a}.", "Check if x exceeds {a}."),
        [MID],
        ("is_big", "greater"),
    ),
    _single(
        "divisible",
        "int",
        "x % {a} == 0",
        ("Return whether x is divisible by {a}.", "Check if {a} divides x."),
        [SMALL],
        ("divisible", "is_multiple"),
    ),
    _single(
        "cap",
        "int",
        "min(x, {a})",
        ("Return x, but at most {a}.", "Cap x at {a}."),
        [MID],
        ("cap", "clip_high"),
    ),
    _single(
        "floor",
        "int",
        "max(x, {a})",
        ("Return x, but at least {a}.", "Raise x to at least {a}."),
        [MID],
        ("floor_at", "clip_low"),
    ),
    _single(
        "dist",
        "int",
        "abs(x - {a})",
        ("Return the distance between x and {a}.", "Return the absolute value of x minus {a}."),
        [MID],
        ("dist", "gap"),
    ),
    _single(
        "sum_gt",
        "list",
        "sum(v for v in nums if v > {a})",
        (
            "Return the sum of the numbers in nums greater than {a}.",
            "Add up the items of nums that exceed {a}.",
        ),
        [SMALL],
        ("sum_big", "total_above"),
    ),
    _single(
        "filter_gt",
        "list",
        "[v for v in nums if v > {a}]",
        ("Return the numbers in nums greater than {a}.", "Keep only the items of nums that exceed {a}."),
        [SMALL],
        ("keep_big", "filter_above"),
    ),
    _single(
        "map_mul",
        "list",
        "[v * {a} for v in nums]",
        ("Multiply every number in nums by {a}.", "Return each item of nums times {a}."),
        [SMALL],
        ("scale_all", "times_each"),
    ),
    _single(
        "map_add",
        "list",
        "[v + {a} for v in nums]",
        ("Add {a} to every number in nums.", "Return each item of nums plus {a}."),
        [MID],
        ("shift_all", "plus_each"),
    ),
    _single(
        "count_eq",
        "list",
        "nums.count({a})",
        ("Count how many times {a} occurs in nums.", "Return the number of items of nums equal to {a}."),
        [SMALL],
        ("count_k", "occurrences"),
    ),
    _single(
        "max_plus",
        "list",
        "max(nums) + {a}",
        ("Return the largest number in nums plus {a}.", "Add {a} to the maximum of nums."),
        [MID],
        ("max_plus", "top_shift"),
    ),
    _single(
        "take",
        "list",
        "nums[:{a}]",
        ("Return the first {a} items of nums.", "Keep the first {a} numbers of nums."),
        [TAKE],
        ("head", "take_k"),
    ),
    _single(
        "repeat",
        "str",
        "s * {a}",
        ("Return s repeated {a} times.", "Repeat the string s {a} times."),
        [SMALL],
        ("repeat", "copies"),
    ),
    _single(
        "concat",
        "str",
        "s + {a}",
        ("Append {a} to s.", "Return s followed by {a}."),
        [WORDS],
        ("append", "suffix"),
    ),
    _single(
        "count_char",
        "str",
        "s.count({a})",
        ("Count the letter {a} in s.", "Return how many times {a} appears in s."),
        [CHARS],
        ("count_letter", "tally"),
    ),
    _single(
        "startswith",
        "str",
        "s.startswith({a})",
        ("Return whether s starts with {a}.", "Check if s begins with {a}."),
        [WORDS],
        ("starts", "has_prefix"),
    ),
    _single(
        "upper_concat",
        "str",
        "s.upper() + {a}",
        ("Return s in upper case followed by {a}.", "Uppercase s and append {a}."),
        [WORDS],
        ("shout", "loud_tail"),
    ),
    _single(
        "prefix",
        "str",
        "s[:{a}]",
        ("Return the first {a} characters of s.", "Cut s to its first {a} letters."),
        [TAKE],
        ("prefix", "first_k"),
    ),
    _single(
        "replace",
        "str",
        "s.replace({a}, {b})",
        ("Replace every {a} in s with {b}.", "Return s with each {a} changed to {b}."),
        [CHARS, CHARS],
        ("swap_letter", "replace_char"),
    ),
)

# Integer operations for two-step chains: (expression suffix, first-step phrase, then-step phrase).
_CHAIN_OPS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "add": ("+ {k}", "add {k} to x", "then add {k}", MID),
    "sub": ("- {k}", "subtract {k} from x", "then subtract {k}", MID),
    "mul": ("* {k}", "multiply x by {k}", "then multiply by {k}", SMALL),
    "mod": ("% {k}", "take x modulo {k}", "then take it modulo {k}", SMALL),
    "floordiv": ("// {k}", "floor-divide x by {k}", "then floor-divide by {k}", SMALL),
}
_CHAIN_NAMES = ("combo", "two_steps", "transform")


def _chains() -> tuple[Family, ...]:
    out = []
    for first, (suf1, say1, _, dom1) in _CHAIN_OPS.items():
        for second, (suf2, _, say2, dom2) in _CHAIN_OPS.items():
            if first == second:
                continue
            body = f"(x {suf1.format(k='{a}')}) {suf2.format(k='{b}')}"
            phrase = f"{say1.format(k='{a}').capitalize()}, {say2.format(k='{b}')}."
            out.append(
                Family(
                    f"chain_{first}_{second}",
                    "int",
                    body,
                    (phrase,),
                    (dom1, dom2),
                    _CHAIN_NAMES,
                    "chain",
                )
            )
    return tuple(out)


def all_families() -> tuple[Family, ...]:
    """Every family, in a fixed order (singles, then chains)."""
    return _SINGLES + _chains()


_PROBES = {
    "int": tuple(range(-10, 61)),
    "list": ([3, 9, 1], [15, -2, 7, 7, 0, 4], [5], [2, 8, 8, 11]),
    "str": ("abcde", "xyzzy", "dab", "preacexy", "zz", "ok hi", "bedtop"),
}


def is_trivial(family: Family, params: tuple[str, ...]) -> bool:
    """Whether an instance is the identity or a constant on probe inputs, e.g. (x % 5) // 7 == 0."""
    namespace: dict[str, object] = {}
    exec(f"def f({ARG[family.kind]}):\n    return {family.render(params, family.body)}\n", namespace)
    outputs = [namespace["f"](p) for p in _PROBES[family.kind]]
    return len({repr(o) for o in outputs}) == 1 or outputs == list(_PROBES[family.kind])


def sample_input(kind: str, params: tuple[str, ...], rng: random.Random) -> str:
    """One argument value as Python source, drawn so the family's tests are not degenerate."""
    if kind == "int":
        return str(rng.randint(-10, 60))
    if kind == "list":
        return repr([rng.randint(-3, 15) for _ in range(rng.randint(1, 6))])
    text = "".join(rng.choice(STR_ALPHABET) for _ in range(rng.randint(1, 6)))
    words = [p.strip('"') for p in params if p.startswith('"')]
    if words and rng.random() < 0.5:
        text = rng.choice(words) + text
    return repr(text)
