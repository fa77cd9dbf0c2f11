"""Judge-side ends of the sandbox: one job's connection to its child, and proxies of the program's objects.

`Session` sends calls (and batches of calls sent ahead, whose replies queue up) and decodes the replies
as plain data; `Remote` stands for a function or object living in the child: it can only be called, have
attributes read, be passed back or be truth-tested, never compared or hashed.
"""

from __future__ import annotations

import json
import marshal
import time
from collections import deque

from executors import literal, verdicts
from executors.session import Child, ChildGone
from executors.speculate import Stop


class CandidateError(Exception):
    """The program raised inside the sandbox; `kind` is its exception type name."""

    def __init__(self, kind: str, msg: str) -> None:
        super().__init__(f"{kind}: {msg}")
        self.kind = kind


class Session:
    """One job's connection to its current child; replaced when the child dies or times out."""

    def __init__(self) -> None:
        self.child: Child | None = None
        self.generation = 0
        self.ref_seen = False
        self.wanted: list[str] | None = None  # names asked of the program, fixed at the first load
        self.queue: deque[tuple[int, tuple]] = deque()  # calls sent ahead, replies not yet taken
        self.tried: set[int] = set()  # tests a dry run started at, for this child
        self.dry = False  # a dry run is on: nothing may reach the child

    def ask(self, op: bytes, body: object) -> tuple[bytes, bytes]:
        if self.child is None:
            raise ChildGone(verdicts.CRASH, "no sandbox process")
        if self.dry:
            raise Stop
        if self.queue:  # the call is not the one sent ahead: let the child answer those first
            self.drain()
        reply = self.child.ask(op + marshal.dumps(body))
        return reply[:1], reply[1:]

    def drain(self) -> None:
        """Take and drop the replies to every call sent ahead (within the caller's time limit)."""
        while self.queue:
            if self.child is None:
                self.queue.clear()
                return
            self.child.recv()
            self.queue.popleft()

    def settle(self, test: int, wait: float) -> None:
        """After test `test`: drop replies to its calls the real run did not take. A child still busy
        with them after `wait` seconds is killed (the next test starts a fresh one)."""
        end = time.monotonic() + wait
        try:
            while self.queue and self.queue[0][0] <= test and self.child is not None:
                if self.child.recv(max(0.0, end - time.monotonic())) is None:
                    self.kill()
                    return
                self.queue.popleft()
        except ChildGone:
            self.kill()

    def send_ahead(self, calls: list[tuple[int, tuple]]) -> None:
        if self.child is None or not calls:
            return
        self.child.send(b"B" + marshal.dumps([list(key) for _, key in calls]))
        self.queue.extend(calls)

    def value(self, tag: bytes, body: bytes) -> object:
        if tag == b"V":
            return literal.decode(body.decode("utf-8", "surrogatepass"))
        if tag == b"R":
            handle, kind, truth = json.loads(body)
            self.ref_seen = True
            ref = Remote(self, int(handle), None, str(kind)[:80])
            ref._truth = truth if type(truth) is bool else None
            return ref
        if tag == b"E":
            kind, msg = json.loads(body)
            raise CandidateError(str(kind)[:80], str(msg)[:300])
        raise ChildGone(verdicts.CRASH, f"unexpected reply {tag!r}")

    def call(self, target: str | int, attr: str | None, args: tuple, kwargs: dict) -> object:
        if self.dry:
            raise Stop
        try:
            a = literal.wire(args, ref=self._handle)[1]
            k = literal.wire(kwargs, ref=self._handle)[1] if kwargs else "{}"
        except literal.Unrepresentable as e:
            raise literal.Unrepresentable(f"argument not representable: {e}") from None
        if self.queue and self.child is not None and self.queue[0][1] == (target, attr, a, k):
            self.queue.popleft()
            reply = self.child.recv()
            assert reply is not None
            return self.value(reply[:1], reply[1:])
        return self.value(*self.ask(b"C", [target, attr, a, k]))

    def getattr(self, target: str | int, attr: str) -> object:
        return self.value(*self.ask(b"G", [target, attr]))

    def _handle(self, obj: object) -> int:
        own = isinstance(obj, Remote) and obj._session is self and obj._generation == self.generation
        if own and isinstance(obj._target, int) and obj._attr is None:  # type: ignore[union-attr]
            return obj._target  # type: ignore[union-attr,return-value]
        raise literal.Unrepresentable(type(obj).__name__)

    def kill(self) -> None:
        self.queue.clear()
        self.tried.clear()
        if self.child is not None:
            self.child.kill()
            self.child = None


def _refuse(self: Remote, *args: object, **kwargs: object) -> None:
    raise literal.Unrepresentable(f"{self._kind} is not plain data")


class Remote:
    """A function or object living in the sandbox. Only call, attribute read and pass-back work."""

    __slots__ = ("_attr", "_generation", "_kind", "_session", "_target", "_truth")

    def __init__(self, session: Session, target: str | int, attr: str | None, kind: str) -> None:
        self._session, self._target, self._attr, self._kind = session, target, attr, kind
        self._generation = session.generation
        self._truth: bool | None = None

    def __bool__(self) -> bool:
        """Truth as the sandbox reported it: one bit, no more than returning True or False would give."""
        if self._truth is None:
            raise literal.Unrepresentable(f"{self._kind} has no truth value")
        return self._truth

    def _live(self) -> Session:
        if self._generation != self._session.generation:
            raise ChildGone(verdicts.CRASH, "handle from a sandbox process that is gone")
        return self._session

    def __call__(self, *args: object, **kwargs: object) -> object:
        return self._live().call(self._target, self._attr, args, kwargs)

    def __getattr__(self, attr: str) -> object:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if self._attr is not None:
            raise literal.Unrepresentable("nested attribute of a sandbox object")
        return Remote(self._session, self._target, attr, self._kind) if isinstance(self._target, str) else (
            self._live().getattr(self._target, attr))  # fmt: skip

    def __repr__(self) -> str:
        return f"<sandbox {self._kind}>"

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __len__ = __iter__ = _refuse  # type: ignore
    __contains__ = __add__ = __radd__ = __sub__ = __mul__ = __getitem__ = __float__ = __int__ = _refuse  # type: ignore
    __hash__ = _refuse  # type: ignore[assignment]
