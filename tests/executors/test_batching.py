"""Calls sent ahead in batches (executors/speculate.py) and trusted helpers (Job.helpers).

Batching must not change verdicts: a program that reads the batch ahead (it is in the child's memory)
must not learn an expected value it would not see anyway, a failing or hanging call sent ahead must not
cost the tests after it, and helpers from the prompt are the judge's own copy.
"""

# ruff: noqa: E501  (hostile programs are data: one per line reads best)

from __future__ import annotations

import pytest

from executors import Job
from trainables.common.rewards import exec_reward

TOK1, TOK2, TOK3 = "tok-1a2b3c", "tok-4d5e6f", "tok-7a8b9c"

# Walks every frame and every container in them for strings that look like tokens: the batch of calls
# sent ahead is in the child's memory, so this finds every argument of the batch.
READ_AHEAD = """
import sys, re
PAT = re.compile(r"tok-[0-9a-f]{6}")
def _found():
    out, seen, todo = [], set(), []
    fr = sys._getframe()
    while fr:
        todo += list(fr.f_locals.values())
        fr = fr.f_back
    while todo:
        v = todo.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, str):
            out += PAT.findall(v)
        elif isinstance(v, (list, tuple, set)):
            todo += list(v)
        elif isinstance(v, dict):
            todo += list(v.keys()) + list(v.values())
    return out
def f(x):
    found = [t for t in _found() if t != x]
    return found[0] if found else "none"
"""


def test_read_ahead_finds_no_expected_value_mbpp(contained):
    """Chained asserts: the second call's argument is the first call's expected value, so it is not
    sent ahead; the program sees it only after it answered the first call."""
    tests = (f"assert f(1) == {TOK1!r}", f"assert f({TOK1!r}) == {TOK2!r}")
    r = contained(Job("ahead", READ_AHEAD, tests), "wrong_answer", 0.0)
    assert r.passed == 0, r.tests


# Answers with the token that follows its argument among the tokens it can find, in order (cyclic):
# what a program reading the batch ahead would do against a chained test.
NEXT_TOKEN = """
import sys, re
PAT = re.compile(r"tok-[0-9a-f]{6}")
def f(x):
    best, fr = [], sys._getframe().f_back
    while fr:
        for v in list(fr.f_locals.values()) + [fr.f_locals]:
            seq = []
            for t in PAT.findall(repr(v)):
                if t not in seq:
                    seq.append(t)
            if len(seq) > len(best):
                best = seq
        fr = fr.f_back
    if x in best and len(best) > 1:
        return best[(best.index(x) + 1) % len(best)]
    return "none"
"""


def test_read_ahead_finds_no_expected_value_in_a_loop(contained):
    """A cycle of chained values in one loop: reading the batch ahead would give every answer."""
    check = f"def check(candidate):\n    for a, b in [({TOK1!r}, {TOK2!r}), ({TOK2!r}, {TOK3!r}), ({TOK3!r}, {TOK1!r})]:\n        assert candidate(a) == b\n"
    r = contained(Job("ahead2", NEXT_TOKEN, test=check, entry_point="f"), "wrong_answer", 0.0)
    assert r.passed == 0, r.tests


def test_read_ahead_of_expected_value_inside_a_string(contained):
    tests = (f"assert f(1) == {TOK1!r}", f"assert f('x' + {TOK1!r} + 'y') == 'z'")
    r = contained(Job("ahead3", READ_AHEAD, tests), "wrong_answer", 0.0)
    assert r.passed == 0, r.tests


def test_independent_calls_are_batched_and_judged(contained):
    """Many calls with arguments known upfront: all verdicts as if asked one by one."""
    program = "def sq(x):\n    return x * x if x != 7 else -1\n"
    check = "def check(candidate):\n    for x in range(20, 40):\n        assert candidate(x) == x * x\n    assert candidate(3) == 9\n    assert candidate(7) == 49\n    assert candidate(5) == 25\n"
    r = contained(Job("batch", program, test=check, entry_point="sq"), "wrong_answer", 0.75)
    assert [t.status for t in r.tests] == ["pass", "pass", "wrong_answer", "pass"]


def test_hanging_call_sent_ahead_costs_only_its_own_test(contained):
    """A loop fails on its first call; the next call, sent ahead, hangs. The test after it still passes
    (the busy child is replaced), and the program is not scored as a timeout."""
    program = "def f(x):\n    while x == 2:\n        pass\n    return x + 1 if x != 1 else 0\n"
    tests = ("for x in (1, 2):\n    assert f(x) == x + 1", "assert f(3) == 4", "assert f(4) == 5")
    r = contained(Job("hang", program, tests), "wrong_answer", 2 / 3, max_wall=6.0)
    assert [t.status for t in r.tests] == ["wrong_answer", "pass", "pass"]


