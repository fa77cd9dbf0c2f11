"""End-to-end smoke: the batch API and the check CLI judge a handful of honest programs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from executors import Job, Limits, SandboxExecutor
from trainables.common.rewards import exec_reward

ADD_TESTS = ("assert add(1, 2) == 3", "assert add(2, 2) == 4")


@pytest.fixture(scope="module")
def ex():
    with SandboxExecutor(workers=2, limits=Limits(per_test_s=1.0, program_s=5.0)) as ex:
        yield ex


def test_batch_api_scores_pass_partial_syntax_runtime(ex):
    jobs = [
        Job("ok", "def add(a, b):\n    return a + b\n", ADD_TESTS),
        Job("half", "def add(a, b):\n    return 3\n", ADD_TESTS),
        Job("syn", "def add(a, b)\n    return 3\n", ADD_TESTS),
        Job("rt", "def add(a, b):\n    return a / 0\n", ADD_TESTS),
        Job("he", "def inc(x):\n    return x + 1\n", test="def check(c):\n    assert c(1) == 2\n", entry_point="inc"),
    ]
    res = ex.run(jobs)
    assert [r.id for r in res] == ["ok", "half", "syn", "rt", "he"]
    assert [exec_reward(r) for r in res] == [1.0, 0.5, -0.2, -0.1, 1.0]
    assert [r.category for r in res] == [
        "pass",
        "wrong_answer",
        "syntax_error",
        "runtime_error:ZeroDivisionError",
        "pass",
    ]
    assert all(r.isolation == "strict" for r in res)


def test_check_cli_writes_one_result_per_line(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "program": "def add(a, b):\n    return a + b\n", "tests": ADD_TESTS}) + "\n")
    out = tmp_path / "out.jsonl"
    subprocess.run([sys.executable, "-m", "executors.check", str(src), "--out", str(out)], check=True, timeout=60)
    (line,) = out.read_text().splitlines()
    d = json.loads(line)
    assert (d["id"], d["passed"], d["total"], d["category"]) == ("a", 2, 2, "pass")
    assert "reward" not in d  # verdicts only: what a verdict is worth is the trainer's business
    assert d["tests"] == [{"status": "pass", "error": None}] * 2


def test_check_cli_bad_input_is_one_line_exit_2(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a"}\n')
    p = subprocess.run([sys.executable, "-m", "executors.check", str(src)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "in.jsonl:1" in p.stderr


def test_limits_must_be_positive(tmp_path):
    """A zero limit would mean none (tmpfs size=0 is unlimited): refused by the API and the command line."""
    with pytest.raises(ValueError, match="scratch_bytes must be > 0"):
        Limits(scratch_bytes=0)
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "program": "x = 1", "tests": ["assert x == 1"]}\n')
    cmd = [sys.executable, "-m", "executors.check", str(src), "--scratch-bytes", "0"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.strip() == "executors.check: --scratch-bytes must be > 0, not 0"


def test_unseeded_random_in_programs_is_the_same_in_every_child(ex):
    """Children start from the fork server's random state, seeded with 0: same program, same result."""
    expected = __import__("random").Random(0).random()
    program = "import random\ndef f():\n    return random.random()\n"
    res = ex.run([Job(f"r{i}", program, (f"assert f() == {expected!r}",)) for i in range(4)])
    assert [r.category for r in res] == ["pass"] * 4
