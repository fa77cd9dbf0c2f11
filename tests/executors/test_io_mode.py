"""Stdin/stdout jobs (`Job.io`): the program runs as a script once per case and its stdout is compared
by the judge, outside the sandbox, up to whitespace at line ends and trailing blank lines."""

# ruff: noqa: E501  (programs are data: one per line reads best)

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from executors import IOCase, Job
from executors.stdio import compare, lines

ADD = "a, b = map(int, input().split())\nprint(a + b)\n"
ADD_CASES = (IOCase("1 2\n", "3\n"), IOCase("20 22", "42"), IOCase("-5 5\n", "0"))


def statuses(r) -> list[str]:
    return [t.status for t in r.tests]


@pytest.mark.parametrize(
    ("name", "program", "cases"),
    [
        ("int_input", "n = int(input())\nprint(n * n)\n", (IOCase("7\n", "49\n"), IOCase("12", "144"))),
        ("split_list", ADD, ADD_CASES),
        (
            "several_lines",
            "n = int(input())\nrows = [list(map(int, input().split())) for _ in range(n)]\nfor r in rows:\n    print(sum(r))\n",
            (IOCase("2\n1 2 3\n4 5\n", "6\n9\n"), IOCase("1\n10\n", "10\n")),
        ),
        (
            "stdin_read",
            "import sys\ndata = sys.stdin.read().split()\nprint(max(map(int, data)))\n",
            (IOCase("3 9\n4\n\n1", "9"), IOCase("5", "5\n")),
        ),
        (
            "main_guard_and_buffer",
            "import sys\ndef main():\n    xs = sys.stdin.buffer.read().split()\n    sys.stdout.write(' '.join(reversed([x.decode() for x in xs])) + '\\n')\n"
            "if __name__ == '__main__':\n    main()\n",
            (IOCase("a b c\n", "c b a"),),
        ),
        ("unicode", "s = input()\nprint(s[::-1], len(s))\n", (IOCase("héllo wörld\n", "dlröw olléh 11\n"),)),
        ("exit_after_answer", "print(int(input()) + 1)\nexit()\n", (IOCase("1", "2"), IOCase("41", "42"))),
        (
            "deep_recursion_in_thread",
            "import sys, threading\nsys.setrecursionlimit(10 ** 6)\nthreading.stack_size(1 << 26)\n"
            "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n"
            "threading.Thread(target=lambda: print(depth(int(input())))).start()\n",
            (IOCase("30000\n", "30000\n"),),
        ),
    ],
)
def test_correct_scripts_pass_every_case(ex, name, program, cases):
    (r,) = ex.run([Job(name, program, io=cases)])
    assert (r.passed, r.total, r.category) == (len(cases), len(cases), "pass"), r


def test_large_input_and_output_pass(ex):
    n = 100_000
    cases = (IOCase(f"{n}\n" + " ".join(map(str, range(n))) + "\n", "\n".join(str(2 * i) for i in range(0, n, 10))),)
    program = "input()\nxs = list(map(int, input().split()))\nprint('\\n'.join(str(2 * x) for x in xs[::10]))\n"
    (r,) = ex.run([Job("big", program, io=cases)])
    assert r.category == "pass", r


def test_whitespace_at_line_ends_and_trailing_blank_lines_are_ignored(ex):
    ok = ["3", "3\n", "3  \n\n\n", "3\t\r\n", "3\n \n"]
    wrong = [" 3\n", "3 3\n", "\n3\n", "3\n\n4\n", "33\n"]
    jobs = [Job(f"ws{i}", f"print({text!r}, end='')\n", io=(IOCase("", "3\n"),)) for i, text in enumerate(ok + wrong)]
    res = ex.run(jobs)
    assert [r.category for r in res] == ["pass"] * len(ok) + ["wrong_answer"] * len(wrong)


def test_lines_and_compare_are_exact_small_functions():
    assert lines("a \nb\t\n\n \n") == ["a", "b"]
    assert lines(" a\n\nb") == [" a", "", "b"]
    assert lines("") == [] and lines("\n\n") == []
    assert compare(b"1\r\n2  \n", "1\n2").status == "pass"
    wrong = compare(b"1\n3\n", "1\n2\n")
    assert wrong.status == "wrong_answer" and wrong.error == "output differs at line 2 (2 lines, expected 2)"
    assert compare(b"\xff\n", "\ufffd").status == "pass"  # invalid UTF-8 reads as U+FFFD
    assert compare(b"", "0").status == "wrong_answer"
    # An empty answer (an empty list printed as a blank line) must be printed: silence is not it.
    assert compare(b"\n", "\n").status == "pass" and compare(b"", "\n").error == "printed nothing"
    assert compare(b"", "").status == "pass"


