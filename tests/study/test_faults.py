"""Faults a study must survive, through real Ray, TRL, sandbox and MLflow: a trial that raises (the others
finish, the failure is printed with its cause and traceback, the exit code says so, --resume runs only
that trial), and a Ctrl-C that leaves no Ray, trial or sandbox process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from study.orchestrate import FAULT_ENV
from tests.conftest import REPO
from tests.study.processes import leftovers, study_processes

pytestmark = pytest.mark.slow


def _study(out: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "study.run", "--space", "aux_kl", "--smoke", "--seeds", "1", "--out", str(out),
            "--cache-dir", str(cache), *extra]  # fmt: skip


def test_a_trial_that_raises_fails_alone_and_resume_reruns_only_it(tmp_path: Path, cache_dir: Path) -> None:
    out = tmp_path / "aux_kl"
    env = {**os.environ, FAULT_ENV: "C-reg__s0"}
    proc = subprocess.run(_study(out, cache_dir, "--max-failures", "1"), cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    (failed,) = re.findall(r"\| FAILED (C-reg__s0__\w+): .*injected fault.*\(traceback: (\S+)\)", proc.stdout)
    assert Path(failed[1]).is_file() and "RuntimeError: injected fault" in Path(failed[1]).read_text()
    assert re.search(r"\| RETRY C-reg__s0__\w+ \(failure 1\): .*injected fault", proc.stdout)  # retried once first
    assert "1 of 3 trials did not finish; rerun the same command with --resume" in proc.stderr
    done = {p.parent.name: p.stat().st_mtime for p in out.glob("trials/*/DONE.json")}
    assert len(done) == 2 and failed[0] not in done  # the others finished

    again = subprocess.run(_study(out, cache_dir, "--resume"), cwd=REPO, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "3 trials (3 conditions x 1 seeds), 1 to run" in again.stdout
    assert re.findall(r"\| started (\S+)", again.stdout) == [failed[0]]  # only the failed trial ran
    assert all((out / "trials" / k / "DONE.json").stat().st_mtime == m for k, m in done.items())
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("aux_kl")
    runs = client.search_runs([exp.experiment_id], "tags.`codeablate.kind` = 'trial'")
    assert len(runs) == 3 and {r.info.status for r in runs} == {"FINISHED"}  # the failed run, finished on resume


def test_ctrl_c_stops_cleanly_and_leaves_no_process(tmp_path: Path, cache_dir: Path) -> None:
    before = study_processes()
    out = tmp_path / "aux_kl"
    proc = subprocess.Popen(_study(out, cache_dir), cwd=REPO, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline = time.monotonic() + 600
    while not list(out.glob("trials/*/results.jsonl")):  # inside a trial: Ray, its workers and a sandbox are up
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()[-3000:] if proc.stdout else ""
        time.sleep(0.2)
    assert {p for p in study_processes() if p not in before}, "no Ray or sandbox process seen while running"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal signals the whole foreground group
    assert proc.wait(timeout=120) != 0
    left = leftovers(before)
    assert not left, f"left running after Ctrl-C: {left}"
