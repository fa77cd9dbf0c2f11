"""Build the tiny profile's default model in a temporary cache and measure it.

Prints build time, parameter count, and pass@1 (5 samples per task, temperature 0.2, top_p 0.95) on the
heldout and transfer suites and on a slice of train, measured by the project's own evaluation path
(one sampler, the sandboxed executor). The target band for heldout and transfer is [0.10, 0.60], so
that RL has signal and conditions can differ.

    python benchmarks/bench_tiny_model.py [--cache DIR] [--train-slice 200] [--steps N] ...

Any TinyRecipe field can be overridden with --<field> VALUE for calibration runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

from executors import SandboxExecutor
from trainables.common.evaluation import evaluate
from trainables.common.models import load_model
from trainables.common.params import EvalParams
from trainables.common.problems import tiny_problem
from trainables.common.specs import ModelSpec
from trainables.tiny.model import TinyRecipe, build_facts, ensure_tiny_model

BAND = (0.10, 0.60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="cache root (default: a fresh temp dir)")
    parser.add_argument("--train-slice", type=int, default=200, help="train tasks to measure the pass rate on")
    for field in dataclasses.fields(TinyRecipe):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    args = parser.parse_args()
    recipe = TinyRecipe(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TinyRecipe)})
    print(f"recipe {recipe.content_hash()}: {recipe}")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp)
        start = time.perf_counter()
        model_dir = ensure_tiny_model(cache, recipe)
        wall = time.perf_counter() - start
        facts = build_facts(model_dir)
        print(f"build wall {wall:.1f}s (recorded {facts['build_seconds']}s), params {facts['n_params']:,}")
        spec = ModelSpec(source=str(model_dir), quantization="none", dtype="float32")
        model, tokenizer = load_model(spec, str(model_dir))
        params = EvalParams(eval_max_new_tokens=64)
        suites = recipe.suites()
        rows = {
            "heldout": suites["heldout"],
            "transfer": suites["transfer"],
            "train": suites["train"][: args.train_slice],
        }
        with SandboxExecutor(workers=2) as executor:
            for name, tasks in rows.items():
                start = time.perf_counter()
                metrics, outcomes = evaluate(
                    model,
                    tokenizer,
                    {name: tuple(tiny_problem(t) for t in tasks)},
                    params,
                    spec,
                    executor,
                    condition="bench",
                    seed=0,
                    iteration=0,
                )
                score = metrics[f"eval/{name}/pass_at_1"]
                passed: dict[str, list[bool]] = defaultdict(list)
                for row in outcomes:
                    passed[row["problem_id"]].append(row["passed"])
                took = time.perf_counter() - start
                inside = "in band" if BAND[0] <= score <= BAND[1] else "OUT OF BAND"
                inside = inside if name != "train" else "(RL needs this below 1)"
                print(f"pass@1 {name:8s} {score:.3f} ({len(tasks)} tasks, {took:.0f}s) {inside}")
                for kind in ("described", "examples"):
                    fracs = [sum(passed[t.task_id]) / len(passed[t.task_id]) for t in tasks if t.spec == kind]
                    print(f"   {kind}: {sum(fracs) / max(1, len(fracs)):.3f} over {len(fracs)} tasks")


if __name__ == "__main__":
    main()
