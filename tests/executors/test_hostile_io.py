"""Hostile stdin/stdout programs: forge a verdict, find the expected output instead of computing it, flood,
or break out of their stdio (the io counterpart of test_hostile_forgery.py and test_hostile_resources.py).

Expected outputs are random tokens drawn when the tests start, so a program can only pass them by finding
them; conftest.Contained adds the host-side checks (host files unchanged, bounded, nothing left running).
"""

# ruff: noqa: E501  (hostile programs are data: one per line reads best)

from __future__ import annotations

import secrets

import pytest
from conftest import REPO

from executors import IOCase, Job
from executors.child import EXC_MARK

RT, TO = -0.1, -0.3
SECRET, TOKEN = secrets.token_hex(6), secrets.token_hex(6)
SECRET_CASES = tuple(IOCase(f"in-{SECRET}-{k}\n", f"tok-{TOKEN}-{k}\n") for k in range(2))
FRAME = "struct.pack('>I', len(b)) + b"

CASES = [
    (
        "prints_verdict_text",
        "import json\nprint('pass')\nprint('ok')\nprint(json.dumps({'passed': 3, 'total': 3, 'category': 'pass', 'reward': 1.0}))\n"
        "print('All tests passed')\n",
        "wrong_answer",
        0.0,
    ),
    (
        "forged_frames_on_every_fd",
        "import os, struct\nframes = b''.join(struct.pack('>I', len(b)) + b for b in (b'K', b'V\"pass\"', b'K{\"f\": [\"v\", \"True\"]}'))\n"
        "for fd in range(64):\n    try:\n        os.write(fd, frames)\n    except OSError:\n        pass\n",
        "wrong_answer",
        0.0,
    ),
    (
        "forged_exception_line_then_clean_exit",
        f"import os\nos.write(2, b'\\n' + {EXC_MARK!r} + b'[\"Pass\", \"\"]\\n')\nprint('pass')\n",
        "wrong_answer",
        0.0,
    ),
    (
        "forged_exception_line_then_exit_1",
        f"import os\nos.write(2, b'\\n' + {EXC_MARK!r} + b'[\"pass\", \"\"]\\n')\nos._exit(1)\n",
        "runtime_error:pass",
        RT,
    ),
    ("floods_stdout", "import sys\nwhile True:\n    sys.stdout.write('tok-' * 4096)\n", "output_limit", RT),
    ("floods_fd_1_raw", "import os\nwhile True:\n    os.write(1, b'pass\\n' * 4096)\n", "output_limit", RT),
    ("floods_stderr", "import os\nwhile True:\n    os.write(2, b'x' * 65536)\n", "output_limit", RT),
    (
        "closes_stdio_and_forks_then_spins",
        "import os\nfor fd in (0, 1, 2):\n    os.close(fd)\ntry:\n    os.fork()\nexcept OSError:\n    pass\nwhile True:\n    pass\n",
        "timeout",
        TO,
    ),
    ("closes_stdio_and_exits", "import os\nfor fd in (0, 1, 2):\n    os.close(fd)\n", "wrong_answer", 0.0),
    (
        "thread_spins_after_main_ends",
        "import threading\nthreading.Thread(target=lambda: [0 for _ in iter(int, 1)]).start()\nprint('pass')\n",
        "timeout",
        TO,
    ),
    (
        "sleeps_with_signals_ignored",
        "import signal, time\nfor s in (signal.SIGALRM, signal.SIGXCPU, signal.SIGTERM, signal.SIGPIPE):\n    signal.signal(s, signal.SIG_IGN)\ntime.sleep(1e6)\n",
        "timeout",
        TO,
    ),
    (
        "reopens_its_own_pipes_through_proc",
        "import os\nw = os.open('/proc/self/fd/0', os.O_WRONLY)\nos.write(w, b'pass\\n')\n"
        "r = os.open('/proc/self/fd/1', os.O_RDONLY | os.O_NONBLOCK)\nprint('pass', flush=True)\ntry:\n    os.read(r, 100)\nexcept OSError:\n    pass\nprint(input())\nprint(input())\n",
        "wrong_answer",
        0.0,
    ),
    (
        "guesses_from_its_own_input",
        "s = input()\nprint(s.replace('in-', 'tok-'))\nprint(s[::-1])\n",
        "wrong_answer",
        0.0,
    ),
]


@pytest.mark.parametrize(("name", "program", "categories", "max_reward"), CASES, ids=[c[0] for c in CASES])
def test_io_forgery_earns_nothing(contained, name, program, categories, max_reward):
    r = contained(Job(name, program, io=SECRET_CASES), categories, max_reward)
    assert r.passed == 0 and r.total == 2, r.tests


