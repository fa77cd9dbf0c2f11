"""`python -m executors.check IN.jsonl [--out OUT.jsonl] [--workers N] [--weak]`: judge a file of jobs.

Each input line: `id`, `program`, and one of `tests` (assert statements, optional `setup`), `test`
(defines check(candidate)) with `entry_point` and optional trusted `helpers` (e.g. the HumanEval prompt), or
`io` ([{"input": ..., "output": ...}]: the program runs as a script once per case, its stdout compared).
Each output line: `id`, `passed`, `total`, `category`, `tests` ([{status, error}]), `wall_s`,
`isolation`.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from executors.api import Job, Limits, SandboxUnavailable
from executors.pool import SandboxExecutor


def _fail(msg: str) -> None:
    print(f"executors.check: {msg}", file=sys.stderr)
    raise SystemExit(2)


def read_jobs(path: str) -> list[Job]:
    """Jobs of a JSONL file; one-line error naming file:line on a bad record."""
    jobs = []
    try:
        f = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as e:
        _fail(f"cannot read {path}: {e.strerror}")
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                jobs.append(
                    Job(
                        id=str(d["id"]),
                        program=str(d["program"]),
                        tests=tuple(d.get("tests") or ()),
                        setup=d.get("setup") or "",
                        test=d.get("test"),
                        entry_point=d.get("entry_point"),
                        helpers=d.get("helpers") or "",
                        io=tuple(d.get("io") or ()),
                    )
                )
            except (ValueError, KeyError, TypeError) as e:
                _fail(f"{path}:{n}: bad job ({type(e).__name__}: {e}); need id, program, tests/test/io")
    return jobs


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m executors.check", description=__doc__.splitlines()[0])
    p.add_argument("input", help="JSONL file of jobs ('-' for stdin)")
    p.add_argument("--out", help="write results here (default: stdout)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--weak", action="store_true", help="run even if a kernel isolation feature is missing")
    for f in fields(Limits):
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    a = p.parse_args(argv)
    if a.workers < 1:
        _fail("--workers must be >= 1")
    jobs = read_jobs(a.input)
    for f in fields(Limits):
        if not getattr(a, f.name) > 0:
            _fail(f"--{f.name.replace('_', '-')} must be > 0, not {getattr(a, f.name)}")
    limits = Limits(**{f.name: getattr(a, f.name) for f in fields(Limits)})
    try:
        with SandboxExecutor(a.workers, limits, "weak" if a.weak else "strict") as ex:
            results = ex.run(jobs)
    except SandboxUnavailable as e:
        _fail(str(e))
    lines = "".join(json.dumps(r.to_json()) + "\n" for r in results)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(lines)
    else:
        sys.stdout.write(lines)


if __name__ == "__main__":
    main()
