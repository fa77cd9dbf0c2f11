"""Hostile programs that exhaust time, memory, processes, files or output (sandbox.md §5, 1-16, 25, 36-38).

Each case asserts containment (see conftest.Contained): the right category, a reward no higher than
honest code failing the same way, host files unchanged, wall time bounded, nothing left running.
"""

# ruff: noqa: E501  (hostile programs are data: one per line reads best)

from __future__ import annotations

import pytest

from executors import Job, Limits, SandboxExecutor

T = ("assert f(1) == 2",)
T3 = ("assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4")
RT = -0.1  # shaping.runtime: what honest code that raises earns
TO = -0.3  # shaping.timeout

CASES = [
    ("module_infinite_loop", "while True:\n    pass\ndef f(x):\n    return x + 1\n", T3, "timeout", TO),
    ("function_infinite_loop", "def f(x):\n    while True:\n        pass\n", T3, "timeout", TO),
    ("c_level_bignum", "def f(x):\n    return 10 ** 10 ** 8\n", T, "timeout", TO),
    ("sleep_forever", "import time\ndef f(x):\n    time.sleep(1e6)\n", T, "timeout", TO),
    (
        "ignore_alarm_and_xcpu",
        "import signal\nfor s in (signal.SIGALRM, signal.SIGXCPU, signal.SIGTERM):\n    signal.signal(s, signal.SIG_IGN)\n"
        "def f(x):\n    while True:\n        pass\n",
        T,
        "timeout",
        TO,
    ),
    (
        "catch_base_exception_loop",
        "def f(x):\n    while True:\n        try:\n            while True:\n                pass\n"
        "        except BaseException:\n            pass\n",
        T,
        "timeout",
        TO,
    ),
    ("huge_allocation", "def f(x):\n    return len(bytearray(10 ** 10))\n", T, "memory", RT),
    (
        "slow_list_growth",
        "def f(x):\n    a = []\n    while True:\n        a.append([0] * 10000)\n",
        T,
        {"memory", "timeout"},
        RT,
    ),
    (
        "recursion_bomb",
        "import sys\nsys.setrecursionlimit(10 ** 8)\ndef f(x):\n    return f(x + 1)\n",
        T,
        {"memory", "timeout", "crash", "runtime_error"},
        RT,
    ),
    (
        "fork_bomb_os",
        "import os\nwhile True:\n    os.fork()\ndef f(x):\n    return x + 1\n",
        T,
        "runtime_error:PermissionError",
        RT,
    ),
    (
        "fork_bomb_posix",
        "import posix\nposix.fork()\ndef f(x):\n    return x + 1\n",
        T,
        "runtime_error:PermissionError",
        RT,
    ),
    (
        "thread_bomb",
        "import threading, time\nts = []\nwhile True:\n    t = threading.Thread(target=time.sleep, args=(100,))\n"
        "    t.start()\n    ts.append(t)\ndef f(x):\n    return x + 1\n",
        T,
        {"runtime_error", "memory", "timeout"},
        RT,
    ),
    (
        "huge_file_in_scratch",
        "def f(x):\n    with open('big', 'wb') as fh:\n        while True:\n            fh.write(b'0' * 65536)\n",
        T,
        "runtime_error:OSError",
        RT,
    ),
    (
        "many_files_in_scratch",
        "def f(x):\n    i = 0\n    while True:\n        open(f'f{i}', 'w').close()\n        i += 1\n",
        T,
        "runtime_error:OSError",
        RT,
    ),
    ("stdout_flood", "def f(x):\n    while True:\n        print('x' * 1000)\n", T, "output_limit", RT),
    ("stderr_flood_raw_fd", "import os\nwhile True:\n    os.write(2, b'e' * 4096)\n", T, "output_limit", RT),
    (
        "result_channel_flood",
        "import os, struct\ndef f(x):\n    os.write(4, struct.pack('>I', 2 ** 31) + b'V' * 60000)\n    return x + 1\n",
        T,
        "unrepresentable_value",
        RT,
    ),
    (
        "huge_return_value",
        "def f(x):\n    return list(range(10 ** 7))\n",
        T,
        {"unrepresentable_value", "memory", "timeout"},
        RT,
    ),
    (
        "deeply_nested_return",
        "def f(x):\n    v = []\n    for _ in range(100000):\n        v = [v]\n    return v\n",
        T,
        "unrepresentable_value",
        RT,
    ),
    ("segfault_ctypes", "import ctypes\ndef f(x):\n    return ctypes.string_at(0)\n", T, "crash", RT),
    (
        "threads_left_running",
        "import threading\nthreading.Thread(target=lambda: [0 for _ in iter(int, 1)], daemon=False).start()\n"
        "def f(x):\n    return x + 1\n",
        T,
        "pass",
        1.0,
    ),
    (
        "raise_limits",
        "import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))\ndef f(x):\n    return x + 1\n",
        T,
        "runtime_error:ValueError",
        RT,
    ),
]