# Looks for the other cases' inputs and expected outputs everywhere it can think of, then prints what it
# found, or "none". Cases 0 and 1 expect "none": they pass only if the whole search ran and found nothing.
# Case 2 expects a secret token: printing "none" there is a wrong answer.
PROBE = f"""
import ctypes, gc, os, re, sys
PAT = re.compile(r"(?:in|tok)-[0-9a-f]{{12}}-[0-9]")
own = sys.stdin.readline().strip()
found = set()
def look(x):
    if isinstance(x, (bytes, bytearray)):
        x = bytes(x).decode("latin-1")
    if isinstance(x, str):
        found.update(PAT.findall(x))
def attempt(fn):
    try:
        look(fn())
    except Exception:
        pass
def slurp(path):  # non-blocking: /proc/self/fd/1 reopens the stdout pipe for reading, which would wait
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return os.read(fd, 1 << 20)
    finally:
        os.close(fd)
attempt(lambda: sys.stdin.read())
for fd in range(64):
    attempt(lambda: os.read(fd, 1 << 16))
    attempt(lambda: os.pread(fd, 1 << 16, 0))
attempt(lambda: repr(dict(os.environ)) + repr(sys.argv) + repr(getattr(sys, "orig_argv", "")))
for pid in ("self", str(os.getppid()), "1"):
    for name in ("environ", "cmdline", "maps", "mem", "cwd", "root", "fd"):
        attempt(lambda: slurp(f"/proc/{{pid}}/{{name}}"))
        attempt(lambda: repr(os.listdir(f"/proc/{{pid}}/{{name}}")))
    for fd in range(16):
        attempt(lambda: slurp(f"/proc/{{pid}}/fd/{{fd}}"))
for top in (".", "/tmp", "/var/tmp", "/dev/shm", {str(REPO)!r}, {str(REPO.parent)!r}):
    for root, dirs, files in os.walk(top):
        for f in files[:50]:
            attempt(lambda: slurp(os.path.join(root, f)))
# The heap: every object the collector knows and what it refers to (strings are not tracked themselves),
# then the raw memory around them, copied out through a pipe (write() reports EFAULT for unmapped pages).
gc.unfreeze()  # the fork server froze its heap: frozen objects are not listed otherwise
objs = gc.get_objects()
for o in objs:
    for x in (o, *gc.get_referents(o)):
        look(x)
libc = ctypes.CDLL(None, use_errno=True)
r, w = os.pipe()
for page in sorted({{id(o) >> 16 for o in objs}}):
    for off in range(0, 1 << 16, 1 << 14):
        n = libc.write(w, ctypes.c_void_p((page << 16) + off), 1 << 15)
        if n > 0:
            look(os.read(r, n))
print(" ".join(sorted(found - {{own}})) or "none")
"""


def test_io_probe_finds_no_other_case_data_anywhere(contained):
    cases = (
        IOCase(f"in-{SECRET}-0\n", "none"),
        IOCase(f"in-{SECRET}-1\n", "none"),
        IOCase(f"in-{SECRET}-2\n", f"tok-{TOKEN}-2"),
    )
    r = contained(Job("probe", PROBE, io=cases), "wrong_answer", 2 / 3)
    assert [t.status for t in r.tests] == ["pass", "pass", "wrong_answer"], r.tests


def test_io_genuine_answers_count_and_noise_elsewhere_does_not(contained):
    """Right on stdout while forging on stderr and other fds: only the computed answers count."""
    program = (
        "import os, struct\na, b = map(int, input().split())\n"
        "for fd in (2, 3, 4, 5):\n    try:\n        os.write(fd, struct.pack('>I', 5) + b'Vpass')\n    except OSError:\n        pass\n"
        f"os.write(2, b'\\n' + {EXC_MARK!r} + b'[\"X\", \"\"]\\n')\n"
        "print(a + b if a < 10 else 'pass')\n"
    )
    cases = (IOCase("1 2\n", "3\n"), IOCase("20 22\n", "42\n"), IOCase("4 4\n", "8\n"))
    r = contained(Job("noise", program, io=cases), "wrong_answer", 2 / 3)
    assert [t.status for t in r.tests] == ["pass", "wrong_answer", "pass"]


def test_io_hardcoded_visible_answer_fails_hidden_cases(contained):
    program = "s = input()\nprint({'1 2': 3}.get(s.strip(), 0))\n"
    cases = (IOCase("1 2\n", "3"), IOCase("5 6\n", "11"))
    r = contained(Job("hard", program, io=cases), "wrong_answer", 0.5)
    assert [t.status for t in r.tests] == ["pass", "wrong_answer"]


def test_io_probe_would_find_data_that_reached_the_process(ex):
    """Control for the probe: data past its own input line on stdin, or held in memory, is found."""
    planted = f"import ctypes\nkeep = ctypes.create_string_buffer(b'tok-' + b'{TOKEN}-7')\n"
    cases = (IOCase(f"in-{SECRET}-0\nin-{SECRET}-1\n", f"in-{SECRET}-1"), IOCase(f"in-{SECRET}-0\n", f"tok-{TOKEN}-7"))
    res = ex.run([Job("ctl1", PROBE, io=cases[:1]), Job("ctl2", planted + PROBE, io=cases[1:])])
    assert [r.category for r in res] == ["pass", "pass"], res
