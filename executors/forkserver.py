"""The fork server: a pristine process that hardens itself once and forks one child per program.

It is forked from a worker before the worker sees any job, so no child can find test data or other
programs in its memory. It never receives programs or tests: it hands the worker the pipe ends and a
pidfd of each fresh child over a unix socket (SCM_RIGHTS), reaps children and wipes their scratch.
Requests: b"F<pid,...>" -> reap those killed children, then fork (reply: pid + fds [req_w, resp_r,
out_r, pidfd]); b"R<pid,...>" -> reap those killed children now (no reply); b"W<pid>" -> wait status
and CPU seconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import json
import os
import random
import socket
import struct
import sys
import tempfile

from executors import child, harden, seccomp
from executors.scratch import wipe
from executors.session import cpu_limit

SCRATCH = "/tmp"
SLOTS = 8  # scratch tmpfs per fork server: a child holds one from fork to reap (live at once: about 4)
_HIGH_FD = 100
# glibc fork without CPython's at-fork machinery (its hooks reseed `random`, reinit threading, ...):
# the fork server is single-threaded and the child never returns into its code, and skipping them
# saves ~0.7 ms and ~190 copy-on-write faults per child. PyDLL keeps the GIL held across the call.
_libc_py = ctypes.PyDLL(None, use_errno=True)
_fork = _libc_py.fork


def _high(fd: int) -> int:
    """Move a long-lived fd above the range the child's fixed fds (0-4) and pipes use."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _HIGH_FD)
    os.close(fd)
    return new


