"""Iteration 0 evaluated once per seed: every condition of a seed starts from the same base model, so
its evaluation is computed by the first trial that needs it and read by the others.

The key is everything the evaluation depends on (seed, model, adapter spec, data, the evaluation
params, the trainer kind, which fixes its extra metrics, and the sandbox mode), hashed; a file lock
makes concurrent trials of one seed wait for the first instead of computing again. On shared storage
(the study's --out) this works across the nodes of a cluster too.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from trainables.common.config import TrialConfig
from trainables.common.outcomes import OUTCOME_COLUMNS
from trainables.common.params import EvalParams

Evaluation = tuple[dict[str, float], list[dict[str, Any]]]  # (metrics, outcome rows)
METRICS = "metrics.json"
ROWS = "outcomes.csv"


def key(cfg: TrialConfig) -> str:
    """What an iteration-0 evaluation depends on, hashed (16 hex)."""
    eval_params = {k: getattr(cfg.params, k) for k in EvalParams.model_fields}
    body = {
        "seed": cfg.seed,
        "kind": cfg.trainable,
        "eval": eval_params,
        "model": cfg.model.model_dump(mode="json"),
        "lora": cfg.lora.model_dump(mode="json"),
        "data": cfg.data.model_dump(mode="json"),
        "sandbox": cfg.sandbox_mode,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def shared(cfg: TrialConfig, compute: Callable[[], Evaluation]) -> tuple[Evaluation, bool]:
    """The iteration-0 evaluation of `cfg`'s seed: computed here, or read from the study's shared folder
    (rows relabelled with this trial's condition). Returns (evaluation, whether it was reused)."""
    if cfg.base_eval_dir is None:
        return compute(), False
    folder = cfg.base_eval_dir / key(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if (folder / METRICS).is_file():
            rows = pd.read_csv(folder / ROWS, keep_default_na=False).to_dict("records")
            metrics = json.loads((folder / METRICS).read_text())
            return (metrics, [{**r, "condition": cfg.condition} for r in rows]), True
        metrics, rows = compute()
        _write(folder / ROWS, lambda tmp: pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS)).to_csv(tmp, index=False))
        _write(folder / METRICS, lambda tmp: tmp.write_text(json.dumps(metrics)))  # last: marks it complete
        return (metrics, rows), False


def _write(path: Path, write: Callable[[Path], Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
