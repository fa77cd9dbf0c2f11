"""Typed records of the executor: jobs in, verdicts out, and limits."""

from __future__ import annotations

from dataclasses import dataclass, field


class SandboxUnavailable(RuntimeError):
    """A kernel feature strict mode needs is missing; the message names it and the opt-out."""


@dataclass(frozen=True)
class IOCase:
    """One stdin/stdout case: the text the program reads on stdin and the output it must print."""

    input: str
    output: str


@dataclass(frozen=True)
class Job:
    """One untrusted program and the tests that judge it; give exactly one of `tests`, `test` +
    `entry_point`, or `io`.

    MBPP style: `tests` is a tuple of assert statements, `setup` optional code run after the program in
    the sandbox (MBPP `test_setup_code`; its import lines also run in the judge). HumanEval style: `test`
    defines `check(candidate)` and `entry_point` names the function under test.
    Stdin/stdout style (competitive programming: LiveCodeBench, AtCoder): `io` is a tuple of IOCase (dicts
    {"input", "output"} and (input, output) pairs are converted); the program runs once per case as a
    script (`__name__ == "__main__"`) in a fresh sandboxed process with that case's input on stdin, and
    the judge compares its stdout with `output` outside the sandbox, ignoring whitespace at line ends and
    trailing blank lines. The program never sees expected outputs or other cases' inputs.
    `helpers`: optional trusted code run in the judge before the tests, normally the HumanEval prompt:
    the names it defines (all but `entry_point`) are the judge's own copies, so a program that redefines
    a helper the tests use (HumanEval/32 `poly`, /38 `encode_cyclic`) cannot change what the tests check.
    """

    id: str
    program: str
    tests: tuple[str, ...] = ()
    setup: str = ""
    test: str | None = None
    entry_point: str | None = None
    helpers: str = ""
    io: tuple[IOCase, ...] = ()

    def __post_init__(self) -> None:
        if self.io:
            object.__setattr__(self, "io", tuple(_io_case(self.id, c) for c in self.io))
            extra = [k for k in ("tests", "setup", "test", "entry_point", "helpers") if getattr(self, k)]
            if extra:
                raise ValueError(f"job {self.id}: `io` jobs take no {', '.join(map(repr, extra))}; give only `io`")
            return
        if self.test is not None and not self.entry_point:
            raise ValueError(f"job {self.id}: `test` needs `entry_point`")
        if self.test is None and not self.tests:
            raise ValueError(
                f"job {self.id}: give `tests` (assert statements), `test` + `entry_point`, or `io` (stdin/stdout cases)"
            )
        if isinstance(self.tests, list):
            object.__setattr__(self, "tests", tuple(self.tests))


def _io_case(job_id: str, c: object) -> IOCase:
    if isinstance(c, dict) and set(c) >= {"input", "output"}:
        c = IOCase(c["input"], c["output"])
    elif isinstance(c, list | tuple) and len(c) == 2:
        c = IOCase(*c)
    if not isinstance(c, IOCase) or not isinstance(c.input, str) or not isinstance(c.output, str):
        raise ValueError(f"job {job_id}: each `io` case needs `input` and `output` strings, not {c!r:.80}")
    return c


@dataclass(frozen=True)
class TestOutcome:
    """Verdict of one test: status "pass" or a category string, and a short error text."""

    __test__ = False  # not a pytest class

    status: str
    error: str | None = None


@dataclass(frozen=True)
class ExecResult:
    """The verdict on one job: tests passed of total, overall category, per-test statuses. `isolation` is
    "strict" or the weaker mode's name."""

    id: str
    passed: int
    total: int
    category: str
    tests: tuple[TestOutcome, ...]
    wall_s: float
    isolation: str = "strict"

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "passed": self.passed,
            "total": self.total,
            "category": self.category,
            "tests": [{"status": t.status, "error": t.error} for t in self.tests],
            "wall_s": round(self.wall_s, 6),
            "isolation": self.isolation,
        }


@dataclass(frozen=True)
class Limits:
    """Per-program resource limits, enforced by the kernel (rlimits) and the judge's deadlines.

    per_test_s: wall seconds for loading the program and for each test (candidate calls included).
    program_s: wall seconds for the whole job; also the child's RLIMIT_CPU. Tests left when it runs
        out are `timeout`.
    memory_mb: address-space limit of the child (RLIMIT_AS).
    output_bytes: stdout+stderr the program may write before it is killed (`output_limit`).
    file_bytes: largest file it may write (RLIMIT_FSIZE).
    scratch_bytes: what it may keep in its scratch dir in all (and 1024 files): each program gets its own
        tmpfs, so one that fills its scratch leaves the next program's alone.
    open_files: RLIMIT_NOFILE.
    value_bytes: largest encoded value one call may send back (`unrepresentable_value` above it).
    """

    per_test_s: float = 2.0
    program_s: float = 10.0
    memory_mb: int = 1024
    output_bytes: int = 1 << 20
    file_bytes: int = 8 << 20
    scratch_bytes: int = 16 << 20
    open_files: int = 64
    value_bytes: int = 4 << 20

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not value > 0:  # e.g. a tmpfs of size 0 would have no cap at all
                raise ValueError(f"Limits.{name} must be > 0, not {value!r}")

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class _Stats:
    """Counters the executor keeps across runs (exposed as SandboxExecutor.stats)."""

    jobs: int = 0
    retries: int = 0
    sandbox_errors: int = 0
    worker_restarts: int = 0
    extra: dict = field(default_factory=dict)