class Server:
    def __init__(self, sock: socket.socket, config: dict) -> None:
        self.sock = sock
        self.limits = config["limits"]
        self.strict = config["mode"] == "strict"
        self.disable = set(config.get("disable") or ())
        self.tmp = config.get("tmp") or ""
        self.features: dict[str, str] = {}
        self.missing: list[str] = []
        self.scratch_root = ""
        self.free_slots: list[str] | None = None  # scratch tmpfs slots not held by a live child
        self.seq = 0
        self.live: dict[int, str] = {}  # pid -> scratch dir
        self.status: dict[int, bytes] = {}
        self.read_fds: list[tuple[int, bool]] = []
        self.ll_abi = 0
        self.devnull = _high(os.open(os.devnull, os.O_RDWR))

    def _step(self, name: str, fn) -> bool:  # type: ignore[no-untyped-def]
        if name in self.disable:
            self.missing.append(f"{name} (disabled)")
            return False
        try:
            self.features[name] = fn() or "on"
            return True
        except OSError as e:
            self.missing.append(f"{name} ({e.strerror or e})")
            return False

    def harden(self) -> None:
        """Namespaces, capped tmpfs scratch slots, privileges, landlock rule fds, the common seccomp layer,
        and everything a child's confinement needs prebuilt (harden.Confiner)."""
        lim = self.limits
        ns = self._step("namespaces", harden.enter_namespaces)
        slots = [f"{SCRATCH}/s{k}" for k in range(SLOTS)]
        mount = lambda: harden.mount_scratch(SCRATCH, slots, lim["scratch_bytes"], 1024)  # noqa: E731
        if ns and self._step("scratch", mount):
            self.scratch_root, self.free_slots = SCRATCH, slots
            self.features["scratch"] = f"{SLOTS} tmpfs slots of {lim['scratch_bytes']} bytes"
        else:  # weak mode without a mount namespace: per-child dirs in one temp dir, no size cap
            tmp = self.tmp or None  # named after the worker, so the pool can clean up if this server is killed
            self.scratch_root, self.free_slots = tempfile.mkdtemp(prefix=f"sandbox-{os.getppid()}-", dir=tmp), None
            self.features.pop("scratch", None)
        self.read_fds = [(_high(fd), d) for fd, d in harden.open_paths(harden.read_paths())]
        owned = [self.scratch_root, *(self.free_slots or ())]
        userns = self.features.get("namespaces") == "user"
        self._step("privileges", lambda: harden.drop_privileges(owned, userns))
        self.ll_abi = 0 if "landlock" in self.disable else harden.landlock_abi()
        if self.ll_abi:
            self.features["landlock"] = f"abi {self.ll_abi}"
        elif "landlock" in self.disable:
            self.missing.append("landlock (disabled)")
        else:
            self.missing.append("landlock (kernel >= 5.13 with landlock in the LSM list)")
        why = seccomp.supported()
        if why is not None:
            self.missing.append(f"seccomp ({why})")
        elif not self._step("seccomp", lambda: seccomp.install(seccomp.build_common())):
            why = "missing"
        lim = self.limits
        rlimits = harden.child_rlimits(lim["memory_mb"], cpu_limit(lim), lim["file_bytes"], lim["open_files"] + 5)
        sc = seccomp.template() if why is None else None
        self.confiner = harden.Confiner(rlimits, self.ll_abi, self.read_fds, sc)
        # The child's stdio objects (fds 0-2 are its own pipes once dup2'ed), built once here.
        self.stdio = (
            open(0, closefd=False),  # noqa: SIM115
            open(1, "w", buffering=1, closefd=False, errors="replace"),  # noqa: SIM115
            open(2, "w", buffering=1, closefd=False, errors="replace"),  # noqa: SIM115
        )

    def _scratch(self) -> str:
        """A scratch dir for the next child: a free slot (its own tmpfs), or a fresh dir in weak mode."""
        if self.free_slots is None:
            self.seq += 1
            scratch = f"{self.scratch_root}/c{self.seq}"
            os.mkdir(scratch, 0o700)
            return scratch
        if not self.free_slots:
            self.reap()
        if not self.free_slots:
            raise OSError(0, f"all {SLOTS} scratch slots in use or unwipeable")  # the worker restarts afresh
        return self.free_slots.pop()

    def fork(self) -> None:
        scratch = self._scratch()
        pipes = [*os.pipe(), *os.pipe(), *os.pipe()]
        req_r, req_w, resp_r, resp_w, out_r, out_w = pipes
        pid = _fork() if min(req_r, resp_w, out_w) >= 5 else -2  # _child's dup2s need them above 4
        if pid == 0:
            self._child(scratch, req_r, resp_w, out_w)
        if pid < 0:
            err = ctypes.get_errno() if pid == -1 else 0
            for fd in pipes:
                os.close(fd)
            if self.free_slots is None:
                os.rmdir(scratch)
            else:
                self.free_slots.append(scratch)
            raise OSError(err, "fork" if pid == -1 else "pipe fds below 5 (fds 3 and 4 are the server's)")
        for fd in (req_r, resp_w, out_w):
            os.close(fd)
        self.live[pid] = scratch
        pidfd = os.pidfd_open(pid)
        fds = [req_w, resp_r, out_r, pidfd]
        try:
            self.sock.sendmsg([b"%d" % pid], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("4i", *fds))])
        finally:
            for fd in fds:
                os.close(fd)

    def _child(self, scratch: str, req_r: int, resp_w: int, out_w: int) -> None:
        """Runs in the fresh child (raw fork: no Python at-fork hooks ran, so it touches few pages)."""
        try:
            parent = os.getppid()
            prctl = self.confiner.prctl
            prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG: SIGKILL
            if os.getppid() != parent:
                os._exit(1)
            os.setsid()
            prctl(15, b"sandbox-child", 0, 0, 0)  # PR_SET_NAME
            dup2 = os.dup2  # sources are all >= 5 (fds 3 and 4 are held by the server), so none is clobbered
            dup2(self.devnull, 0)
            dup2(out_w, 1)
            dup2(out_w, 2)
            dup2(req_r, 3)
            dup2(resp_w, 4)
            os.chdir(scratch)
            self.confiner.apply(os.open(scratch, os.O_PATH))
            harden.close_from(5)
            sys.stdin, sys.stdout, sys.stderr = self.stdio
            child.serve(3, 4)
        except BaseException as e:
            with contextlib.suppress(BaseException):
                os.write(2, f"sandbox child setup failed: {e!r}\n".encode())
        os._exit(70)

    def reap(self, block_pid: int | None = None) -> None:
        while self.live:
            try:
                pid, st, ru = os.wait4(block_pid or -1, 0 if block_pid else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.status[pid] = b"%d %.3f" % (st, ru.ru_utime + ru.ru_stime)
            scratch = self.live.pop(pid, "")
            if wipe(scratch, keep=self.free_slots is not None) and self.free_slots is not None:
                self.free_slots.append(scratch)  # one that cannot be wiped is never handed out again
            if block_pid:
                return

    def serve(self) -> None:
        while True:
            self.reap()
            msg = self.sock.recv(64)
            if not msg:
                return
            if msg[:1] == b"F":
                for pid in (int(p) for p in msg[1:].split(b",") if p):
                    if pid in self.live:
                        self.reap(pid)  # killed by the judge: wait, so its scratch is gone first
                    self.status.pop(pid, None)  # nobody asks a killed child's status: do not keep it
                try:
                    self.fork()
                except OSError as e:
                    self.sock.send(f"fork failed: {e}".encode())
            elif msg[:1] == b"R":
                for pid in (int(p) for p in msg[1:].split(b",") if p):
                    if pid in self.live:
                        self.reap(pid)
                    self.status.pop(pid, None)
            elif msg[:1] == b"W":
                pid = int(msg[1:])
                if pid in self.live:
                    self.reap(pid)
                self.sock.send(self.status.pop(pid, b"-1 0"))

    def shutdown(self) -> None:
        """Kill and reap every child; remove the scratch root when it is a temp dir (no tmpfs mount)."""
        for pid in list(self.live):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        for pid in list(self.live):
            self.reap(pid)
        if self.scratch_root and self.scratch_root != SCRATCH:
            wipe(self.scratch_root)


def main(sock: socket.socket, config: dict) -> None:
    """Entry in the forked server process; never returns."""
    code = 0
    sock = socket.socket(fileno=_high(sock.detach()))
    server = Server(sock, config)
    for fd in (3, 4):  # keep the fds a child's pipes are moved to out of the pipes' way
        os.dup2(server.devnull, fd)
    try:
        harden.set_name(b"sandbox-forksrv")
        server.harden()
        random.seed(0)  # children skip CPython's at-fork reseed: each starts from this same state
        gc.collect()
        gc.freeze()  # children (and this loop) never walk or write the inherited heap's GC headers
        ok = not (server.strict and server.missing)
        hello = {"ok": ok, "features": server.features, "missing": server.missing}
        sock.send(b"H" + json.dumps(hello).encode())
        if ok:
            server.serve()
    except BaseException as e:
        with contextlib.suppress(OSError):
            sock.send(b"H" + json.dumps({"ok": False, "missing": [f"fork server: {e!r}"]}).encode())
        code = 1
    finally:
        server.shutdown()
        sys.stdout.flush()
        os._exit(code)
