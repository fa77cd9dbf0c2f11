"""The judge: runs trusted test code on plain values that a sandboxed child computed.

Candidate functions are `Remote` proxies: calling one sends literal args to the child and returns the
decoded literal reply, so an assert compares judge-owned built-in values. Objects that are not data come
back as opaque handles that can only be called, have attributes read, be passed back or be truth-tested
(the child reports the bit); comparing or hashing one is `unrepresentable_value`. The program's exit
code, output and state never decide anything.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import json
import os
import random
import signal
import time
from dataclasses import dataclass

from executors import literal, reward
from executors.api import Job, Limits, TestOutcome
from executors.plan import Plan, make_plan
from executors.session import Child, ChildGone, ForkClient


class CandidateError(Exception):
    """The program raised inside the sandbox; `kind` is its exception type name."""

    def __init__(self, kind: str, msg: str) -> None:
        super().__init__(f"{kind}: {msg}")
        self.kind = kind


class JudgeTimeout(BaseException):
    """The per-test wall deadline passed (raised by SIGALRM in the judge)."""


def _on_alarm(signum: int, frame: object) -> None:
    raise JudgeTimeout


class Session:
    """One job's connection to its current child; replaced when the child dies or times out."""

    def __init__(self, fs: ForkClient, limits: Limits) -> None:
        self.fs = fs
        self.limits = limits
        self.child: Child | None = None
        self.generation = 0
        self.ref_seen = False
        self.wanted: list[str] | None = None  # names asked of the program, fixed at the first load

    def ask(self, op: bytes, body: object) -> tuple[bytes, bytes]:
        if self.child is None:
            raise ChildGone(reward.CRASH, "no sandbox process")
        reply = self.child.ask(op + json.dumps(body).encode())
        return reply[:1], reply[1:]

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
        raise ChildGone(reward.CRASH, f"unexpected reply {tag!r}")

    def call(self, target: str | int, attr: str | None, args: tuple, kwargs: dict) -> object:
        try:
            a = literal.encode(args, ref=self._handle)
            k = literal.encode(kwargs, ref=self._handle)
        except literal.Unrepresentable as e:
            raise literal.Unrepresentable(f"argument not representable: {e}") from None
        return self.value(*self.ask(b"C", [target, attr, a, k]))

    def getattr(self, target: str | int, attr: str) -> object:
        return self.value(*self.ask(b"G", [target, attr]))

    def _handle(self, obj: object) -> int:
        own = isinstance(obj, Remote) and obj._session is self and obj._generation == self.generation
        if own and isinstance(obj._target, int) and obj._attr is None:  # type: ignore[union-attr]
            return obj._target  # type: ignore[union-attr,return-value]
        raise literal.Unrepresentable(type(obj).__name__)

    def kill(self) -> None:
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
            raise ChildGone(reward.CRASH, "handle from a sandbox process that is gone")
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


@dataclass
class Judged:
    tests: list[TestOutcome]


def _status_of(e: BaseException, session: Session) -> TestOutcome:
    if isinstance(e, AssertionError):
        kind = reward.UNREPR if session.ref_seen else reward.WRONG
        return TestOutcome(kind, str(e)[:200] or None)
    if isinstance(e, JudgeTimeout):
        return TestOutcome(reward.TIMEOUT, "per-test time limit")
    if isinstance(e, ChildGone):
        return TestOutcome(e.category, e.detail)
    if isinstance(e, literal.Unrepresentable):
        return TestOutcome(reward.UNREPR, str(e)[:200])
    if isinstance(e, CandidateError):
        if e.kind == "MemoryError":
            return TestOutcome(reward.MEMORY, str(e)[:200])
        return TestOutcome(reward.runtime(e.kind), str(e)[:200])
    if isinstance(e, MemoryError | RecursionError):
        return TestOutcome(reward.UNREPR, f"judge could not hold the value: {type(e).__name__}")
    return TestOutcome(reward.runtime(type(e).__name__), str(e)[:200])