def test_wrong_runtime_and_syntax_errors(ex):
    jobs = [
        Job("wrong", "print(5)\n", io=ADD_CASES),
        Job("raise", "a, b = input().split()\nprint(int(a) // (int(b) - int(b)))\n", io=ADD_CASES),
        Job("syntax", "print(\n", io=ADD_CASES),
        Job("eof", "input()\ninput()\n", io=ADD_CASES),
        Job("exit1", "import sys\nprint(3)\nsys.exit(1)\n", io=ADD_CASES),
        Job("os_exit3", "import os\nos._exit(3)\n", io=ADD_CASES),
    ]
    res = ex.run(jobs)
    assert [r.category for r in res] == [
        "wrong_answer",
        "runtime_error:ZeroDivisionError",
        "syntax_error",
        "runtime_error:EOFError",
        "runtime_error:SystemExit",
        "crash",
    ]
    assert all(r.total == 3 and r.passed == 0 for r in res)
    assert statuses(res[0]) == ["wrong_answer"] * 3


def test_per_case_statuses_when_right_on_some_cases_only(ex):
    program = (
        "a, b = map(int, input().split())\nif a < 0:\n    raise ValueError(a)\nprint(a + b if a < 10 else a * b)\n"
    )
    (r,) = ex.run([Job("some", program, io=ADD_CASES)])
    assert statuses(r) == ["pass", "wrong_answer", "runtime_error:ValueError"]
    assert (r.passed, r.total, r.category) == (1, 3, "runtime_error:ValueError")


def test_timeout_in_one_case_keeps_the_other_cases_verdicts(ex):
    program = "a, b = map(int, input().split())\nwhile a == 20:\n    pass\nprint(a + b)\n"
    t0 = time.monotonic()
    (r,) = ex.run([Job("spin1", program, io=ADD_CASES)])
    assert statuses(r) == ["pass", "timeout", "pass"]
    assert time.monotonic() - t0 < 3.0  # per_test_s = 1 for the spinning case only


def test_program_time_limit_bounds_the_whole_job(ex):
    """Every case spins: each costs per_test_s (1 s) until program_s (3 s) is spent; the rest time out unrun."""
    t0 = time.monotonic()
    (r,) = ex.run([Job("spin_all", "while True:\n    pass\n", io=ADD_CASES * 2)])
    assert statuses(r) == ["timeout"] * 6
    assert [t.error for t in r.tests][-2:] == ["program time limit"] * 2
    assert time.monotonic() - t0 < 4.5


def test_stderr_is_never_compared_but_counts_towards_the_output_cap(ex):
    quiet = "import sys\nprint('3 is wrong', file=sys.stderr)\nprint(3)\n"
    loud = "import sys\nsys.stderr.write('e' * (1 << 20))\nprint(3)\n"
    res = ex.run([Job("stderr", quiet, io=ADD_CASES[:1]), Job("loud", loud, io=ADD_CASES[:1])])
    assert [r.category for r in res] == ["pass", "output_limit"]


def test_each_case_runs_in_a_fresh_process(ex):
    """A file or module state left by one case is gone in the next (fresh child, wiped scratch)."""
    program = (
        "import os, sys\nseen = os.path.exists('state.txt') or hasattr(sys, 'seen')\nopen('state.txt', 'w').write('x')\n"
        "sys.seen = 1\nprint('seen' if seen else 'fresh')\n"
    )
    (r,) = ex.run([Job("fresh", program, io=(IOCase("", "fresh"),) * 3)])
    assert r.category == "pass", r


def test_job_takes_exactly_one_kind_of_test():
    with pytest.raises(ValueError, match="`io` jobs take no 'tests'; give only `io`"):
        Job("x", "print(1)", tests=("assert True",), io=(IOCase("", "1"),))
    with pytest.raises(ValueError, match="`io` jobs take no 'test', 'entry_point'"):
        Job("x", "print(1)", test="def check(c): pass", entry_point="f", io=(IOCase("", "1"),))
    with pytest.raises(ValueError, match=r"or `io` \(stdin/stdout cases\)"):
        Job("x", "print(1)")
    with pytest.raises(ValueError, match="needs `input` and `output` strings"):
        Job("x", "print(1)", io=({"input": "1"},))
    job = Job("x", "print(1)", io=[{"input": "1", "output": "2"}, ("3", "4")])  # type: ignore[list-item]
    assert job.io == (IOCase("1", "2"), IOCase("3", "4"))


def test_check_cli_round_trip_with_an_io_line(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": "io", "program": ADD, "io": [{"input": c.input, "output": c.output} for c in ADD_CASES]},
        {"id": "mbpp", "program": "def add(a, b):\n    return a + b\n", "tests": ["assert add(1, 2) == 3"]},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    subprocess.run([sys.executable, "-m", "executors.check", str(src), "--out", str(out)], check=True, timeout=60)
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(d["id"], d["passed"], d["total"], d["category"]) for d in got] == [
        ("io", 3, 3, "pass"),
        ("mbpp", 1, 1, "pass"),
    ]
    assert got[0]["tests"] == [{"status": "pass", "error": None}] * 3
    assert set(got[0]) == {"id", "passed", "total", "category", "tests", "wall_s", "isolation"}


def test_check_cli_bad_io_line_is_one_line_exit_2(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "program": "print(1)", "io": [{"input": 1, "output": "1"}]}) + "\n")
    p = subprocess.run([sys.executable, "-m", "executors.check", str(src)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "in.jsonl:1" in p.stderr and "`io` case" in p.stderr
