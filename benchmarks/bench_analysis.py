"""Time the full analysis of a 6-condition x 10-seed x 164-problem x 5-sample table with 10,000 bootstrap
resamples, beside scipy.stats.bootstrap doing the same resampling.

``python benchmarks/bench_analysis.py [--repeats N]``. The scipy side draws, for each of the 5
comparisons, 10,000 resamples of the 164 paired per-problem deltas (the paired/problem half of
our hierarchical bootstrap) and 10,000 resamples of each arm's 10 per-seed scores (the seed half),
percentile intervals, vectorised. Target for ours: <= 3 s on 2 cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from analysis import AnalysisSpec, analyze
from analysis.estimators import per_problem_scores
from analysis.simulate import SimModel, simulate_outcomes
from analysis.tables import build_suite, check_outcomes

CONDITIONS = {"A": 0.0, "B": 0.0, "C": 0.3, "D": 0.1, "E": -0.2, "F": 0.05}


def scipy_same_resampling(df, n_boot: int, rng: np.random.Generator) -> None:
    data = build_suite(check_outcomes(df), "heldout")
    scores = {c: per_problem_scores(cube) for c, cube in data.outcomes.items()}  # (10, 164)
    for treat in "BCDEF":
        diffs = scores[treat].mean(axis=0) - scores["A"].mean(axis=0)
        stats.bootstrap((diffs,), np.mean, n_resamples=n_boot, method="percentile", rng=rng)
        seeds_a, seeds_b = scores["A"].mean(axis=1), scores[treat].mean(axis=1)
        stats.bootstrap((seeds_b, seeds_a), lambda b, a, axis: b.mean(axis) - a.mean(axis),
                        n_resamples=n_boot, method="percentile", rng=rng)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-boot", type=int, default=10_000)
    args = parser.parse_args()
    df = simulate_outcomes(np.random.default_rng(0), SimModel(n_seeds=10, n_problems=164, n_samples=5), CONDITIONS)
    spec = AnalysisSpec(baseline="A", n_boot=args.n_boot, rng_seed=0)
    print(f"table: {len(df):,} rows (6 conditions x 10 seeds x 164 problems x 5 samples), {args.n_boot:,} resamples")
    t = time.perf_counter()
    analyze(df, spec)  # the first call also builds the 184,756-split permutation table (cached)
    cold = time.perf_counter() - t
    ours, peer = [], []
    for i in range(args.repeats):
        t = time.perf_counter()
        analyze(df, spec)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        scipy_same_resampling(df, args.n_boot, np.random.default_rng(i))
        peer.append(time.perf_counter() - t)
    fmt = lambda xs: f"median {np.median(xs):.2f} s, range {min(xs):.2f}-{max(xs):.2f} s"  # noqa: E731
    print(f"ours  analyze() full analysis (all tests, 5 exact 10v10 permutations, bootstraps): {fmt(ours)}")
    print(f"ours  first call in the process (cold caches): {cold:.2f} s")
    print(f"scipy.stats.bootstrap, same problem + seed resampling only (5 comparisons):      {fmt(peer)}")
    print(f"target <= 3 s: {'met' if np.median(ours) <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
