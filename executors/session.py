"""Judge-side handles: the fork server client and one sandboxed child's pipes, output cap and death."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import time
from dataclasses import dataclass

from executors import proto, verdicts


class ChildGone(BaseException):
    """The child died, was killed or broke the protocol; `category` says how to score it."""

    def __init__(self, category: str, detail: str) -> None:
        super().__init__(f"{category}: {detail}")
        self.category = category
        self.detail = detail


class SandboxFault(Exception):
    """The fork server failed: an infrastructure error, never the program's doing."""


class ForkClient:
    """Talks to the fork server over a SOCK_SEQPACKET unix socket."""

    def __init__(self, sock: socket.socket, pid: int, limits: dict) -> None:
        self.sock = sock
        self.pid = pid
        self.limits = limits
        self.killed: list[int] = []
        self.pending = False
        self.spare: Child | None = None

    def request(self) -> None:
        """Ask for a child without waiting; children killed since the last fork are reaped first
        (their scratch wiped), so the fork server does that work while the judge does its own."""
        reap, self.killed = self.killed, []
        try:
            self.sock.send(b"F" + b",".join(b"%d" % p for p in reap))
        except OSError as e:
            raise SandboxFault(f"fork server: {e}") from e
        self.pending = True

    def fork(self) -> Child:
        """A fresh child (the spare forked ahead, if any); the next spare is requested at once, so the
        fork server forks and hardens it while this child's job runs."""
        if self.spare is not None:
            child, self.spare = self.spare, None
        else:
            if not self.pending:
                self.request()
            child = self._receive()
        self.request()
        return child

    def _receive(self) -> Child:
        self.pending = False
        try:
            msg, fds, _, _ = socket.recv_fds(self.sock, 64, 4)
        except OSError as e:
            raise SandboxFault(f"fork server: {e}") from e
        if len(fds) != 4 or not msg:
            for fd in fds:
                os.close(fd)
            raise SandboxFault(f"fork server: {msg[:200].decode(errors='replace') or 'no child'}")
        return Child(self, int(msg), fds, self.limits)

    def release(self) -> None:
        """Have the fork server reap the children killed so far and wipe their scratch now (no reply)."""
        if self.killed:
            reap, self.killed = self.killed, []
            try:
                self.sock.send(b"R" + b",".join(b"%d" % p for p in reap))
            except OSError as e:
                raise SandboxFault(f"fork server: {e}") from e

    def close(self) -> None:
        """Kill the spare child (and one still being forked)."""
        with contextlib.suppress(Exception):
            if self.pending:
                self.spare = self.spare or self._receive()
            if self.spare is not None:
                self.spare.kill()
                self.spare = None

    def wait(self, pid: int) -> tuple[int, float]:
        """Wait status and CPU seconds of a dead child (the server reaps it)."""
        if self.pending:  # a requested child's reply comes first on the socket: keep it as the spare
            self.spare = self._receive()
        try:
            self.sock.send(b"W%d" % pid)
            status, cpu = (self.sock.recv(64) or b"-1 0").split()
            return int(status), float(cpu)
        except (OSError, ValueError) as e:
            raise SandboxFault(f"fork server: {e}") from e


def cpu_limit(limits: dict) -> int:
    """RLIMIT_CPU soft limit of a child, seconds."""
    return max(1, int(limits["program_s"] + 0.999))


def _death(status: int, cpu_limit_hit: bool) -> ChildGone:
    if status < 0:
        return ChildGone(verdicts.CRASH, "exited before answering")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_limit_hit):
            return ChildGone(verdicts.TIMEOUT, "cpu time limit")
        if sig == signal.SIGKILL:
            return ChildGone(verdicts.MEMORY, "killed (out of memory)")
        return ChildGone(verdicts.CRASH, f"killed by {signal.Signals(sig).name}")
    return ChildGone(verdicts.CRASH, f"exited with code {os.waitstatus_to_exitcode(status)} before answering")


_TAIL = 512  # bytes of a script's stderr kept: its last line may name the exception it raised


@dataclass(frozen=True)
class Script:
    """How one run of a program as a script ended (Child.collect)."""

    stdout: bytes
    stderr_tail: bytes
    status: int  # wait status
    cpu_limit_hit: bool

    def death(self) -> ChildGone:
        return _death(self.status, self.cpu_limit_hit)


