"""The dpo kind's pair pool: K candidates per training task sampled from a policy, judged in the sandbox,
paired (chosen passes every test, rejected does not), at most M per task, in a seeded order.

The order makes conditions nested: the pool is shuffled once (by `pool_seed`), so the first 120 pairs
are inside the first 500, which are inside the first 1,000, and so on. Everything that produced the
pool (policy, tasks, sampling, rule, seed) is hashed; the pool is cached under that hash as JSONL (one
pair per line with the task's tests, so anyone can re-verify it) with its statistics beside it, and
built once per machine (a file lock keeps concurrent trials from building it twice).
"""

from __future__ import annotations

import collections
import difflib
import fcntl
import hashlib
import json
import os
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from trainables.common.pairs import Pair, pairs_for
from trainables.common.problems import Problem
from trainables.common.rollouts import Rollout

POOL_VERSION = "dpo-pool-1"


@dataclass(frozen=True)
class PoolRow:
    """One line of the pool's JSONL: the pair and what its task is judged by."""

    task_id: str
    style: str
    prompt: str
    chosen: str
    rejected: str
    rejected_category: str
    tests: list[str]
    check: str | None
    entry_point: str
    io: list[list[str]]
    setup: str = ""  # code the tests need first (MBPP's test imports)


def problem_of(row: PoolRow) -> Problem:
    """The task a pool row is judged by (enough to re-verify its chosen and rejected in the sandbox)."""
    return Problem(problem_id=row.task_id, style=row.style, text="", entry_point=row.entry_point,  # type: ignore[arg-type]
                   tests=tuple(row.tests), check=row.check, io=tuple((i, o) for i, o in row.io),
                   setup=row.setup)  # fmt: skip


def line_difference(a: str, b: str) -> int:
    """Lines in one program and not the other (difflib's opcodes over lines): seed 002's pairing score."""
    sm = difflib.SequenceMatcher(a=a.splitlines(), b=b.splitlines(), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal")


def choose(pairs: list[Pair], m: int, rule: str, rng: random.Random) -> list[Pair]:
    """At most m of one task's pairs: a seeded draw, or the m with the largest line difference (ties in
    a seeded order)."""
    if len(pairs) <= m:
        return list(pairs)
    if rule == "random":
        return rng.sample(pairs, m)
    order = rng.sample(pairs, len(pairs))
    return sorted(order, key=lambda p: -line_difference(p.chosen, p.rejected))[:m]


def build(
    problems: Sequence[Problem], groups: Sequence[Sequence[Rollout]], m: int, rule: str, seed: int
) -> list[PoolRow]:
    """The pool from each task's judged candidates (`groups[i]`: problems[i]'s), in its nested order."""
    rng = random.Random(seed)
    rows = []
    for problem, rollouts in zip(problems, groups, strict=True):
        for pair in choose(pairs_for(rollouts), m, rule, rng):
            rows.append(PoolRow(
                task_id=problem.problem_id, style=problem.style, prompt=pair.prompt, chosen=pair.chosen,
                rejected=pair.rejected, rejected_category=pair.rejected_category, tests=list(problem.tests),
                check=problem.check, entry_point=problem.entry_point, io=[list(c) for c in problem.io],
                setup=problem.setup,
            ))  # fmt: skip
    rng.shuffle(rows)
    return rows


def stats(rows: Sequence[PoolRow], n_tasks: int) -> dict[str, Any]:
    """Tasks with at least one pair, pairs per task, categories of the rejected."""
    per_task = collections.Counter(r.task_id for r in rows)
    counts = sorted(per_task.values())
    return {
        "pairs": len(rows),
        "tasks_sampled": n_tasks,
        "tasks_with_pairs": len(per_task),
        "pairs_per_task_min": counts[0] if counts else 0,
        "pairs_per_task_median": counts[len(counts) // 2] if counts else 0,
        "pairs_per_task_max": counts[-1] if counts else 0,
        "rejected_categories": dict(collections.Counter(r.rejected_category.split(":")[0] for r in rows)),
    }


def read_verified(path: Path, executor: Any) -> tuple[list[PoolRow], dict[str, Any]]:
    """A pool file's rows whose chosen passes and rejected fails in the sandbox (in file order), and stats
    with `dropped`: the rows that did not hold. One clear error for a missing or malformed file."""
    from trainables.common.problems import DataUnavailable
    from trainables.common.prompting import job

    if not path.is_file():
        raise DataUnavailable(f"dpo: pool_path {path} not found; point it at a JSONL pool (dpo_pool.PoolRow)")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(PoolRow(**json.loads(line)))
            except (TypeError, ValueError) as err:
                raise DataUnavailable(f"{path}:{n}: not a pool row ({err}); see trainables/kinds/dpo_pool.py") from None
    try:
        jobs = [job(problem_of(r), text, f"{side}{i}") for i, r in enumerate(rows)
                for side, text in (("c", r.chosen), ("r", r.rejected))]  # fmt: skip
    except (TypeError, ValueError) as err:
        raise DataUnavailable(f"{path}: a row cannot be judged ({err}); see trainables/kinds/dpo_pool.py") from None
    results = executor.run(jobs)
    real = lambda c: c not in ("pass", "sandbox_error")  # noqa: E731  (a sandbox fault says nothing of the program)
    kept = [r for i, r in enumerate(rows) if results[2 * i].category == "pass" and real(results[2 * i + 1].category)]
    return kept, {**stats(kept, len({r.task_id for r in rows})), "dropped": len(rows) - len(kept)}


def pool_key(body: dict[str, Any]) -> str:
    """16 hex of the sha256 of everything that produced a pool."""
    return hashlib.sha256(json.dumps({"v": POOL_VERSION, **body}, sort_keys=True).encode()).hexdigest()[:16]


def cached(folder: Path, key: str, make: Any) -> tuple[list[PoolRow], dict[str, Any], Path]:
    """The pool under `folder/<key>.jsonl` (built by `make() -> (rows, stats)` if absent), its stats and path."""
    folder.mkdir(parents=True, exist_ok=True)
    path, meta = folder / f"{key}.jsonl", folder / f"{key}.stats.json"
    with (folder / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not meta.is_file():
            rows, info = make()
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(asdict(r)) + "\n" for r in rows))
            os.replace(tmp, path)
            meta.write_text(json.dumps(info, indent=1))  # last: marks the pool complete
    rows = [PoolRow(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    return rows, json.loads(meta.read_text()), path
