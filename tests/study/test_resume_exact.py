"""Exact resume through the whole stack (real Ray Tune, TRL, sandbox, MLflow): a trial whose worker is
killed -9 at an iteration boundary and again mid-iteration, and a study whose driver is killed -9 and
resumed, give the same per-problem outcome tables as an uninterrupted study, and every iteration is in
each trial's MLflow history exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import REPO
from tests.study.processes import trial_workers

pytestmark = pytest.mark.slow

# One C-light trial (aux phase on), 3 iterations of the tiny budget, fewer eval samples: a study takes ~30 s.
SPACE = """\
name: resume_exact
trainable: grpo
seeds: 1
baseline: C-light
params: {aux_weight_pointwise: 0.0, aux_weight_pairwise: 0.1, aux_weight_reflection: 1.0,
         iterations: 3, steps_per_iteration: 6, eval_samples: 2}
conditions:
  C-light: {aux_loss_scale: 0.1, kl_coeff: 0.01}
metrics:
  - {name: eval/transfer/pass_at_1, direction: max}
"""
KEYS = ["condition", "seed", "iteration", "suite", "problem_id", "sample"]


def _cmd(space: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "study.run", "--space", str(space), "--out", str(out), "--cache-dir", str(cache),
            *extra]  # fmt: skip


def _start(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip


def _iterations(out: Path) -> set[int]:
    """Iterations whose results row the (only) trial has written."""
    rows = [ln for f in out.glob("trials/*/results.jsonl") for ln in f.read_text().splitlines() if ln.strip()]
    return {int(json.loads(r)["iteration"]) for r in rows}


def _wait(cond: Callable[[], bool], proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"study ended early ({proc.returncode}):\n{proc.stdout.read()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the trial")
        time.sleep(0.2)


def _kill_worker(out: Path) -> None:
    pids = trial_workers(out)
    assert pids, "no Ray trial worker found to kill"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def _outcomes(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "outcomes.csv").sort_values(KEYS).reset_index(drop=True)


def _history_steps(out: Path) -> list[int]:
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("resume_exact")
    runs = client.search_runs([exp.experiment_id], "tags.`codeablate.kind` = 'trial'")
    assert len(runs) == 1
    return sorted(m.step for m in client.get_metric_history(runs[0].info.run_id, "eval/transfer/pass_at_1"))


@pytest.fixture(scope="module")
def space(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("space") / "resume_exact.yaml"
    path.write_text(SPACE)
    return path


@pytest.fixture(scope="module")
def reference(space: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("ref") / "study"
    proc = subprocess.run(_cmd(space, out, cache_dir), cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert _history_steps(out) == [0, 1, 2, 3]
    return _outcomes(out)


def test_worker_killed_at_a_boundary_and_mid_iteration_resumes_exactly(space, cache_dir, reference, tmp_path):
    out = tmp_path / "study"
    proc = _start(_cmd(space, out, cache_dir, "--max-failures", "3"))
    _wait(lambda: 1 in _iterations(out), proc)
    _kill_worker(out)  # right after iteration 1 was checkpointed and reported
    _wait(lambda: 2 in _iterations(out), proc)
    time.sleep(1.0)
    assert 3 not in _iterations(out)  # still inside iteration 3 (its GRPO phase alone takes seconds)
    _kill_worker(out)  # inside iteration 3's GRPO phase
    assert proc.wait(timeout=900) == 0, proc.stdout.read()[-3000:]
    printed = proc.stdout.read()
    retries = [ln for ln in printed.splitlines() if "| RETRY " in ln]
    assert len(retries) == 2 and all("(failure " in ln and "traceback:" in ln for ln in retries), printed[-3000:]
    running = [int(m) for m in re.findall(r"done, (\d+) running", printed)]
    assert running and max(running) <= 1  # one trial: never counted twice across its retries
    attempts = [json.loads(ln) for ln in next(out.glob("trials/*/node.jsonl")).read_text().splitlines()]
    assert len(attempts) == 3 and len({a["pid"] for a in attempts}) == 3  # each attempt recorded where it ran
    pd.testing.assert_frame_equal(_outcomes(out), reference)
    assert _history_steps(out) == [0, 1, 2, 3]


def test_driver_killed_then_resumed_gives_the_same_outcomes(space, cache_dir, reference, tmp_path):
    out = tmp_path / "study"
    proc = _start(_cmd(space, out, cache_dir))
    _wait(lambda: 1 in _iterations(out), proc)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and the Ray processes it started
    proc.wait(timeout=60)
    for pid in trial_workers(out):  # a worker Ray had not reaped yet must not write on
        os.kill(pid, signal.SIGKILL)
    again = subprocess.run(_cmd(space, out, cache_dir, "--resume"), cwd=REPO, capture_output=True, text=True,
                           timeout=900)  # fmt: skip
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    pd.testing.assert_frame_equal(_outcomes(out), reference)
    assert _history_steps(out) == [0, 1, 2, 3]
