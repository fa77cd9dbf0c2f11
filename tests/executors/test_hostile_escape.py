"""Hostile programs that try to leave the sandbox (sandbox.md §5, 10-24, 42-46): files, network of every
family, exec, signals, /proc, privileges. Each returns what it managed to do; the test asserts the
kernel refused (the program's view), plus containment (conftest.Contained) on the host side.
"""

# ruff: noqa: E501  (hostile programs are data: one per line reads best)

from __future__ import annotations

import os
import socket
import threading

import pytest

from executors import Job

RT = -0.1

# Programs define f() returning a string; "denied" means the attempt raised PermissionError/OSError.
ATTEMPT = """
import os, sys, socket, ctypes, errno
SENTINEL = {sentinel!r}
def attempt():
{body}
def f():
    try:
        r = attempt()
    except (PermissionError, FileNotFoundError, OSError) as e:
        return "denied"
    return "escaped: " + repr(r)[:100]
"""

ESCAPES = {
    "read_sentinel": "    return open(SENTINEL).read()",
    "delete_sentinel": "    os.unlink(SENTINEL)",
    "rmtree_sentinel_dir": "    import shutil\n    shutil.rmtree(os.path.dirname(SENTINEL))",
    "rename_sentinel": "    os.rename(SENTINEL, SENTINEL + '.x')",
    "truncate_sentinel": "    open(SENTINEL, 'w').close()",
    "chmod_sentinel": "    os.chmod(SENTINEL, 0o777)",
    "write_outside_scratch": "    open('/var/tmp/escape.txt', 'w').write('x')",
    "write_repo": "    open(" + repr(os.path.abspath("pyproject.toml")) + ", 'a').write('x')",
    "read_etc_passwd": "    return open('/etc/passwd').read()",
    "read_ssh_keys": "    return os.listdir(os.path.expanduser('~/.ssh'))",
    "read_proc_self_environ": "    return open('/proc/self/environ').read()",
    "read_parent_environ": "    return open('/proc/%d/environ' % os.getppid()).read()",
    "write_parent_mem": "    open('/proc/%d/mem' % os.getppid(), 'wb')",
    "list_root": "    return os.listdir('/')",
    "read_dataset": "    return os.listdir(" + repr(os.path.abspath("..")) + ")",
    "symlink_to_host": "    os.symlink(SENTINEL, 'link')\n    return open('link').read()",
    "hardlink_to_host": "    os.link(SENTINEL, 'link')",
    "tcp_connect": "    socket.create_connection(('127.0.0.1', 6379), timeout=0.5)",
    "udp_dns": "    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('8.8.8.8', 53))",
    "ipv6_socket": "    socket.socket(socket.AF_INET6)",
    "unix_socket": "    s = socket.socket(socket.AF_UNIX)\n    s.connect({unix_path!r})",
    "abstract_unix_socket": "    s = socket.socket(socket.AF_UNIX)\n    s.connect('\\0codeablate-test')",
    "netlink_socket": "    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)",
    "socketpair": "    socket.socketpair()",
    "raw_syscall_socket": "    r = ctypes.CDLL(None, use_errno=True).syscall(41, 2, 1, 0)\n"
    "    if r < 0:\n        raise OSError(ctypes.get_errno(), 'socket')\n    return r",
    "subprocess_rm": "    import subprocess\n    subprocess.run(['rm', '-f', SENTINEL])",
    "os_system": "    r = os.system('rm -f ' + SENTINEL)\n    if r != 0:\n        raise OSError(r, 'system')",
    "execv_shell": "    os.execv('/bin/sh', ['sh', '-c', 'rm -f ' + SENTINEL])",
    "posix_spawn": "    os.posix_spawn('/bin/sh', ['sh'], {{}})",
    "kill_parent": "    os.kill(os.getppid(), 9)",
    "kill_everything": "    os.kill(-1, 9)",
    "kill_trainer": "    os.kill({trainer_pid}, 9)",
    "ptrace_parent": "    r = ctypes.CDLL(None, use_errno=True).ptrace(16, os.getppid(), 0, 0)\n"
    "    if r != 0:\n        raise OSError(ctypes.get_errno(), 'ptrace')",
    "prlimit_parent": "    import resource\n    resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (1, 1))",
    "unshare_user_ns": "    r = ctypes.CDLL(None, use_errno=True).unshare(0x10000000)\n"
    "    if r != 0:\n        raise OSError(ctypes.get_errno(), 'unshare')",
    "io_uring_setup": "    r = ctypes.CDLL(None, use_errno=True).syscall(425, 8, ctypes.create_string_buffer(120))\n"
    "    if r < 0:\n        raise OSError(ctypes.get_errno(), 'io_uring')",
    "setuid_root_tricks": "    os.setuid(0)\n    return open('/etc/shadow').read()",
    "memfd_create": "    return os.memfd_create('x')",
    "pidfd_kill_parent": "    import signal\n    signal.pidfd_send_signal(os.pidfd_open(os.getppid()), 9)",
    "libc_fork": "    r = ctypes.CDLL(None, use_errno=True).fork()\n    if r == 0:\n        os._exit(0)\n"
    "    if r < 0:\n        raise OSError(ctypes.get_errno(), 'fork')\n    return r",
    "raw_clone_process": "    r = ctypes.CDLL(None, use_errno=True).syscall(56, 17, 0, 0, 0, 0)\n    if r == 0:\n        os._exit(0)\n"
    "    if r < 0:\n        raise OSError(ctypes.get_errno(), 'clone')\n    return r",
}


