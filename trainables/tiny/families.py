"""Families of tiny Python function-writing tasks: a return expression, phrasings, parameter domains.

A family is a template; an instance fixes its parameters (the constants of the expression). The
split between train and held-out instances is made on (family, parameters), so held-out tasks are
unseen combinations by construction. Compositions (`chain_*`) chain two integer operations, so a
model must combine pieces it has only seen apart or in other combinations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

#: Bump when a change here or in tasks.py, io_tasks.py, solutions.py or corpus.py changes the generated
#: tasks or the corpus (it is part of the model hash).
GENERATOR_VERSION = "tiny-tasks-6"

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
    bug: str = ""  # the family's misconception: a plausible wrong return expression, e.g. "x >= {a}" for ">"
    alternates: tuple[str, ...] = ()  # other correct function bodies (indented), each a different structure

    def render(self, params: tuple[str, ...], template: str) -> str:
        """Fill a body or phrasing template with this instance's parameters."""
        return template.format(**dict(zip("ab", params, strict=False)))


def _single(
    name: str,
    kind: str,
    body: str,
    phrasings: tuple[str, ...],
    domains,
    names,
    *,
    bug: str,
    alternates: tuple[str, ...],
) -> Family:
    return Family(name, kind, body, phrasings, tuple(domains), tuple(names), kind, bug, alternates)


