"""Programs that try to forge a pass instead of computing it (sandbox.md §5, 26-41; issue item 3).

Expected answers are random tokens the program cannot know, so any pass would be a forgery. Each case
asserts the category, zero passes (or only the genuinely computed ones) and a reward no higher than
honest code failing the same way; conftest.Contained adds the host-side containment checks.
"""

# ruff: noqa: E501  (hostile programs are data: one per line reads best)

from __future__ import annotations

import pytest

from executors import Job
from trainables.common.rewards import exec_reward

RT, TO = -0.1, -0.3
TOKEN = "tok-5f1e9c"
T = (f"assert f(1) == {TOKEN!r}",)

CASES = [
    (
        "prints_all_tests_passed",
        "print('All tests passed')\nprint('1 passed in 0.01s')\ndef f(x):\n    return 'no'\n",
        T,
        "wrong_answer",
        0.0,
    ),
    (
        "sys_exit_before_asserts",
        "import sys\nsys.exit(0)\ndef f(x):\n    return 'no'\n",
        T,
        "runtime_error:SystemExit",
        RT,
    ),
    ("os_exit_before_asserts", "import os\nos._exit(0)\n", T, "crash", RT),
    ("system_exit_in_function", "def f(x):\n    raise SystemExit(0)\n", T, "runtime_error:SystemExit", RT),
    (
        "kill_self_in_function",
        "import os, signal\ndef f(x):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
        T,
        {"memory", "crash"},
        RT,
    ),
    (
        "always_equal_object",
        "class A:\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\ndef f(x):\n    return A()\n",
        T,
        "unrepresentable_value",
        RT,
    ),
    (
        "always_unequal_object_for_ne",
        "class A:\n    def __ne__(self, o):\n        return True\ndef f(x):\n    return A()\n",
        ("assert f(1) != 5",),
        "unrepresentable_value",
        RT,
    ),
    (
        "int_subclass_eq",
        "class I(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\ndef f(x):\n    return I(0)\n",
        ("assert f(1) == 7",),
        "wrong_answer",
        0.0,
    ),
    (
        "str_subclass_eq",
        "class S(str):\n    def __eq__(self, o):\n        return True\n    __hash__ = str.__hash__\ndef f(x):\n    return S('no')\n",
        T,
        "wrong_answer",
        0.0,
    ),
    (
        "class_attribute_spoof",
        "class A:\n    __class__ = property(lambda self: str)\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return A()\n",
        T,
        "unrepresentable_value",
        RT,
    ),
    (
        "patched_builtins",
        "import builtins\nbuiltins.AssertionError = type('X', (Exception,), {})\nbuiltins.isinstance = lambda *a: True\n"
        "builtins.repr = lambda o: " + repr(repr(TOKEN)) + "\ndef f(x):\n    return 'no'\n",
        T,
        {"wrong_answer", "crash"},  # patching repr may break the sandbox's own reply: that is a crash
        0.0,
    ),
    (
        "frame_walk_for_expected",
        "import sys\ndef f(x):\n    fr, seen = sys._getframe(), []\n    while fr:\n"
        "        seen += [v for v in list(fr.f_locals.values()) + list(fr.f_code.co_consts) if isinstance(v, str) and v.startswith('tok-') and len(v) > 4]\n"
        "        fr = fr.f_back\n    return seen[0] if seen else 'none'\n",
        T,
        "wrong_answer",
        0.0,
    ),
    (
        "gc_scan_for_expected",
        "import gc\ndef f(x):\n    for o in gc.get_objects():\n        for v in (o.values() if isinstance(o, dict) else o if isinstance(o, (list, tuple)) else ()):\n"
        "            if isinstance(v, str) and v.startswith('tok-') and len(v) > 4:\n                return v\n    return 'none'\n",
        T,
        "wrong_answer",
        0.0,
    ),
    (
        "heap_scan_for_expected",
        "import ctypes, re\ndef f(x):\n    maps = []\n    buf = ctypes.create_string_buffer(1)\n"
        "    base = ctypes.addressof(buf) & ~0xFFFFF\n    data = ctypes.string_at(base, 1 << 20)\n"
        "    m = re.search(rb'tok-[0-9a-f]{6}', data)\n    return m.group().decode() if m else 'none'\n",
        T,
        {"wrong_answer", "crash"},
        0.0,
    ),
    (
        "settrace_skips_lines",
        "import sys\nsys.settrace(lambda *a: None)\ndef f(x):\n    return 'no'\n",
        T,
        "wrong_answer",
        0.0,
    ),
    (
        "forged_reply_frames",
        "import os, struct\ndef fr(b):\n    os.write(4, struct.pack('>I', len(b)) + b)\n"
        "fr(b'K{\"f\": [\"v\", \"True\"]}')\nfr(b'VTrue')\nfr(b'V\"pass\"')\ndef f(x):\n    return 'no'\n",
        T,
        {"runtime_error", "wrong_answer", "crash", "unrepresentable_value"},
        0.0,
    ),
    (
        "fake_worker_result_on_stdout",
        "import json, os\nos.write(1, json.dumps({'id': 'x', 'passed': 1, 'total': 1, 'reward': 1.0}).encode())\n"
        "def f(x):\n    return 'no'\n",
        T,
        "wrong_answer",
        0.0,
    ),
    (
        "raises_assertion_error_itself",
        "def f(x):\n    raise AssertionError('fine')\n",
        T,
        "runtime_error:AssertionError",
        RT,
    ),
    (
        "shadow_set_builtin",
        "def set(*a):\n    return 1\ndef f(x):\n    return (9, 9)\n",
        ("assert set(f(1)) == set((4, 5))",),
        "wrong_answer",
        0.0,
    ),
    (
        "shadow_math_module",
        "class math:\n    isclose = staticmethod(lambda *a, **k: True)\ndef f(x):\n    return 0.0\n",
        ("assert math.isclose(f(1), 2.5)",),
        "wrong_answer",
        0.0,
    ),
    (
        "returns_generator",
        "def f(x):\n    yield 'no'\n",
        ("assert list(f(1)) == ['tok']",),
        "unrepresentable_value",
        RT,
    ),
    ("returns_nan", "def f(x):\n    return float('nan')\n", ("assert f(1) == 2.0",), "wrong_answer", 0.0),
]