class Judge:
    """Judges jobs one at a time with children from one fork server."""

    def __init__(self, fs: ForkClient, limits: Limits) -> None:
        self.fs = fs
        self.limits = limits
        signal.signal(signal.SIGALRM, _on_alarm)

    def _child(self) -> Child:
        return self.fs.fork()

    def _arm(self, seconds: float) -> None:
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))

    @staticmethod
    def _disarm() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)

    def _load(self, session: Session, job: Job, plan: Plan, ns: dict, deadline: float) -> TestOutcome | None:
        """Start a child with the program; bind its names into ns. An outcome means it failed."""
        session.generation += 1
        session.child = self._child()
        if session.wanted is None:
            session.wanted = [n for n in plan.free if n not in ns]
        wanted = session.wanted
        msg = {"program": job.program, "setup": plan.child_setup, "names": wanted + list(plan.shadowable)}
        try:
            self._arm(min(self.limits.per_test_s, deadline - time.monotonic()))
            tag, body = session.ask(b"L", msg)
            self._disarm()
        except BaseException as e:
            self._disarm()
            session.kill()
            return _status_of(e, session)
        if tag == b"S":
            return TestOutcome(reward.SYNTAX, body.decode("utf-8", "replace")[:300])
        if tag == b"X":
            kind, text = json.loads(body)
            e = CandidateError(str(kind)[:80], str(text)[:300])
            return _status_of(e, session)
        if tag != b"K":
            return TestOutcome(reward.CRASH, "bad load reply")
        names = json.loads(body)
        for name in wanted:
            spec = names.get(name)
            if not isinstance(spec, list) or not spec:
                continue
            try:
                if spec[0] == "f":
                    ns[name] = Remote(session, name, None, "function")
                elif spec[0] == "v":
                    ns[name] = literal.decode(str(spec[1]))
                elif spec[0] == "r":
                    ns[name] = Remote(session, int(spec[1]), None, str(spec[2])[:80])
            except (literal.Unrepresentable, ValueError, IndexError):
                continue
        # A builtin the program redefines (MBPP `def sum(a, b)`) is what the tests exercise only when
        # they reach no other program function; otherwise it could forge `set(f(x)) == set(y)`.
        if not any(isinstance(names.get(n), list) and names[n][:1] == ["f"] for n in wanted):
            for name in plan.shadowable:
                if names.get(name) == ["f"]:
                    ns[name] = Remote(session, name, None, "function")
        if plan.candidate is not None:
            ns["candidate"] = ns.get(plan.candidate, _missing(plan.candidate))
        return None

    def run(self, job: Job) -> list[TestOutcome]:
        """Per-test outcomes of one job (the child is started fresh and killed at the end)."""
        lim = self.limits
        plan = make_plan(job.tests, job.setup, job.test, job.entry_point)
        start = time.monotonic()
        deadline = start + lim.program_s
        random.seed(0)
        ns: dict = {"__builtins__": builtins, "__name__": "judge"}
        for mod in plan.stdlib:
            with contextlib.suppress(ImportError):
                ns[mod] = importlib.import_module(mod)
        if plan.judge_setup is not None:
            exec(plan.judge_setup, ns)
        session = Session(self.fs, lim)
        out: list[TestOutcome] = []
        try:
            failed = self._load(session, job, plan, ns, deadline)
            if failed is not None:
                return [failed] * len(plan.tests)
            for i, test in enumerate(plan.tests):
                if isinstance(test, str):
                    out.append(TestOutcome(reward.SANDBOX, test))
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    out.extend(TestOutcome(reward.TIMEOUT, "program time limit") for _ in plan.tests[i:])
                    break
                if session.child is None:
                    failed = self._load(session, job, plan, ns, deadline)
                    if failed is not None:
                        out.extend([failed] * (len(plan.tests) - i))
                        break
                out.append(self._one(session, test, ns, min(lim.per_test_s, left)))
            return out
        finally:
            self._disarm()
            session.kill()

    def _one(self, session: Session, test: object, ns: dict, seconds: float) -> TestOutcome:
        session.ref_seen = False
        try:
            self._arm(seconds)
            exec(test, ns)  # type: ignore[arg-type]
            self._disarm()
            return TestOutcome(reward.PASS)
        except BaseException as e:
            self._disarm()
            if isinstance(e, JudgeTimeout | ChildGone):
                session.kill()
            if isinstance(e, KeyboardInterrupt | SystemExit) and not isinstance(e, CandidateError):
                raise
            return _status_of(e, session)

    def prepare(self) -> None:
        """Ask for the next job's child now; the fork server reaps this job's child and forks meanwhile."""
        if not self.fs.pending:
            self.fs.request()

    def close(self) -> None:
        if self.fs.pending:
            with contextlib.suppress(Exception):
                self.fs.fork().kill()


def _missing(name: str) -> object:
    def candidate(*args: object, **kwargs: object) -> None:
        raise CandidateError("NameError", f"name {name!r} is not defined")

    return candidate


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
