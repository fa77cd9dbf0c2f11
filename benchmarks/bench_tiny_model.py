"""Build the tiny profile's default model in a temporary cache and measure it.

Prints build time, parameter count, and pass@1 (5 samples per task, temperature 0.2, top_p 0.95)
on the heldout and transfer suites and on a slice of train. The target band for heldout and
transfer is [0.10, 0.60], so that RL has signal and conditions can differ.

    python benchmarks/bench_tiny_model.py [--cache DIR] [--train-slice 200] [--steps N] ...

Any TinyRecipe field can be overridden with --<field> VALUE for calibration runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from a checkout

from trainables.tiny.evaluate_quick import pass_at_1
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
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp)
        start = time.perf_counter()
        model_dir = ensure_tiny_model(cache, recipe)
        wall = time.perf_counter() - start
        facts = build_facts(model_dir)
        print(f"build wall {wall:.1f}s (recorded {facts['build_seconds']}s), params {facts['n_params']:,}")
        suites = recipe.suites()
        rows = {
            "heldout": suites["heldout"],
            "transfer": suites["transfer"],
            "train": suites["train"][: args.train_slice],
        }
        for name, tasks in rows.items():
            start = time.perf_counter()
            score, per_task = pass_at_1(model_dir, tasks)
            by_family: dict[str, list[float]] = {}
            for task, frac in zip(tasks, per_task, strict=True):
                by_family.setdefault(
                    task.family.split("_")[0] if task.family.startswith("chain") else task.family, []
                ).append(frac)
            inside = "in band" if BAND[0] <= score <= BAND[1] else "OUT OF BAND"
            inside = inside if name != "train" else "(RL needs this below 1)"
            took = time.perf_counter() - start
            print(f"pass@1 {name:8s} {score:.3f} ({len(tasks)} tasks, {took:.0f}s) {inside}")
            for spec in ("described", "examples"):
                fracs = [f for t, f in zip(tasks, per_task, strict=True) if t.spec == spec]
                print(f"   {spec}: {sum(fracs) / max(1, len(fracs)):.3f} over {len(fracs)} tasks")
            print("   " + ", ".join(f"{k} {sum(v) / len(v):.2f}" for k, v in sorted(by_family.items())))


if __name__ == "__main__":
    main()
