"""Dry runs of the tests in the judge, so candidate calls travel to the sandbox in one batch.

Before a test runs for real, the judge runs it (and the tests after it) once with the program's names
bound to `Recorder`s: a call is recorded with its literal arguments and returns a `Pending` placeholder
that compares equal to whatever it is compared with (so `assert f(x) == y` and loops of such asserts go
on) and stops the dry run on any other use (arithmetic, ordering, hashing, attribute access, being an
argument). The recorded calls go to the child in one message and it answers them in order; the real run
then takes each call's reply from that queue when the call is exactly the one recorded, and asks the
child afresh otherwise. Verdicts still come only from the real run on the real values.

What the child learns early: the arguments of later calls in the batch, before it answers earlier ones.
So a call is left out of a batch (and the batch ends) when one of its arguments holds a value that an
earlier call's result was compared with in the dry run: a scalar equal to it (same type), a string or
bytes containing it (when 3+ long), or a container whose literal text is contained in the arguments'
text. Any expected value the child could read ahead is thus one it would see anyway.
"""

from __future__ import annotations

from collections.abc import Callable

from executors import literal

MAX_CALLS = 2000
MAX_BYTES = 1 << 20
MAX_WALK = 100_000
_SCALARS = (int, float, complex, str, bytes, bool, type(None))


class Stop(BaseException):
    """The dry run cannot go on without a real value (a BaseException: test code's `except` misses it)."""


def _stop(self: object, *args: object, **kwargs: object) -> object:
    raise Stop


class Pending:
    """Stands for a call's result in a dry run: equal to anything, truthy, opaque otherwise."""

    __slots__ = ("_spec",)

    def __init__(self, spec: Speculator) -> None:
        self._spec = spec

    def __eq__(self, other: object) -> bool:
        if type(other) is not Pending:
            self._spec.expect(other)
        return True

    def __ne__(self, other: object) -> bool:
        if type(other) is not Pending:
            self._spec.expect(other)
        return False

    def __bool__(self) -> bool:
        return True

    def __getattr__(self, attr: str) -> object:
        raise Stop

    def __repr__(self) -> str:
        return "<pending>"

    __hash__ = __lt__ = __le__ = __gt__ = __ge__ = __len__ = __iter__ = __contains__ = _stop  # type: ignore
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _stop  # type: ignore
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = __neg__ = __pos__ = _stop  # type: ignore
    __abs__ = __invert__ = __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = _stop  # type: ignore
    __getitem__ = __float__ = __int__ = __index__ = __complex__ = __round__ = __format__ = _stop  # type: ignore
    __call__ = __reversed__ = __setitem__ = __delitem__ = __enter__ = __exit__ = _stop  # type: ignore


class Recorder:
    """Stands for a program function in a dry run: calls are recorded and return Pending."""

    __slots__ = ("_attr", "_spec", "_target")

    def __init__(self, spec: Speculator, target: str, attr: str | None = None) -> None:
        self._spec, self._target, self._attr = spec, target, attr

    def __call__(self, *args: object, **kwargs: object) -> Pending:
        return self._spec.call(self._target, self._attr, args, kwargs)

    def __getattr__(self, attr: str) -> object:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if self._attr is not None:
            raise Stop
        return Recorder(self._spec, self._target, attr)

    def __repr__(self) -> str:
        return "<recorder>"

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __len__ = __iter__ = __bool__ = _stop  # type: ignore
    __contains__ = __add__ = __radd__ = __sub__ = __mul__ = __getitem__ = __float__ = __int__ = _stop  # type: ignore
    __hash__ = __index__ = __format__ = _stop  # type: ignore


class Speculator:
    """Collects the calls of one dry run: (test index, key), key = (target, attr, args, kwargs) as
    `literal.wire` sends them."""

    def __init__(self, handle: Callable[[object], int]) -> None:
        self.handle = handle
        self.test = -1
        self.calls: list[tuple[int, tuple]] = []
        self.nbytes = 0
        self.scalars: set[tuple[type, object]] = set()
        self.strings: list[str | bytes] = []
        self.texts: list[str] = []

    def call(self, target: str, attr: str | None, args: tuple, kwargs: dict) -> Pending:
        if len(self.calls) >= MAX_CALLS or self.nbytes > MAX_BYTES:
            raise Stop
        try:
            a, wire_a = literal.wire(args, ref=self.handle)
            k, wire_k = literal.wire(kwargs, ref=self.handle) if kwargs else ("{}", "{}")
        except (literal.Unrepresentable, RecursionError, MemoryError):
            raise Stop from None
        if self._leaks(args, kwargs, a, k):
            raise Stop
        self.nbytes += len(a) + len(k) + 64
        self.calls.append((self.test, (target, attr, wire_a, wire_k)))  # as Session.call sends it
        return Pending(self)

    def expect(self, value: object) -> None:
        """A result was compared with `value` (an expected value, as far as the dry run knows)."""
        t = type(value)
        if t in _SCALARS:
            self.scalars.add((t, value))
            if t in (str, bytes) and len(value) >= 3:  # type: ignore[arg-type]
                self.strings.append(value)  # type: ignore[arg-type]
            return
        try:
            self.texts.append(literal.encode(value))
        except (literal.Unrepresentable, RecursionError, MemoryError):
            raise Stop from None

    def _leaks(self, args: tuple, kwargs: dict, a: str, k: str) -> bool:
        if not (self.scalars or self.texts):
            return False
        if any(t in a or t in k for t in self.texts):
            return True
        todo: list[object] = [args, kwargs]
        seen = 0
        while todo:
            v = todo.pop()
            seen += 1
            if seen > MAX_WALK:
                return True
            t = type(v)
            if t in _SCALARS:
                if (t, v) in self.scalars:
                    return True
                if t in (str, bytes) and any(type(s) is t and s in v for s in self.strings):  # type: ignore[operator]
                    return True
            elif t in (list, tuple, set, frozenset):
                todo.extend(v)  # type: ignore[arg-type]
            elif t is dict:
                todo.extend(v.keys())  # type: ignore[attr-defined]
                todo.extend(v.values())  # type: ignore[attr-defined]
        return False