def test_stateful_program_sees_calls_in_order(contained):
    program = "n = []\ndef f(x):\n    n.append(x)\n    return list(n)\n"
    tests = ("assert f(1) == [1]", "assert f(2) == [1, 2]", "assert f(3) == [1, 2, 3]")
    r = contained(Job("state", program, tests), "pass", 1.0)
    assert exec_reward(r) == 1.0


# HumanEval/32 and /38 shapes: the tests call a helper the prompt defines.
POLY_PROMPT = 'def poly(xs: list, x: float):\n    return sum(c * x ** i for i, c in enumerate(xs))\n\n\ndef find_zero(xs: list):\n    """A zero of poly(xs)."""\n'
POLY_TEST = "def check(candidate):\n    for xs in ([1, 2], [-6, 11, -6, 1], [1, 0, 0, 1]):\n        assert abs(poly(xs, candidate(xs))) < 1e-6\n"
POLY_SOLUTION = "    lo, hi = -100.0, 100.0\n    while poly(xs, lo) * poly(xs, hi) > 0:\n        hi *= 2\n    for _ in range(200):\n        mid = (lo + hi) / 2\n        if poly(xs, lo) * poly(xs, mid) <= 0:\n            hi = mid\n        else:\n            lo = mid\n    return lo\n"
CYCLIC_PROMPT = 'def encode(s: str):\n    return s[1:] + s[:1]\n\n\ndef decode(s: str):\n    """Inverse of encode."""\n'
CYCLIC_TEST = (
    "def check(candidate):\n    for s in ('abcdef', 'hello', 'xyz123'):\n        assert candidate(encode(s)) == s\n"
)


def test_trusted_helper_poly_passes_honest_solution(contained):
    job = Job("poly-ok", POLY_PROMPT + POLY_SOLUTION, test=POLY_TEST, entry_point="find_zero", helpers=POLY_PROMPT)
    r = contained(job, "pass", 1.0)
    assert exec_reward(r) == 1.0


@pytest.mark.parametrize(
    ("name", "program", "test", "entry", "prompt"),
    [
        (
            "redefine_poly",
            POLY_PROMPT + "    return 123.0\n\ndef poly(xs, x):\n    return 0.0\n",
            POLY_TEST,
            "find_zero",
            POLY_PROMPT,
        ),
        (
            "redefine_encode",
            CYCLIC_PROMPT + "    return s\n\ndef encode(s):\n    return s\n",
            CYCLIC_TEST,
            "decode",
            CYCLIC_PROMPT,
        ),
    ],
)
def test_program_redefining_a_prompt_helper_earns_nothing(contained, name, program, test, entry, prompt):
    r = contained(Job(name, program, test=test, entry_point=entry, helpers=prompt), "wrong_answer", 0.0)
    assert r.passed == 0, r.tests


def test_helpers_never_define_the_entry_point(contained):
    """The prompt's stub of the entry point (docstring only, returns None) is not what the tests call."""
    job = Job("stub", POLY_PROMPT + "    return None\n", test=POLY_TEST, entry_point="find_zero", helpers=POLY_PROMPT)
    r = contained(job, {"runtime_error", "wrong_answer"}, 0.0)
    assert r.passed == 0


def test_job_started_ahead_that_spins_does_not_cost_its_neighbours(ex, sentinel):
    """Workers start the next job while judging the current one: a program spinning at load (started
    ahead) times out on its own, the jobs around it pass, and nothing is left running."""
    ok = "def add(a, b):\n    return a + b\n"
    tests = ("assert add(1, 2) == 3", "assert add(2, 2) == 4")
    spin = "while True:\n    pass\n"
    jobs = [Job(f"ok{i}", ok, tests) for i in range(3)]
    jobs[1:1] = [Job("spin", spin, tests), Job("spin2", "import time\ntime.sleep(1e6)\n", tests)]
    res = ex.run(jobs)
    assert [r.category for r in res] == ["pass", "timeout", "timeout", "pass", "pass"], res
    assert all(r.isolation == "strict" for r in res)


def test_dry_run_leaves_the_tests_random_state_alone(contained):
    """A generator defined at the test module's top level is copied for the dry run, so the real run
    draws the same inputs it would draw without batching."""
    check = (
        "import random\nrng = random.Random(5)\n\ndef check(candidate):\n    ref = random.Random(5)\n"
        "    for _ in range(5):\n        assert candidate(rng.randint(0, 10**6)) == ref.randint(0, 10**6) + 1\n"
    )
    r = contained(Job("rng", "def inc(x):\n    return x + 1\n", test=check, entry_point="inc"), "pass", 1.0)
    assert exec_reward(r) == 1.0