@pytest.mark.parametrize(("name", "program", "tests", "categories", "max_reward"), CASES, ids=[c[0] for c in CASES])
def test_forgery_earns_nothing(contained, name, program, tests, categories, max_reward):
    r = contained(Job(name, program, tests), categories, max_reward)
    assert r.passed == 0, r.tests


def test_os_exit_after_first_call_keeps_only_genuine_results(contained):
    """The exit costs the test it happened in; the next test runs in a fresh process and counts."""
    program = "import os\nn = [0]\ndef f(x):\n    n[0] += 1\n    if n[0] > 1:\n        os._exit(0)\n    return x + 1\n"
    r = contained(Job("exit2", program, ("assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4")), "crash", 2 / 3)
    assert [t.status for t in r.tests] == ["pass", "crash", "pass"]


def test_hardcoded_visible_answers_fail_hidden_tests(contained):
    program = "def add(a, b):\n    return {(1, 2): 3}.get((a, b), 0)\n"
    r = contained(Job("hard", program, ("assert add(1, 2) == 3", "assert add(5, 6) == 11")), "wrong_answer", 0.5)
    assert exec_reward(r) == 0.5


HE_TEST = f"def check(candidate):\n    assert candidate(1) == {TOKEN!r}\n    assert candidate(2) == 'b'\n"


def test_humaneval_program_redefining_check_is_ignored(contained):
    program = "def g(x):\n    return 'no'\ndef check(candidate):\n    pass\n"
    r = contained(Job("he", program, test=HE_TEST, entry_point="g"), "wrong_answer", 0.0)
    assert r.passed == 0


def test_humaneval_always_equal_candidate(contained):
    program = "class A:\n    def __eq__(self, o):\n        return True\ndef g(x):\n    return A()\n"
    r = contained(Job("he2", program, test=HE_TEST, entry_point="g"), "unrepresentable_value", RT)
    assert r.passed == 0


def test_humaneval_frame_walk_finds_no_check_code(contained):
    program = (
        "import sys\ndef g(x):\n    fr = sys._getframe()\n    while fr:\n        for c in fr.f_code.co_consts:\n"
        "            if isinstance(c, str) and c.startswith('tok-') and len(c) > 4:\n                return c\n        fr = fr.f_back\n    return 'b'\n"
    )
    r = contained(Job("he3", program, test=HE_TEST, entry_point="g"), "wrong_answer", 0.5)
    assert [t.status for t in r.tests] == ["wrong_answer", "pass"]


def test_truthy_object_earns_what_returning_true_earns(contained):
    """Truth-testing a non-data object uses the bit the sandbox reports: no more than plain True gets."""
    program = "class A:\n    def __bool__(self):\n        return True\ndef f(x):\n    return A()\n"
    r = contained(Job("truthy", program, ("assert f(1)", "assert not f(2)")), "unrepresentable_value", 0.5)
    assert [t.status for t in r.tests] == ["pass", "unrepresentable_value"]