@pytest.mark.parametrize(("name", "program", "tests", "categories", "max_reward"), CASES, ids=[c[0] for c in CASES])
def test_resource_hostile_program_is_contained(contained, name, program, tests, categories, max_reward):
    contained(Job(name, program, tests), categories, max_reward, max_wall=3.0 * len(tests) + 3.0)


def test_timeouts_cost_at_most_the_program_limit(contained):
    r = contained(Job("loop9", "def f(x):\n    while True:\n        pass\n", T3 * 3), "timeout", TO, max_wall=6.0)
    assert r.wall_s <= 3.5 and all(t.status == "timeout" for t in r.tests)


def test_scratch_a_program_makes_unlistable_is_reclaimed_for_the_next_one():
    """Files hidden in a write-only directory (mode 0o300, which rmtree cannot list) must not stay in a
    worker's scratch, or a few such programs would leave honest ones no room (ENOSPC)."""
    hog = (
        "import os\nos.mkdir('d', 0o300)\n"
        "for i in range(12):\n    with open('d/f%d' % i, 'wb') as fh:\n        fh.write(b'x' * (1 << 20))\n"
        "def f():\n    return 1\n"
    )
    honest = (
        "import os\ndef f():\n    for i in range(12):\n        with open('g%d' % i, 'wb') as fh:\n"
        "            fh.write(b'y' * (1 << 20))\n    return sum(os.path.getsize('g%d' % i) for i in range(12))\n"
    )
    limits = Limits(per_test_s=2.0, program_s=4.0, file_bytes=1 << 20, scratch_bytes=16 << 20)
    with SandboxExecutor(workers=1, limits=limits) as ex:  # one worker: its 8 scratch slots serve every job
        hogs = [ex.run([Job(f"hog{i}", hog, ("assert f() == 1",))])[0] for i in range(10)]  # one at a time
        (r,) = ex.run([Job("honest", honest, (f"assert f() == {12 << 20}",))])
        assert ex.stats.worker_restarts == 0, ex.stats
    assert [h.category for h in hogs] == ["pass"] * 10
    assert r.category == "pass", r


def test_scratch_is_capped_per_program_and_not_shared():
    """Each program has its own scratch_bytes: two programs judged at once (one started ahead) each fill
    most of theirs, and one that writes past its cap gets ENOSPC itself."""
    fill = (
        "def f(n):\n    for i in range(n):\n        with open('f%d' % i, 'wb') as fh:\n"
        "            fh.write(b'x' * (4 << 20))\n    return n\n"
    )
    limits = Limits(per_test_s=2.0, program_s=4.0, file_bytes=4 << 20, scratch_bytes=16 << 20)
    with SandboxExecutor(workers=1, limits=limits) as ex:
        res = ex.run([Job(f"fill{i}", fill, ("assert f(3) == 3",)) for i in range(4)])
        (over,) = ex.run([Job("over", fill, ("assert f(5) == 5",))])
    assert [r.category for r in res] == ["pass"] * 4
    assert over.category == "runtime_error:OSError", over


def test_scratch_deeper_than_path_max_costs_no_restart():
    """Directories nested past PATH_MAX cannot be wiped by path; the wipe works relative to open dirs, so
    such programs neither make the worker restart (retrying other programs' jobs) nor use up slots."""
    deep = (
        "import os\nfor _ in range(20):\n    os.mkdir('x' * 250)\n    os.chdir('x' * 250)\n"
        "open('deep.txt', 'w').write('z')\ndef f():\n    return 1\n"
    )
    with SandboxExecutor(workers=1, limits=Limits(per_test_s=2.0, program_s=4.0)) as ex:
        res = [ex.run([Job(f"deep{i}", deep, ("assert f() == 1",))])[0] for i in range(12)]  # > 8 slots
        assert ex.stats.worker_restarts == 0 and ex.stats.retries == 0, ex.stats
    assert [r.category for r in res] == ["pass"] * 12
