"""The judge: runs trusted test code on plain values that a sandboxed child computed.

Candidate functions are `Remote` proxies: calling one sends plain-data args to the child and returns the
decoded literal reply, so an assert compares judge-owned built-in values. Objects that are not data come
back as opaque handles that can only be called, have attributes read, be passed back or be truth-tested
(the child reports the bit); comparing or hashing one is `unrepresentable_value`. The program's exit
code, output and state never decide anything.
Calls whose arguments the tests fix upfront travel in batches: a dry run of the tests (executors.speculate)
records them, the child answers them in order, and the real run takes each reply when it makes exactly
that call; anything else is asked afresh. Verdicts come only from the real run.
Stdin/stdout jobs (`Job.io`) are judged by executors.stdio: one fresh child per case, stdout compared here.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import importlib
import json
import marshal
import os
import random
import signal
import time
import types
from dataclasses import dataclass, field

from executors import literal, stdio, verdicts
from executors.api import Job, Limits, TestOutcome
from executors.plan import Plan, make_plan
from executors.remote import CandidateError, Remote, Session
from executors.session import Child, ChildGone, ForkClient, SandboxFault
from executors.speculate import Recorder, Speculator, Stop

# A job started ahead (worker pipelining) runs at this nice value until it is judged, so a program that
# spins while it waits takes little CPU from the job being judged. Only when the worker may raise the
# priority back (root), else started ahead children would stay slow.
PREFETCH_NICE = 10
SETTLE_S = 0.05  # how long a test's unused calls sent ahead may keep the child busy before it is replaced


class JudgeTimeout(BaseException):
    """The per-test wall deadline passed (raised by SIGALRM in the judge)."""


def _on_alarm(signum: int, frame: object) -> None:
    raise JudgeTimeout


# Kept as they are in a dry run's namespace copy; everything else is deep-copied.
_SHARED = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type, Remote)


@dataclass
class Started:
    """A job whose child has been sent the program (Judge.start) and awaits Judge.finish."""

    job: Job
    plan: Plan | None = None
    ns: dict = field(default_factory=lambda: {"__builtins__": builtins, "__name__": "judge"})
    session: Session | None = None
    calls: list = field(default_factory=list)
    rng: object = None
    error: Exception | None = None
    nice: bool = False  # its child runs at PREFETCH_NICE until the job is judged
    case: Child | None = None  # a stdin/stdout job: the first case's child

    def close(self) -> None:
        if self.session is not None:
            self.session.kill()
        if self.case is not None:
            self.case.kill()
            self.case = None


def _status_of(e: BaseException, session: Session) -> TestOutcome:
    if isinstance(e, AssertionError):
        kind = verdicts.UNREPR if session.ref_seen else verdicts.WRONG
        return TestOutcome(kind, str(e)[:200] or None)
    if isinstance(e, JudgeTimeout):
        return TestOutcome(verdicts.TIMEOUT, "per-test time limit")
    if isinstance(e, ChildGone):
        return TestOutcome(e.category, e.detail)
    if isinstance(e, literal.Unrepresentable):
        return TestOutcome(verdicts.UNREPR, str(e)[:200])
    if isinstance(e, CandidateError):
        if e.kind == "MemoryError":
            return TestOutcome(verdicts.MEMORY, str(e)[:200])
        return TestOutcome(verdicts.runtime(e.kind), str(e)[:200])
    if isinstance(e, MemoryError | RecursionError):
        return TestOutcome(verdicts.UNREPR, f"judge could not hold the value: {type(e).__name__}")
    return TestOutcome(verdicts.runtime(type(e).__name__), str(e)[:200])


class Judge:
    """Judges jobs one at a time with children from one fork server."""

    def __init__(self, fs: ForkClient, limits: Limits, batching: bool = True) -> None:
        self.fs = fs
        self.limits = limits
        self.batching = batching
        self.background = False  # set by the worker around Judge.start of a job started ahead
        self._first: dict[int, tuple[Plan, list]] = {}  # id(plan) -> (plan, calls of its first dry run)
        signal.signal(signal.SIGALRM, _on_alarm)

    def _child(self) -> Child:
        return self.fs.fork()

    def _arm(self, seconds: float) -> None:
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))

    @staticmethod
    def _disarm() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)

    def _load(
        self, session: Session, job: Job, plan: Plan, ns: dict, deadline: float, calls: list[tuple[int, tuple]]
    ) -> TestOutcome | None:
        """Start a child with the program (and `calls` to answer right after); bind its names into ns.
        An outcome means it failed."""
        self._send_load(session, job, plan, calls)
        return self._await_load(session, plan, ns, deadline, calls)

    def _send_load(self, session: Session, job: Job, plan: Plan, calls: list[tuple[int, tuple]]) -> None:
        session.generation += 1
        session.child = self._child()
        msg = {
            "program": job.program,
            "setup": plan.child_setup,
            "names": (session.wanted or []) + list(plan.shadowable),
            "calls": [list(key) for _, key in calls],
        }
        session.child.send(b"L" + marshal.dumps(msg))

    def _await_load(
        self, session: Session, plan: Plan, ns: dict, deadline: float, calls: list[tuple[int, tuple]]
    ) -> TestOutcome | None:
        wanted = session.wanted or []
        try:
            if session.child is None:
                raise ChildGone(verdicts.CRASH, "no sandbox process")
            self._arm(min(self.limits.per_test_s, deadline - time.monotonic()))
            reply = session.child.recv()
            self._disarm()
            assert reply is not None
            tag, body = reply[:1], reply[1:]
        except BaseException as e:
            self._disarm()
            session.kill()
            if isinstance(e, SandboxFault):
                raise
            return _status_of(e, session)
        if tag == b"S":
            return TestOutcome(verdicts.SYNTAX, body.decode("utf-8", "replace")[:300])
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if tag == b"X" and isinstance(parsed, list) and len(parsed) == 2:
            return _status_of(CandidateError(str(parsed[0])[:80], str(parsed[1])[:300]), session)
        if tag != b"K" or not isinstance(parsed, dict):
            session.kill()
            return TestOutcome(verdicts.CRASH, "bad load reply")
        session.queue.extend(calls)
        names = parsed
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

    def _speculate(self, session: Session, plan: Plan, ns: dict, first: int, deadline: float) -> list:
        """Calls a dry run of tests[first:] makes before it needs a real value (see executors.speculate)."""
        if first in session.tried or not self.batching:
            return []
        session.tried.add(first)
        if first == 0 and session.child is None and session.generation == 0:
            # The first dry run depends only on the plan (random is seeded per job): reuse it.
            hit = self._first.get(id(plan))
            if hit is not None and hit[0] is plan:
                return hit[1]
            calls = self._dry_run(session, plan, ns, first, deadline)
            if len(self._first) >= 1024:
                self._first.clear()
            self._first[id(plan)] = (plan, calls)
            return calls
        return self._dry_run(session, plan, ns, first, deadline)

    def _dry_run(self, session: Session, plan: Plan, ns: dict, first: int, deadline: float) -> list:
        spec = Speculator(session._handle)
        dry = {}
        for name, v in ns.items():
            if isinstance(v, Remote) and isinstance(v._target, str) and v._attr is None:
                v = Recorder(spec, v._target)
            elif not isinstance(v, _SHARED):  # data and state (a random.Random) the dry run must not touch
                with contextlib.suppress(Exception):
                    v = copy.deepcopy(v)
            dry[name] = v
        for name in session.wanted or ():
            if name not in dry:
                dry[name] = Recorder(spec, name)
        if plan.candidate is not None:  # as _load binds it
            dry["candidate"] = dry[plan.candidate] if plan.candidate in dry else Recorder(spec, plan.candidate)
        state = random.getstate()
        session.dry = True
        try:
            try:
                self._arm(min(self.limits.per_test_s, deadline - time.monotonic()))
                for i in range(first, len(plan.tests)):
                    test = plan.tests[i]
                    if isinstance(test, str):
                        continue
                    spec.test = i
                    try:
                        exec(test, dry)
                    except AssertionError as e:
                        # Failing in the dry run (`assert not f(x)`, `assert f(x) is True`): when it is the
                        # test's last statement, the real run makes no more calls in this test either way.
                        if not _failed_at(e, test, plan.final_assert[i] if i < len(plan.final_assert) else None):
                            raise
            finally:
                self._disarm()
        except (Exception, Stop, JudgeTimeout):  # the dry run ends here; what it recorded stands
            pass
        finally:
            session.dry = False
            random.setstate(state)
        return spec.calls

    def run(self, job: Job) -> list[TestOutcome]:
        """Per-test outcomes of one job (the child is started fresh and killed at the end)."""
        return self.finish(self.start(job))

    def start(self, job: Job) -> Started:
        """Plan the job, take a child and send it the program with the calls of the first dry run, without
        waiting: the worker starts the next job this way while it judges the current one."""
        st = Started(job)
        if job.io:
            st.case = stdio.start(self.fs, job.program, job.io[0])
            if self.background:
                st.nice = _renice(st.case.pid, PREFETCH_NICE)
            return st
        try:
            plan = st.plan = make_plan(job.tests, job.setup, job.test, job.entry_point, job.helpers)
            random.seed(0)
            ns = st.ns
            for mod in plan.stdlib:
                with contextlib.suppress(ImportError):
                    ns[mod] = importlib.import_module(mod)
            for stmt in plan.helpers:  # trusted helpers (the HumanEval prompt): the judge's own copy
                with contextlib.suppress(Exception):
                    exec(stmt, ns)
            if plan.judge_setup is not None:
                exec(plan.judge_setup, ns)
            session = st.session = Session()
            session.wanted = [n for n in plan.free if n not in ns]
            st.calls = self._speculate(session, plan, ns, 0, time.monotonic() + self.limits.program_s)
            st.rng = random.getstate()
            self._send_load(session, job, plan, st.calls)
            if self.background and session.child is not None:
                st.nice = _renice(session.child.pid, PREFETCH_NICE)
        except SandboxFault:
            st.close()
            raise
        except Exception as e:  # a judge bug must not be scored as the program's failure
            st.close()
            st.error = e
        return st

    def finish(self, st: Started) -> list[TestOutcome]:
        """Judge a started job: wait for the load, then run the tests."""
        if st.job.io:
            first, st.case = st.case, None
            if st.nice and first is not None:
                _renice(first.pid, 0)
            return stdio.judge(self.fs, self.limits, st.job.program, st.job.io, first)
        if st.error is not None or st.plan is None or st.session is None:
            e = st.error
            return [TestOutcome(verdicts.SANDBOX, f"judge: {type(e).__name__}: {e}"[:200])]
        lim = self.limits
        plan, ns, session = st.plan, st.ns, st.session
        deadline = time.monotonic() + lim.program_s
        random.setstate(st.rng)
        if st.nice and session.child is not None:
            _renice(session.child.pid, 0)
        out: list[TestOutcome] = []
        try:
            failed = self._await_load(session, plan, ns, deadline, st.calls)
            if failed is not None:
                return [failed] * len(plan.tests)
            for i, test in enumerate(plan.tests):
                if isinstance(test, str):
                    out.append(TestOutcome(verdicts.SANDBOX, test))
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    out.extend(TestOutcome(verdicts.TIMEOUT, "program time limit") for _ in plan.tests[i:])
                    break
                if session.child is None:
                    calls = self._speculate(session, plan, ns, i, deadline)
                    failed = self._load(session, st.job, plan, ns, deadline, calls)
                    if failed is not None:
                        out.extend([failed] * (len(plan.tests) - i))
                        break
                elif not session.queue:
                    session.send_ahead(self._speculate(session, plan, ns, i, deadline))
                out.append(self._one(session, test, ns, min(lim.per_test_s, deadline - time.monotonic())))
                if session.queue:
                    session.settle(i, min(SETTLE_S, max(0.0, deadline - time.monotonic())))
            return out
        finally:
            self._disarm()
            st.close()

    def _one(self, session: Session, test: object, ns: dict, seconds: float) -> TestOutcome:
        session.ref_seen = False
        try:
            self._arm(seconds)
            exec(test, ns)  # type: ignore[arg-type]
            self._disarm()
            return TestOutcome(verdicts.PASS)
        except BaseException as e:
            self._disarm()
            if isinstance(e, JudgeTimeout | ChildGone):
                session.kill()
            if isinstance(e, KeyboardInterrupt | SystemExit | SandboxFault) and not isinstance(e, CandidateError):
                raise
            return _status_of(e, session)

    def prepare(self) -> None:
        """Between jobs: the fork server reaps this job's child and wipes its scratch while the next job
        starts (the next child is already forked: ForkClient.fork requests a spare ahead)."""
        self.fs.release()

    def close(self) -> None:
        self.fs.close()


def _renice(pid: int, nice: int) -> bool:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
        return True
    except OSError:
        return False


def _failed_at(e: BaseException, code: object, lines: tuple[int, int] | None) -> bool:
    """The AssertionError was raised by the statement at `lines` of `code` itself."""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return lines is not None and tb is not None and tb.tb_frame.f_code is code and lines[0] <= tb.tb_lineno <= lines[1]


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
