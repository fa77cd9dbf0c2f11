"""Per-task head-to-head of two conditions: which problems one solves and the other does not, per seed and
across seeds (seed document 002 lists tasks improved and regressed by one DPO run against its base).

A problem is solved by a (condition, seed) when at least half of its samples pass (per-problem pass@1
>= 0.5). Per comparison and shared seed: improved (solved by the treatment only), regressed (by the
baseline only), both pass, both fail, with the ids of the improved and regressed. Across seeds: the
problems that flip the same way in every shared seed, the ones a single-seed list cannot tell from noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

PER_SEED = ["suite", "treatment", "baseline", "seed", "improved", "regressed", "both_pass", "both_fail",
            "improved_ids", "regressed_ids"]  # fmt: skip
CONSISTENT = ["suite", "treatment", "baseline", "n_seeds", "always_improved", "always_regressed",
              "always_improved_ids", "always_regressed_ids"]  # fmt: skip


def head_to_head(
    suite: str,
    problems: tuple[str, ...],
    seeds: dict[str, NDArray[np.int64]],
    scores: dict[str, NDArray[np.float64]],
    pairs: tuple[tuple[str, str], ...],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per seed, consistent across seeds) tables for `pairs` (treatment, baseline); `scores[c]`:
    (n_seeds_c, n_problems) per-problem pass@1 in `seeds[c]` order."""
    per_seed, consistent = [], []
    ids = np.asarray(problems)
    for treat, base in pairs:
        common = sorted(set(seeds[treat].tolist()) & set(seeds[base].tolist()))
        if not common:
            continue
        ups, downs = [], []
        for seed in common:
            t = scores[treat][list(seeds[treat]).index(seed)] >= 0.5
            b = scores[base][list(seeds[base]).index(seed)] >= 0.5
            up, down = t & ~b, ~t & b
            ups.append(up)
            downs.append(down)
            per_seed.append({"suite": suite, "treatment": treat, "baseline": base, "seed": int(seed),
                             "improved": int(up.sum()), "regressed": int(down.sum()), "both_pass": int((t & b).sum()),
                             "both_fail": int((~t & ~b).sum()), "improved_ids": " ".join(ids[up]),
                             "regressed_ids": " ".join(ids[down])})  # fmt: skip
        always_up, always_down = np.all(ups, axis=0), np.all(downs, axis=0)
        consistent.append({"suite": suite, "treatment": treat, "baseline": base, "n_seeds": len(common),
                           "always_improved": int(always_up.sum()), "always_regressed": int(always_down.sum()),
                           "always_improved_ids": " ".join(ids[always_up]),
                           "always_regressed_ids": " ".join(ids[always_down])})  # fmt: skip
    return pd.DataFrame(per_seed, columns=PER_SEED), pd.DataFrame(consistent, columns=CONSISTENT)
