"""Strict mode refuses a machine without a kernel feature; weak mode runs there and says so in every result.

The features are switched off with `disable`, the same code path as a kernel that lacks them.
"""

from __future__ import annotations

import glob

import pytest

from executors import Job, Limits, SandboxExecutor, SandboxUnavailable
from trainables.common.rewards import exec_reward

LIMITS = Limits(per_test_s=1.0, program_s=3.0, memory_mb=512)
TESTS = ("assert add(1, 2) == 3", "assert add(2, 2) == 4")


@pytest.mark.parametrize("feature", ["namespaces", "landlock", "seccomp"])
def test_strict_mode_refuses_without_a_feature_and_names_the_opt_out(feature):
    ex = SandboxExecutor(workers=1, limits=LIMITS, disable=(feature,))
    with pytest.raises(SandboxUnavailable) as err:
        ex.run([Job("ok", "def add(a, b):\n    return a + b\n", TESTS)])
    msg = str(err.value)
    assert feature in msg and "mode='weak'" in msg and "\n" not in msg
    ex.close()


def test_unknown_feature_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown features"):
        SandboxExecutor(disable=("selinux",))


def test_weak_mode_runs_records_it_and_still_judges_outside_the_program():
    jobs = [
        Job("honest", "def add(a, b):\n    return a + b\n", TESTS),
        Job("wrong", "def add(a, b):\n    return 0\n", TESTS),
        Job(
            "forged_eq",
            "class A:\n    def __eq__(self, o):\n        return True\ndef add(a, b):\n    return A()\n",
            TESTS,
        ),
        Job("exit_early", "import sys\nprint('All tests passed')\nsys.exit(0)\ndef add(a, b):\n    return 0\n", TESTS),
        Job("spin", "def add(a, b):\n    while True:\n        pass\n", TESTS),
    ]
    scratch_before = set(glob.glob("/tmp/sandbox-*"))
    with SandboxExecutor(workers=1, limits=LIMITS, mode="weak", disable=("namespaces", "landlock", "seccomp")) as ex:
        assert ex.isolation == "weak"
        res = {r.id: r for r in ex.run(jobs)}
    assert set(glob.glob("/tmp/sandbox-*")) <= scratch_before  # without a tmpfs, scratch is a temp dir: removed
    assert all(r.isolation == "weak" for r in res.values())
    assert res["honest"].category == "pass" and exec_reward(res["honest"]) == 1.0
    assert res["wrong"].category == "wrong_answer" and res["wrong"].passed == 0
    assert res["forged_eq"].passed == 0
    assert res["exit_early"].passed == 0
    assert res["spin"].category == "timeout"


def test_weak_mode_temp_scratch_is_removed_when_the_pool_kills_a_worker():
    """The pool kills a worker's whole process group on restart, so its fork server cannot clean up: the
    pool removes that weak-mode scratch root itself."""
    program = "import os\nos.makedirs('a/b')\ndef f():\n    return 1\n"
    with SandboxExecutor(workers=1, limits=LIMITS, mode="weak", disable=("namespaces", "landlock", "seccomp")) as ex:
        assert ex.run([Job("w", program, ("assert f() == 1",))])[0].category == "pass"
        worker = ex._pool[0]
        roots = glob.glob(f"/tmp/sandbox-{worker.proc.pid}-*")
        assert len(roots) == 1  # the fork server's temp scratch root, named after its worker
        worker.kill()  # what a restart does
        assert not glob.glob(f"/tmp/sandbox-{worker.proc.pid}-*")
        ex._pool.clear()
