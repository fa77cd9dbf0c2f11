"""Length-prefixed frames over pipes and the JSON framing between the trainer and a worker."""

from __future__ import annotations

import json
import os
import struct

_HEAD = struct.Struct(">I")


class FrameError(Exception):
    """Peer closed the pipe mid-frame or sent a frame over the cap."""


def write_frame(fd: int, payload: bytes) -> None:
    """Blocking write of one frame (for trusted peers and the child's own replies)."""
    data = _HEAD.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd: int, n: int) -> bytes | None:
    """n bytes, or None on EOF before the first byte; FrameError on EOF midway."""
    chunks: list[bytes] = []
    got = 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            if got == 0:
                return None
            raise FrameError("eof inside frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, cap: int = 1 << 30) -> bytes | None:
    """One frame, or None on clean EOF."""
    head = read_exact(fd, _HEAD.size)
    if head is None:
        return None
    (n,) = _HEAD.unpack(head)
    if n > cap:
        raise FrameError(f"frame of {n} bytes over cap {cap}")
    body = read_exact(fd, n) if n else b""
    if body is None:
        raise FrameError("eof before body")
    return body


def send_json(fd: int, obj: object) -> None:
    write_frame(fd, json.dumps(obj, separators=(",", ":")).encode())


def recv_json(fd: int) -> object | None:
    frame = read_frame(fd)
    return None if frame is None else json.loads(frame)


class FrameReader:
    """Incremental frame parser for a non-blocking pipe read in a poll loop (untrusted peer)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buf = bytearray()

    def feed(self, data: bytes) -> None:
        self.buf += data

    def take(self) -> bytes | None:
        """A complete frame if one is buffered; FrameError if the announced size is over the cap."""
        if len(self.buf) < _HEAD.size:
            return None
        (n,) = _HEAD.unpack_from(self.buf)
        if n > self.cap:
            raise FrameError(f"frame of {n} bytes over cap {self.cap}")
        if len(self.buf) < _HEAD.size + n:
            return None
        frame = bytes(self.buf[_HEAD.size : _HEAD.size + n])
        del self.buf[: _HEAD.size + n]
        return frame


def frame(payload: bytes) -> bytes:
    return _HEAD.pack(len(payload)) + payload
