"""The Ruff reward's cost beside the sandbox's, per 1,000 programs (issue: reward_mix, item 1).

Programs come from the tiny world's train tasks (function and stdin/stdout): reference solutions,
the same with an unused import, the family's wrong solution and a cut-off one, so some are clean, some
carry findings, some fail their tests and some do not parse. Printed per 1,000 programs, each beside a peer:
- ruff reward, one `ruff check` over a temporary folder per batch (what the reward does);
- ruff per program (one `ruff check` per snippet: what the reward must not do);
- the sandbox judging the same programs (what every reward mix pays anyway).

    python benchmarks/bench_ruff_reward.py [--programs 1000] [--workers 2]
"""

from __future__ import annotations

import argparse
import time

from executors import SandboxExecutor
from trainables.common.lint import findings
from trainables.common.problems import tiny_problem
from trainables.common.prompting import job
from trainables.common.rewards import ruff_rewards
from trainables.kinds.grpo_config import GRPOParams
from trainables.tiny.tasks import generate_io_suites, generate_suites


def programs(n: int) -> list[tuple[object, str]]:
    """(problem, program) pairs cycling over tasks: a clean solution, another with an unused import, the
    family's wrong one, and a cut-off one that does not parse."""
    tasks = generate_suites(0, 400, 4, 4)["train"] + generate_io_suites(0, 200, 4, 4)["io_train"]
    out: list[tuple[object, str]] = []
    i = 0
    while len(out) < n:
        task = tasks[i % len(tasks)]
        problem = tiny_problem(task)
        clean = task.solutions[i % len(task.solutions)]
        variants = [clean, "import os\n\n" + clean, task.wrong, clean[: len(clean) // 2]]
        out += [(problem, v) for v in variants if v]
        i += 1
    return out[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--programs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    pairs = programs(args.programs)
    problems, progs = [p for p, _ in pairs], [s for _, s in pairs]
    params = GRPOParams()
    scale = 1000 / len(progs)

    with SandboxExecutor(workers=args.workers) as ex:
        ex.run([job(problems[0], progs[0], "warm")])
        t = time.perf_counter()
        results = ex.run([job(p, s, f"b{i}") for i, (p, s) in enumerate(pairs)])
        sandbox_s = time.perf_counter() - t
    findings(progs[:10], params.ruff_select)  # warm the binary and the rule table
    t = time.perf_counter()
    rewards = ruff_rewards(problems, progs, results, params)
    batch_s = time.perf_counter() - t
    few = progs[:50]
    t = time.perf_counter()
    for s in few:
        findings([s], params.ruff_select, ignore=params.ruff_ignore)
    single_s = (time.perf_counter() - t) * len(progs) / len(few)

    flagged = sum(r is not None and r < 0 for r in rewards)
    print(f"{len(progs)} programs ({sum(r.category == 'pass' for r in results)} pass their tests, {flagged} with "
          f"a negative ruff reward); figures per 1,000 programs")  # fmt: skip
    print(f"{'':38}{'seconds':>10}")
    print(f"{'ruff reward, one call per batch':38}{batch_s * scale:>10.3f}")
    print(f"{'ruff, one call per program (peer)':38}{single_s * scale:>10.3f}")
    print(f"{f'sandbox, {args.workers} workers (same programs)':38}{sandbox_s * scale:>10.3f}")
    print(f"ruff reward / sandbox: {batch_s / sandbox_s:.1%}; per program vs per batch: {single_s / batch_s:.0f}x")


if __name__ == "__main__":
    main()
