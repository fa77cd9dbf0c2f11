"""The reward_mix study end to end on real Ray, TRL (GRPO, GSPO and SFT) and MLflow (smoke budget): seven
conditions (reward x optimizer crossed, plus the SFT baseline) x 2 seeds; every reward component logged
even at weight 0; GSPO trials train off-policy with sequence-level ratios; the rollouts' and evaluation
samples' diagnostics reach the outcomes, MLflow and the report; the analysis reports the factorial."""

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
RL = [f"{r}-{o}" for r in ("tests", "ruff", "combined") for o in ("grpo", "gspo")]


def test_reward_mix_smoke_study(tmp_path: Path, cache_dir: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "study.run", "--space", "reward_mix", "--smoke", "--seeds", "2",
           "--out", str(out), "--cache-dir", str(cache_dir)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = pd.read_csv(out / "outcomes.csv")
    assert set(table.condition) == {"sft", *RL}
    assert {"completion_tokens", "lint"} <= set(table.columns) and table.completion_tokens.gt(0).all()

    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("reward_mix")
    runs = [r for r in client.search_runs([exp.experiment_id], max_results=100)
            if r.data.tags.get("codeablate.kind") == "trial"]  # fmt: skip
    assert len(runs) == 14
    by_cond = {}
    for r in runs:
        by_cond.setdefault(r.data.tags["codeablate.condition"], []).append(r)
    for cond in RL:
        for r in by_cond[cond]:
            m, p = r.data.metrics, r.data.params
            assert {"train/reward/exec", "train/reward/ruff"} <= set(m)  # both components, even at weight 0
            assert {"train/ruff/correctness", "train/error/pass", "eval/heldout/ruff/suspicious"} <= set(m)
            gspo = cond.endswith("gspo")
            assert p["params.importance_sampling_level"] == ("sequence" if gspo else "token")
            assert p["params.steps_per_generation"] == ("4" if gspo else "None")
    ruff_only = by_cond["ruff-grpo"][0].data.metrics
    assert ruff_only["train/reward"] == pytest.approx(ruff_only["train/reward/ruff"])  # exec at weight 0

    result = json.loads((out / "analysis" / "analysis.json").read_text())
    effects = {r["effect"] for r in result["factorial_anova"] if r["suite"] == "heldout"}
    assert effects == {"reward", "optimizer", "reward x optimizer"}
    contrasts = {r["contrast"] for r in result["factorial_effects"]}
    assert {"ruff - tests", "combined - tests", "gspo - grpo"} <= contrasts
    for name in ("profiles_heldout.png", "profiles_rollouts.png", "factorial_effects.csv"):
        assert (out / "analysis" / name).is_file(), name
