"""Metric names every trainable reports, and the unbiased pass@k estimator.

Keys are namespaced (`train/`, `eval/<suite>/`) and MLflow-safe (no '@').
"""

from __future__ import annotations

import re

import numpy as np

TRAIN_METRICS = (
    "train/pass_rate",
    "train/reward",
    "train/kl",
    "train/completion_length",
    "train/loss",
    "train/aux_nll",
    "train/k_mean",
    "train/frac_reward_zero_std",
    "train/step_time_s",
    "train/aux_pool_pointwise",
    "train/aux_pool_pairwise",
    "train/aux_pool_reflection",
    "train/aux_pool_total",
    "train/aux_dropped",
    "train/aux_time_s",
    "train/alarm_kl_growth",
    "train/alarm_length_collapse",
)
_EVAL = re.compile(r"^eval/[a-z0-9_]+/(pass_at_[0-9]+|fix_rate|completion_length)$")


def is_known_metric(name: str) -> bool:
    return name in TRAIN_METRICS or bool(_EVAL.match(name))


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k) for n samples with c correct."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))
