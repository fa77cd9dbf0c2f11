"""Metric names every trainable reports (pass@k itself is analysis.estimators.pass_at_k).

Keys are namespaced (`train/`, `eval/<suite>/`) and MLflow-safe (no '@').
"""

from __future__ import annotations

import re

TRAIN_METRICS = (
    "train/pass_rate",
    "train/reward",
    "train/kl",
    "train/completion_length",
    "train/loss",
    "train/aux_nll",
    "train/k_mean",
    "train/rescued_frac",
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
