"""Exact resume of a DPO trial through the whole stack (real Ray Tune, TRL DPOTrainer, sandbox, MLflow): a
worker killed -9 right after an evaluation point and again between two points resumes from its TRL
checkpoint and gives the same per-problem outcomes as an uninterrupted trial, each point logged once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import REPO
from tests.study.test_resume_exact import KEYS, _cmd, _iterations, _kill_worker, _start, _wait

pytestmark = pytest.mark.slow

# One DPO trial on the smoke pool's 8 pairs at batch 1: 8 steps, a point every 8/3.
SPACE = """\
name: resume_dpo
trainable: dpo
seeds: 1
baseline: d
params: {pairs: 8, pool_tasks: 16, pool_samples: 6, pool_max_new_tokens: 24, batch_size: 1, eval_points: 3,
         eval_samples: 2, eval_max_new_tokens: 24}
conditions:
  d: {}
metrics:
  - {name: eval/transfer/pass_at_1, direction: max}
"""


def _outcomes(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "outcomes.csv").sort_values(KEYS).reset_index(drop=True)


def _history(out: Path) -> list[int]:
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("resume_dpo")
    (run,) = client.search_runs([exp.experiment_id], "tags.`codeablate.kind` = 'trial'")
    return sorted(m.step for m in client.get_metric_history(run.info.run_id, "eval/transfer/pass_at_1"))


def test_dpo_worker_killed_twice_resumes_exactly(cache_dir: Path, tmp_path: Path) -> None:
    space = tmp_path / "resume_dpo.yaml"
    space.write_text(SPACE)
    ref = tmp_path / "ref"
    done = subprocess.run(_cmd(space, ref, cache_dir), cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert _history(ref) == [0, 1, 2, 3]

    out = tmp_path / "killed"
    proc = _start(_cmd(space, out, cache_dir, "--max-failures", "3"))
    _wait(lambda: 1 in _iterations(out), proc)
    _kill_worker(out)  # right after point 1 was checkpointed and reported
    _wait(lambda: 2 in _iterations(out), proc)
    assert 3 not in _iterations(out)
    _kill_worker(out)  # between points 2 and 3
    assert proc.wait(timeout=900) == 0, proc.stdout.read()[-3000:]
    pd.testing.assert_frame_equal(_outcomes(out), _outcomes(ref))
    assert _history(out) == [0, 1, 2, 3]