_SINGLES: tuple[Family, ...] = (
    _single(
        "add",
        "int",
        "x + {a}",
        ("Return x plus {a}.", "Add {a} to x.", "Return the sum of x and {a}."),
        [MID],
        ("add_k", "plus_k", "add_const"),
        bug="x + {a} + 1",
        alternates=(
            "    result = x\n    result += {a}\n    return result\n",
            "    import operator\n\n    return operator.add(x, {a})\n",
            "    return sum((x, {a}))\n",
        ),
    ),
    _single(
        "sub",
        "int",
        "x - {a}",
        ("Return x minus {a}.", "Subtract {a} from x.", "Return x decreased by {a}."),
        [MID],
        ("sub_k", "minus_k", "take_away"),
        bug="{a} - x",
        alternates=(
            "    result = x\n    result -= {a}\n    return result\n",
            "    import operator\n\n    return operator.sub(x, {a})\n",
            "    return x + -{a}\n",
        ),
    ),
    _single(
        "mul",
        "int",
        "x * {a}",
        ("Return x times {a}.", "Multiply x by {a}.", "Return the product of x and {a}."),
        [SMALL],
        ("mul_k", "times_k", "scale"),
        bug="x ** {a}",
        alternates=(
            "    result = x\n    result *= {a}\n    return result\n",
            "    import operator\n\n    return operator.mul(x, {a})\n",
            "    return sum(x for _ in range({a}))\n",
        ),
    ),
    _single(
        "mod",
        "int",
        "x % {a}",
        ("Return x modulo {a}.", "Return the remainder of x divided by {a}."),
        [SMALL],
        ("mod_k", "remainder"),
        bug="x // {a}",
        alternates=(
            "    return divmod(x, {a})[1]\n",
            "    import operator\n\n    return operator.mod(x, {a})\n",
            "    return x - {a} * (x // {a})\n",
        ),
    ),
    _single(
        "floordiv",
        "int",
        "x // {a}",
        ("Return x floor-divided by {a}.", "Divide x by {a}, rounding down."),
        [SMALL],
        ("div_k", "floor_div"),
        bug="x / {a}",
        alternates=(
            "    return divmod(x, {a})[0]\n",
            "    import operator\n\n    return operator.floordiv(x, {a})\n",
            "    return (x - x % {a}) // {a}\n",
        ),
    ),
    _single(
        "gt",
        "int",
        "x > {a}",
        ("Return whether x is greater than {a}.", "Check if x exceeds {a}."),
        [MID],
        ("is_big", "greater"),
        bug="x >= {a}",
        alternates=(
            "    if x > {a}:\n        return True\n    return False\n",
            "    return not x <= {a}\n",
            "    return {a} < x\n",
        ),
    ),
    _single(
        "divisible",
        "int",
        "x % {a} == 0",
        ("Return whether x is divisible by {a}.", "Check if {a} divides x."),
        [SMALL],
        ("divisible", "is_multiple"),
        bug="{a} % x == 0",
        alternates=(
            "    return not x % {a}\n",
            "    if x % {a}:\n        return False\n    return True\n",
            "    return x // {a} * {a} == x\n",
        ),
    ),
    _single(
        "cap",
        "int",
        "min(x, {a})",
        ("Return x, but at most {a}.", "Cap x at {a}."),
        [MID],
        ("cap", "clip_high"),
        bug="max(x, {a})",
        alternates=(
            "    return x if x < {a} else {a}\n",
            "    if x > {a}:\n        return {a}\n    return x\n",
            "    return sorted([x, {a}])[0]\n",
        ),
    ),
    _single(
        "floor",
        "int",
        "max(x, {a})",
        ("Return x, but at least {a}.", "Raise x to at least {a}."),
        [MID],
        ("floor_at", "clip_low"),
        bug="min(x, {a})",
        alternates=(
            "    return x if x > {a} else {a}\n",
            "    if x < {a}:\n        return {a}\n    return x\n",
            "    return sorted([x, {a}])[-1]\n",
        ),
    ),
    _single(
        "dist",
        "int",
        "abs(x - {a})",
        ("Return the distance between x and {a}.", "Return the absolute value of x minus {a}."),
        [MID],
        ("dist", "gap"),
        bug="x - {a}",
        alternates=(
            "    return x - {a} if x > {a} else {a} - x\n",
            "    if x < {a}:\n        return {a} - x\n    return x - {a}\n",
            "    return max(x - {a}, {a} - x)\n",
        ),
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
        bug="sum(v for v in nums if v >= {a})",
        alternates=(
            "    total = 0\n    for v in nums:\n        if v > {a}:\n            total += v\n    return total\n",
            "    return sum(filter(lambda v: v > {a}, nums))\n",
            "    return sum([v for v in nums if v > {a}])\n",
        ),
    ),
    _single(
        "filter_gt",
        "list",
        "[v for v in nums if v > {a}]",
        ("Return the numbers in nums greater than {a}.", "Keep only the items of nums that exceed {a}."),
        [SMALL],
        ("keep_big", "filter_above"),
        bug="[v for v in nums if v >= {a}]",
        alternates=(
            "    out = []\n    for v in nums:\n        if v > {a}:\n            out.append(v)\n    return out\n",
            "    return list(filter(lambda v: v > {a}, nums))\n",
            "    return [nums[i] for i in range(len(nums)) if nums[i] > {a}]\n",
        ),
    ),
    _single(
        "map_mul",
        "list",
        "[v * {a} for v in nums]",
        ("Multiply every number in nums by {a}.", "Return each item of nums times {a}."),
        [SMALL],
        ("scale_all", "times_each"),
        bug="nums * {a}",
        alternates=(
            "    out = []\n    for v in nums:\n        out.append(v * {a})\n    return out\n",
            "    return list(map(lambda v: v * {a}, nums))\n",
            "    return [nums[i] * {a} for i in range(len(nums))]\n",
        ),
    ),
    _single(
        "map_add",
        "list",
        "[v + {a} for v in nums]",
        ("Add {a} to every number in nums.", "Return each item of nums plus {a}."),
        [MID],
        ("shift_all", "plus_each"),
        bug="nums + [{a}]",
        alternates=(
            "    out = []\n    for v in nums:\n        out.append(v + {a})\n    return out\n",
            "    return list(map(lambda v: v + {a}, nums))\n",
            "    return [nums[i] + {a} for i in range(len(nums))]\n",
        ),
    ),
    _single(
        "count_eq",
        "list",
        "nums.count({a})",
        ("Count how many times {a} occurs in nums.", "Return the number of items of nums equal to {a}."),
        [SMALL],
        ("count_k", "occurrences"),
        bug="sum(v for v in nums if v == {a})",
        alternates=(
            "    count = 0\n    for v in nums:\n        if v == {a}:\n            count += 1\n    return count\n",
            "    return sum(1 for v in nums if v == {a})\n",
            "    return len([v for v in nums if v == {a}])\n",
        ),
    ),
    _single(
        "max_plus",
        "list",
        "max(nums) + {a}",
        ("Return the largest number in nums plus {a}.", "Add {a} to the maximum of nums."),
        [MID],
        ("max_plus", "top_shift"),
        bug="nums[-1] + {a}",
        alternates=(
            "    best = nums[0]\n    for v in nums:\n        if v > best:\n            best = v\n"
            "    return best + {a}\n",
            "    return sorted(nums)[-1] + {a}\n",
            "    return max(v + {a} for v in nums)\n",
        ),
    ),
    _single(
        "take",
        "list",
        "nums[:{a}]",
        ("Return the first {a} items of nums.", "Keep the first {a} numbers of nums."),
        [TAKE],
        ("head", "take_k"),
        bug="nums[{a}:]",
        alternates=(
            "    out = []\n    for v in nums:\n        if len(out) == {a}:\n            break\n        out.append(v)\n"
            "    return out\n",
            "    return [v for i, v in enumerate(nums) if i < {a}]\n",
            "    return list(nums[0:{a}])\n",
        ),
    ),
    _single(
        "repeat",
        "str",
        "s * {a}",
        ("Return s repeated {a} times.", "Repeat the string s {a} times."),
        [SMALL],
        ("repeat", "copies"),
        bug="s * ({a} + 1)",
        alternates=(
            '    out = ""\n    for _ in range({a}):\n        out += s\n    return out\n',
            '    return "".join([s] * {a})\n',
            '    return "".join(s for _ in range({a}))\n',
        ),
    ),
    _single(
        "concat",
        "str",
        "s + {a}",
        ("Append {a} to s.", "Return s followed by {a}."),
        [WORDS],
        ("append", "suffix"),
        bug="{a} + s",
        alternates=(
            "    result = s\n    result += {a}\n    return result\n",
            '    return "".join([s, {a}])\n',
            '    return "%s%s" % (s, {a})\n',
        ),
    ),
    _single(
        "count_char",
        "str",
        "s.count({a})",
        ("Count the letter {a} in s.", "Return how many times {a} appears in s."),
        [CHARS],
        ("count_letter", "tally"),
        bug="s.find({a})",
        alternates=(
            "    count = 0\n    for ch in s:\n        if ch == {a}:\n            count += 1\n    return count\n",
            "    return sum(1 for ch in s if ch == {a})\n",
            '    return len(s) - len(s.replace({a}, ""))\n',
        ),
    ),
    _single(
        "startswith",
        "str",
        "s.startswith({a})",
        ("Return whether s starts with {a}.", "Check if s begins with {a}."),
        [WORDS],
        ("starts", "has_prefix"),
        bug="{a} in s",
        alternates=(
            "    return s[: len({a})] == {a}\n",
            "    return s.find({a}) == 0\n",
            "    if s.startswith({a}):\n        return True\n    return False\n",
        ),
    ),
    _single(
        "upper_concat",
        "str",
        "s.upper() + {a}",
        ("Return s in upper case followed by {a}.", "Uppercase s and append {a}."),
        [WORDS],
        ("shout", "loud_tail"),
        bug="(s + {a}).upper()",
        alternates=(
            '    return "".join(ch.upper() for ch in s) + {a}\n',
            "    result = s.upper()\n    result += {a}\n    return result\n",
            '    return "".join([s.upper(), {a}])\n',
        ),
    ),
    _single(
        "prefix",
        "str",
        "s[:{a}]",
        ("Return the first {a} characters of s.", "Cut s to its first {a} letters."),
        [TAKE],
        ("prefix", "first_k"),
        bug="s[{a}:]",
        alternates=(
            '    out = ""\n    for ch in s:\n        if len(out) == {a}:\n            break\n        out += ch\n'
            "    return out\n",
            '    return "".join(ch for i, ch in enumerate(s) if i < {a})\n',
            "    return s[0:{a}]\n",
        ),
    ),
    _single(
        "replace",
        "str",
        "s.replace({a}, {b})",
        ("Replace every {a} in s with {b}.", "Return s with each {a} changed to {b}."),
        [CHARS, CHARS],
        ("swap_letter", "replace_char"),
        bug="s.replace({a}, {b}, 1)",
        alternates=(
            '    out = ""\n    for ch in s:\n        out += {b} if ch == {a} else ch\n    return out\n',
            '    return "".join({b} if ch == {a} else ch for ch in s)\n',
            "    return {b}.join(s.split({a}))\n",
        ),
    ),
)

