"""Metric names: one scheme for every trainable, the driver and the analysis.

Keys are namespaced and MLflow-safe (no '@'): `train/<name>` (a kind's, listed in its registry entry),
`train/reward/<fn>` (each reward function's mean), `eval/<suite>/<name>` with pass@k written
`pass_at_<k>`. Build and parse eval keys here, nowhere else.
"""

from __future__ import annotations

import re

#: The base model's arm in comparisons ("[A, base@0]"): each seed's iteration-0 outcomes, which every
#: condition of the seed shares; compared with a condition at its final iteration, paired by seed.
BASE_ARM = "base@0"
EVAL_PREFIX = "eval/"
TRAIN_PREFIX = "train/"
_EVAL = re.compile(r"^eval/([a-z0-9_]+)/([a-z0-9_]+)$")
_PASS = re.compile(r"^pass_at_([0-9]+)$")
_REWARD = re.compile(r"^train/reward/[a-z0-9_]+$")
_PROFILE = re.compile(r"^(train|eval/[a-z0-9_]+)/(ruff/[a-z]+|error/[A-Za-z0-9_]+)$")  # diagnostics.profile


def eval_key(suite: str, name: str) -> str:
    """`eval/<suite>/<name>`, e.g. eval_key('heldout', pass_at(1)) = 'eval/heldout/pass_at_1'."""
    return f"{EVAL_PREFIX}{suite}/{name}"


def pass_at(k: int) -> str:
    return f"pass_at_{k}"


def parse_pass_at(metric: str) -> tuple[str, int] | None:
    """(suite, k) of `eval/<suite>/pass_at_<k>`; None for any other name."""
    m = _EVAL.match(metric)
    k = _PASS.match(m.group(2)) if m else None
    return (m.group(1), int(k.group(1))) if m and k else None


EVAL_NAMES = ("completion_length", "format_failure_share", "alarm_broken_eval")
"""Eval metrics of every kind besides pass_at_<k>; a kind adds its extras' names (Kind.eval_metrics)."""


def is_known_metric(name: str) -> bool:
    """Whether a space may name `name` as a metric: a kind's train/ metric, a reward component, or an
    eval metric of some suite."""
    from trainables.kinds import KINDS

    if any(name in k.train_metrics for k in KINDS.values()) or _REWARD.match(name) or _PROFILE.match(name):
        return True
    m = _EVAL.match(name)
    extras = {e for k in KINDS.values() for e in k.eval_metrics}
    return bool(m) and (bool(_PASS.match(m.group(2))) or m.group(2) in {*EVAL_NAMES, *extras})