class Child:
    """A live sandboxed process: request pipe, reply pipe, output pipe and pidfd."""

    def __init__(self, fs: ForkClient, pid: int, fds: list[int], limits: dict) -> None:
        self.fs = fs
        self.pid = pid
        self.req_w, self.resp_r, self.out_r, self.pidfd = fds
        for fd in (self.req_w, self.resp_r, self.out_r):
            os.set_blocking(fd, False)
        self.out_cap = limits["output_bytes"]
        self.cpu_limit = cpu_limit(limits)
        self.out_bytes = 0
        self.reader = proto.FrameReader(limits["value_bytes"] + 4096)
        self.poll = select.poll()
        self.poll.register(self.resp_r, select.POLLIN)
        self.poll.register(self.out_r, select.POLLIN)
        self.poll.register(self.pidfd, select.POLLIN)
        self.closed = False
        self.pending = bytearray()
        self.want_out = False
        self.eof = False  # close the request pipe once `pending` is written (a script's stdin ends)
        self.err_tail: bytes | None = None  # the last bytes of the output pipe, kept for scripts only

    def ask(self, payload: bytes) -> bytes:
        """Send one request frame and wait for one reply frame (the caller bounds the wait)."""
        self.send(payload)
        got = self.recv()
        assert got is not None
        return got

    def send(self, payload: bytes) -> None:
        """Queue one request frame; it is written while the judge waits for replies (no deadlock
        when a large batch and the child's replies fill both pipes)."""
        self.pending += proto.frame(payload)
        self._flush()

    def send_input(self, data: bytes) -> None:
        """Queue raw bytes after the frames sent so far (a script's stdin), then EOF."""
        self.pending += data
        self.eof = True
        self._flush()

    def recv(self, timeout: float | None = None) -> bytes | None:
        """The next reply frame, in order; None only when `timeout` seconds pass first."""
        got = self._take()
        if got is not None:
            return got
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = None if end is None else max(0, int((end - time.monotonic()) * 1000) + 1)
            events = self.poll.poll(wait)
            if not events and end is not None and time.monotonic() >= end:
                return None
            for fd, _ev in events:
                if fd == self.req_w:
                    self._flush()
                elif fd == self.out_r:
                    self._drain_output()
                elif fd == self.resp_r:
                    got = self._read_reply()
                    if got is not None:
                        return got
                elif fd == self.pidfd:
                    got = self._read_reply()
                    if got is not None:
                        return got
                    raise self._died()

    def _flush(self) -> None:
        try:
            while self.pending:
                del self.pending[: os.write(self.req_w, self.pending)]
        except BlockingIOError:
            if not self.want_out:
                self.poll.register(self.req_w, select.POLLOUT)
                self.want_out = True
            return
        except BrokenPipeError:
            self.pending.clear()
        if self.want_out:
            self.want_out = False
            self._unregister(self.req_w)
        if self.eof and self.req_w >= 0:
            os.close(self.req_w)
            self.req_w = -1

    def _unregister(self, fd: int) -> None:
        with contextlib.suppress(KeyError):
            self.poll.unregister(fd)

    def _drain_output(self) -> bool:
        """Read and count what the program wrote to the output pipe; False at EOF."""
        try:
            while True:
                data = os.read(self.out_r, 1 << 16)
                if data and os.environ.get("CODEABLATE_SANDBOX_DEBUG") == "1":
                    os.write(2, data[:2000])
                if not data:
                    self._unregister(self.out_r)
                    return False
                self._count(len(data))
                if self.err_tail is not None:
                    self.err_tail = (self.err_tail + data)[-_TAIL:]
        except BlockingIOError:
            return True

    def _count(self, n: int) -> None:
        self.out_bytes += n
        if self.out_bytes > self.out_cap:
            self.kill()
            raise ChildGone(verdicts.OUTPUT, f"wrote more than {self.out_cap} bytes")

    def collect(self, timeout: float) -> Script | None:
        """How a script (child.py, b"P") ends: its stdout (every byte of the reply pipe) until it exits,
        the tail of its stderr, its wait status and whether it hit the CPU limit. None when `timeout`
        seconds pass first (the caller kills it); ChildGone(output_limit) when stdout and stderr together
        pass the output cap (killed)."""
        end = time.monotonic() + timeout
        out = bytearray()
        self.err_tail = b""
        pipes = {self.resp_r, self.out_r}
        alive = True
        while pipes or alive:
            wait = max(0, int((end - time.monotonic()) * 1000) + 1)
            events = self.poll.poll(wait)
            if not events and time.monotonic() >= end:
                return None
            for fd, _ev in events:
                if fd == self.pidfd:
                    alive = False
                    self._unregister(fd)
                elif fd == self.req_w:
                    self._flush()
                elif not (self._drain_output() if fd == self.out_r else self._read_stdout(out)):
                    pipes.discard(fd)
        status, cpu = self.fs.wait(self.pid)
        self.close()
        return Script(bytes(out), self.err_tail, status, cpu >= self.cpu_limit - 0.05)

    def _read_stdout(self, out: bytearray) -> bool:
        """Append what the script wrote to stdout (the reply pipe) to `out`; False at EOF."""
        try:
            while True:
                data = os.read(self.resp_r, 1 << 16)
                if not data:
                    self._unregister(self.resp_r)
                    return False
                self._count(len(data))
                out += data
        except BlockingIOError:
            return True

    def _take(self) -> bytes | None:
        try:
            return self.reader.take()
        except proto.FrameError:
            self.kill()
            raise ChildGone(verdicts.UNREPR, "reply over the value size limit") from None

    def _read_reply(self) -> bytes | None:
        try:
            while not self.closed:
                data = os.read(self.resp_r, 1 << 20)
                if not data:
                    self._unregister(self.resp_r)
                    break
                self.reader.feed(data)
                if len(self.reader.buf) > self.reader.cap + 8:
                    break
        except BlockingIOError:
            pass
        return self._take()

    def _died(self) -> ChildGone:
        self._drain_output()
        status, cpu = self.fs.wait(self.pid)
        self.close()
        return _death(status, cpu >= self.cpu_limit - 0.05)

    def kill(self) -> None:
        if self.closed:
            return
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        self.fs.killed.append(self.pid)
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            for fd in (self.req_w, self.resp_r, self.out_r, self.pidfd):
                if fd >= 0:
                    os.close(fd)