# Integer operations for two-step chains: (operator symbol, first-step phrase, then-step phrase, domain,
# name in the `operator` module).
_CHAIN_OPS: dict[str, tuple[str, str, str, tuple[str, ...], str]] = {
    "add": ("+", "add {k} to x", "then add {k}", MID, "add"),
    "sub": ("-", "subtract {k} from x", "then subtract {k}", MID, "sub"),
    "mul": ("*", "multiply x by {k}", "then multiply by {k}", SMALL, "mul"),
    "mod": ("%", "take x modulo {k}", "then take it modulo {k}", SMALL, "mod"),
    "floordiv": ("//", "floor-divide x by {k}", "then floor-divide by {k}", SMALL, "floordiv"),
}
_CHAIN_NAMES = ("combo", "two_steps", "transform")


def _chains() -> tuple[Family, ...]:
    """Every ordered pair of distinct operations. The misconception applies the steps in reverse order;
    for an addition and a subtraction, where order does not matter, it drops the second step."""
    out = []
    for first, (op1, say1, _, dom1, fn1) in _CHAIN_OPS.items():
        for second, (op2, _, say2, dom2, fn2) in _CHAIN_OPS.items():
            if first == second:
                continue
            phrase = f"{say1.format(k='{a}').capitalize()}, {say2.format(k='{b}')}."
            alternates = (
                f"    y = x {op1} {{a}}\n    return y {op2} {{b}}\n",
                f"    y = x\n    y {op1}= {{a}}\n    y {op2}= {{b}}\n    return y\n",
                f"    import operator\n\n    return operator.{fn2}(operator.{fn1}(x, {{a}}), {{b}})\n",
            )
            out.append(
                Family(
                    f"chain_{first}_{second}",
                    "int",
                    f"(x {op1} {{a}}) {op2} {{b}}",
                    (phrase,),
                    (dom1, dom2),
                    _CHAIN_NAMES,
                    "chain",
                    bug=f"x {op1} {{a}}" if {first, second} == {"add", "sub"} else f"(x {op2} {{b}}) {op1} {{a}}",
                    alternates=alternates,
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


def returns_list(family: Family) -> bool:
    """Whether the family's answer is a list (printed space-separated in the io tasks)."""
    namespace: dict[str, object] = {}
    params = tuple(domain[0] for domain in family.domains)
    exec(f"def f({ARG[family.kind]}):\n    return {family.render(params, family.body)}\n", namespace)
    return isinstance(namespace["f"](_PROBES[family.kind][0]), list)


def sample_input(kind: str, params: tuple[str, ...], rng: random.Random) -> str:
    """One argument value as Python source, drawn so the family's tests are not degenerate."""
    if kind == "int":
        return str(rng.randint(-10, 60))
    if kind == "list":
        return repr([rng.randint(-3, 15) for _ in range(rng.randint(1, 6))])
    text = "".join(rng.choice(STR_ALPHABET) for _ in range(rng.randint(1, 6)))
    words = [p.strip('"') for p in params if p.startswith('"')]
    if words and rng.random() < 0.5:
        at = 0 if rng.random() < 0.6 else rng.randint(1, len(text))  # mostly a prefix, sometimes inside
        text = text[:at] + rng.choice(words) + text[at:]
    return repr(text)
