"""A study whose conditions are of different trainer kinds (an untrained base arm beside GRPO arms), end
to end on real Ray, TRL and MLflow: each arm runs its own kind, and the analysis compares them at their
final evaluations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import REPO

pytestmark = pytest.mark.slow

SPACE = """\
name: mixed
trainable: grpo
seeds: 2
baseline: Base
conditions:
  Base: {trainable: base}
  A: {aux_loss_scale: 0.0}
  C-light: {aux_loss_scale: 0.1}
metrics:
  - {name: eval/transfer/pass_at_1, direction: max}
"""


def test_base_arm_beside_grpo_arms_is_run_and_compared(tmp_path: Path, cache_dir: Path) -> None:
    space = tmp_path / "mixed.yaml"
    space.write_text(SPACE)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "study.run", "--space", str(space), "--smoke", "--out", str(out),
           "--cache-dir", str(cache_dir)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = pd.read_csv(out / "outcomes.csv")
    assert sorted(table[table.condition == "Base"].iteration.unique()) == [0]
    assert sorted(table[table.condition == "A"].iteration.unique()) == [0, 1, 2]
    result = json.loads((out / "analysis" / "analysis.json").read_text())
    pairs = {(r["treatment"], r["baseline"]) for r in result["comparisons"]}
    assert pairs == {("A", "Base"), ("C-light", "Base")}
    assert any("final iterations" in n for n in result["notes"])
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("mixed")
    runs = client.search_runs([exp.experiment_id], max_results=100)
    kinds = {r.data.tags["codeablate.condition"]: r.data.params["trainable"] for r in runs
             if r.data.tags.get("codeablate.kind") in ("condition", "trial")}  # fmt: skip
    assert kinds == {"Base": "base", "A": "grpo", "C-light": "grpo"}
    study = json.loads((out / "study.json").read_text())["study"]
    assert [c["trainable"] for c in study["conditions"]] == ["base", "grpo", "grpo"]
