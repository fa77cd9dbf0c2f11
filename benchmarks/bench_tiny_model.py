"""Build the tiny profile's model and measure the tiny world against what the four studies need.

Prints, each beside its target (the tiny-world issue) or the seed document's real figure:
- build time and size;
- the base model's pass@1 per suite (5 samples, T=0.2: heldout, transfer, io_test, a train slice);
- at the RL sampling temperature (T=1.0, 8 samples on train tasks): pass rate, the print-habit share,
  the share of samples with Ruff findings (all, and among passing ones) and the rules found;
- the verified preference pairs those samples yield (chosen passes, rejected fails);
- distinct correct solutions per task (function and io train tasks), verified in the sandbox;
- with --study DIR (a finished aux_kl study): A's held-out and transfer gain over the base model,
  paired by seed, with its interval, from the project's analysis.

    python benchmarks/bench_tiny_model.py [--cache DIR] [--study out/aux_kl] [--rl-tasks 400]

Any TinyRecipe field can be overridden with --<field> VALUE for calibration runs.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import torch

from executors import SandboxExecutor
from trainables.common.evaluation import evaluate
from trainables.common.lint import DEFAULT_RULES, findings
from trainables.common.models import load_model
from trainables.common.pairs import pair_pool
from trainables.common.params import EvalParams
from trainables.common.problems import tiny_problem
from trainables.common.prompting import job
from trainables.common.rollouts import sample_and_judge
from trainables.common.specs import ModelSpec
from trainables.tiny.model import TinyRecipe, build_facts, ensure_tiny_model
from trainables.tiny.tasks import Task, generate_io_suites

EVAL = EvalParams(eval_samples=5, eval_temperature=0.2, eval_top_p=0.95, eval_max_new_tokens=64)
RL_SAMPLES, RL_TEMPERATURE = 8, 1.0
PAIRS_CAP = 16


def row(name: str, value: str, target: str) -> None:
    print(f"  {name:44s} {value:>22s}   {target}")


def base_pass_rates(model, tokenizer, spec, executor, suites: dict[str, tuple[Task, ...]]) -> None:
    print("base model pass@1 (5 samples, T=0.2)")
    for name, tasks in suites.items():
        start = time.perf_counter()
        metrics, outcomes = evaluate(
            model,
            tokenizer,
            {name: tuple(tiny_problem(t) for t in tasks)},
            EVAL,
            spec,
            executor,
            condition="bench",
            seed=0,
            iteration=0,
        )
        by_spec = collections.defaultdict(list)
        spec_of = {t.task_id: t.spec for t in tasks}
        for o in outcomes:
            by_spec[spec_of[o["problem_id"]]].append(o["passed"])
        split = ", ".join(f"{k} {sum(v) / len(v):.3f}" for k, v in sorted(by_spec.items()))
        took = time.perf_counter() - start
        row(f"{name} ({len(tasks)} tasks, {took:.0f}s; {split})", f"{metrics[f'eval/{name}/pass_at_1']:.3f}", "")


def rl_samples(model, tokenizer, executor, tasks: tuple[Task, ...]) -> None:
    problems = [tiny_problem(t) for t in tasks]
    groups, _ = sample_and_judge(
        model, tokenizer, executor, problems, [p.text for p in problems], RL_SAMPLES,
        temperature=RL_TEMPERATURE, top_p=1.0, max_new_tokens=64, seed=0,
    )  # fmt: skip
    flat = [r for g in groups for r in g]
    codes = findings([r.completion.split("<|endoftext|>")[0] for r in flat])
    passing = [c for r, c in zip(flat, codes, strict=True) if r.passed_all]
    print(f"samples at the RL temperature ({RL_SAMPLES} per task, T={RL_TEMPERATURE}, {len(tasks)} train tasks)")
    row("pass rate", f"{sum(r.passed_all for r in flat) / len(flat):.3f}", "RL needs it between 0 and 1")
    mixed = sum(0 < sum(r.passed_all for r in g) < len(g) for g in groups)
    row("tasks with mixed outcomes (reward variance)", f"{mixed}/{len(groups)}", "")
    printed = sum("print(" in r.completion for r in flat) / len(flat)
    row("samples that print instead of return", f"{printed:.3f}", "the corpus's habit, for RL to unlearn")
    parsed = [c for c in codes if "invalid-syntax" not in c]
    row("samples that do not parse", f"{1 - len(parsed) / len(codes):.3f}", "")
    with_rules = sum(map(bool, parsed)) / max(1, len(parsed))
    row("parsing samples with Ruff findings", f"{with_rules:.3f}", f"rules {','.join(DEFAULT_RULES)}")
    share = sum(map(bool, passing)) / max(1, len(passing))
    row("passing samples with Ruff findings", f"{share:.3f}", "a realistic share, not all and not none")
    counts = collections.Counter(c for cs in codes for c in cs)
    row("findings by rule", ", ".join(f"{k} {v}" for k, v in counts.most_common()), "")
    pool = pair_pool(groups, max_per_problem=10**9, seed=0)
    capped = pair_pool(groups, max_per_problem=PAIRS_CAP, seed=0)
    print("verified preference pairs from those samples (chosen passes, rejected fails)")
    row("pairs", f"{len(pool)}", ">= 2,000 (seed 002 builds 2,052 from MBPP)")
    row("tasks with a pair", f"{len({p.problem_id for p in pool})}", ">= 170")
    row(f"pairs at most {PAIRS_CAP} per task", f"{len(capped)}", "")


def distinct_solutions(executor, train: tuple[Task, ...], io_train: tuple[Task, ...], n_verify: int) -> None:
    print("distinct correct solutions per task (structure differs, not only names)")
    for name, tasks in (("function train tasks", train), ("io train tasks", io_train)):
        counts = [len(t.solutions) for t in tasks]
        row(f"{name}: min / median", f"{min(counts)} / {statistics.median(counts):.0f}", ">= 5 (seed 001: 5 each)")
    sample = train[:n_verify] + io_train[: n_verify // 2]
    jobs = [job(tiny_problem(t), s, f"{t.task_id}#{i}") for t in sample for i, s in enumerate(t.solutions)]
    passed = sum(r.category == "pass" for r in executor.run(jobs))
    row(f"verified in the sandbox ({len(sample)} tasks)", f"{passed}/{len(jobs)} pass", "all")


def study_gain(study: Path) -> None:
    import pandas as pd

    from analysis import AnalysisSpec, analyze
    from trainables.common.metrics import BASE_ARM

    outcomes = pd.read_csv(study / "outcomes.csv")
    print(f"RL against the base model ({study}: A at its last iteration vs {BASE_ARM}, paired by seed)")
    spec = AnalysisSpec(baseline=BASE_ARM, comparisons=(("A", BASE_ARM),), n_boot=2000)
    result = analyze(outcomes, spec)
    for r in result.comparisons.itertuples():
        seeds = f"up in {r.seeds_up}/{r.n_paired_seeds} seeds"
        interval = f"[{r.paired_ci_low_pp:+.1f}, {r.paired_ci_high_pp:+.1f}]"
        target = ">= +5 pp on average, every seed up" if r.suite == "heldout" else "reported, no target"
        row(f"{r.suite}: {seeds}, 95% {interval}", f"{r.paired_delta_pp:+.2f} pp", target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="cache root (default: a fresh temp dir)")
    parser.add_argument("--study", type=Path, default=None, help="a finished aux_kl study folder (its outcomes.csv)")
    parser.add_argument("--rl-tasks", type=int, default=400, help="train tasks sampled at the RL temperature")
    parser.add_argument("--verify", type=int, default=200, help="train tasks whose solutions are sandbox-verified")
    for field in dataclasses.fields(TinyRecipe):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    args = parser.parse_args()
    recipe = TinyRecipe(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TinyRecipe)})
    print(f"recipe {recipe.content_hash()}: {recipe}")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp)
        start = time.perf_counter()
        model_dir = ensure_tiny_model(cache, recipe, progress=None)
        wall = time.perf_counter() - start
        facts = build_facts(model_dir)
        print("tiny model")
        row("build (recorded when built)", f"{facts['build_seconds']:.0f} s", "<= 180 s on 2 cores")
        row("this call (0 when cached)", f"{wall:.0f} s", "")
        row("parameters", f"{facts['n_params']:,}", "")
        spec = ModelSpec(source=str(model_dir), quantization="none", dtype="float32")
        model, tokenizer = load_model(spec, str(model_dir))
        suites = recipe.suites()
        io = generate_io_suites(recipe.seed, recipe.n_io_train, 100, 100)
        with SandboxExecutor(workers=2) as executor:
            base_pass_rates(
                model, tokenizer, spec, executor,
                {"heldout": suites["heldout"], "transfer": suites["transfer"], "io_test": io["io_test"],
                 "train": suites["train"][:200]},
            )  # fmt: skip
            rl_samples(model, tokenizer, executor, suites["train"][: args.rl_tasks])
            distinct_solutions(executor, suites["train"], io["io_train"], args.verify)
    if args.study is not None:
        study_gain(args.study)


if __name__ == "__main__":
    main()