@pytest.fixture(scope="module")
def unix_listener(tmp_path_factory):
    """A host AF_UNIX server (like a local Ray daemon) that records any connection."""
    path = str(tmp_path_factory.mktemp("uds") / "daemon.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen()
    srv.settimeout(0.2)
    hits: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                hits.append(1)
                conn.close()
            except OSError:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield path, hits
    stop.set()
    t.join()
    srv.close()


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_attempt_is_denied_by_the_kernel(contained, sentinel, unix_listener, name):
    path, hits = unix_listener
    body = ESCAPES[name].format(unix_path=path, trainer_pid=os.getpid())
    program = ATTEMPT.format(sentinel=str(sentinel), body=body)
    r = contained(Job(name, program, ('assert f() == "denied", f()',)), "pass", 1.0)
    assert r.passed == 1, r.tests
    assert sentinel.exists() and not hits and not os.path.exists("/var/tmp/escape.txt")


def test_environment_secrets_never_reach_the_sandbox(contained, monkeypatch):
    monkeypatch.setenv("CODEABLATE_TEST_SECRET", "hunter2")
    program = "import os\ndef f():\n    return sorted(os.environ)\n"
    r = contained(
        Job("env", program, ("assert 'CODEABLATE_TEST_SECRET' not in f() and 'PATH' not in f()",)), "pass", 1.0
    )
    assert r.passed == 1


def test_heavy_or_absent_imports_fail_cleanly(contained):
    program = "import torch\ndef f(x):\n    return x\n"
    contained(Job("torch", program, ("assert f(1) == 1",)), "runtime_error:ModuleNotFoundError", RT)


def test_binary_output_is_ignored(contained):
    program = "import sys, os\nos.write(1, bytes(range(256)) * 10)\nprint('\\x1b[2J All tests passed')\ndef f(x):\n    return x\n"
    contained(Job("bin", program, ("assert f(1) == 1",)), "pass", 1.0)


def test_worker_crash_is_retried_as_sandbox_error_never_rewarded(ex):
    """Kill a worker's fork server mid-job: the job is retried on a fresh worker and judged normally."""
    import time

    from executors.pool import _Worker

    victim: _Worker = ex._pool[0]
    done = threading.Event()

    def killer() -> None:
        time.sleep(0.3)
        os.killpg(victim.proc.pid, 9)
        done.set()

    threading.Thread(target=killer).start()
    jobs = [
        Job(f"slow{i}", "import time\ndef f(x):\n    time.sleep(0.2)\n    return x\n", ("assert f(1) == 1",))
        for i in range(8)
    ]
    res = ex.run(jobs)
    done.wait()
    assert [r.category for r in res] == ["pass"] * 8
    assert ex.stats.worker_restarts >= 1
