"""Shared fixtures: a strict executor with short limits, host sentinels, and a containment check."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from executors import ExecResult, Job, Limits, SandboxExecutor
from trainables.common.rewards import exec_reward

REPO = Path(__file__).resolve().parents[2]
LIMITS = Limits(per_test_s=1.0, program_s=3.0, memory_mb=512, output_bytes=64 << 10, file_bytes=1 << 20)


def mbpp_dir() -> Path:
    return Path(os.environ.get("CODEABLATE_MBPP_DIR", REPO.parent / "shared" / "data" / "mbpp"))


def descendants(root: int) -> set[int]:
    """Live (non-zombie) processes descended from `root`, from /proc."""
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parent[int(d)] = int(fields[1])
    out: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - out
        out |= frontier
    return out


@pytest.fixture(scope="session")
def ex():
    with SandboxExecutor(workers=2, limits=LIMITS) as ex:
        yield ex


@pytest.fixture(scope="session")
def sentinel(tmp_path_factory):
    """A host directory with a file the sandbox must not read, change or delete (outside /tmp)."""
    d = Path("/var/tmp") / f"codeablate-sentinel-{os.getpid()}"
    d.mkdir(exist_ok=True)
    f = d / "secret.txt"
    f.write_text("host secret 7d1c\n")
    yield f
    for p in d.iterdir():
        p.unlink()
    d.rmdir()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Contained:
    """Run one job and assert containment: category, reward bound, host intact, bounded, no leftovers."""

    def __init__(self, ex: SandboxExecutor, sentinel: Path) -> None:
        self.ex = ex
        self.sentinel = sentinel

    def __call__(self, job: Job, categories: set[str] | str, max_reward: float, max_wall: float = 8.0) -> ExecResult:
        cats = {categories} if isinstance(categories, str) else categories
        before = (_digest(self.sentinel), _digest(REPO / "pyproject.toml"), self.ex.stats.worker_restarts)
        t0 = time.monotonic()
        (r,) = self.ex.run([job])
        wall = time.monotonic() - t0
        assert r.category in cats or any(r.category.startswith(c + ":") for c in cats), r
        assert (exec_reward(r) or 0.0) <= max_reward, r
        assert wall <= max_wall, (wall, r)
        assert r.isolation == "strict"
        after = (_digest(self.sentinel), _digest(REPO / "pyproject.toml"), self.ex.stats.worker_restarts)
        assert after == before, ("host file changed or a worker had to be restarted", self.ex.stats)
        # Left running: at most the fork servers' pre-forked spare children, never the job's own.
        deadline = time.monotonic() + 2.0
        while True:
            procs = descendants(os.getpid())
            spare = len(procs) - 2 * self.ex.workers
            if spare <= self.ex.workers or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert spare <= self.ex.workers, f"{spare} sandboxed processes left running"
        return r


@pytest.fixture
def contained(ex, sentinel) -> Contained:
    return Contained(ex, sentinel)
