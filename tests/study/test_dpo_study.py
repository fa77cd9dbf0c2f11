"""The dpo_pairs study end to end on real Ray, TRL DPO and MLflow (smoke budget): the base-model arm and
four DPO conditions on one shared, cached pair pool, DPO metrics per evaluation point, per-task
head-to-head against the base model in the report and MLflow."""

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


def test_dpo_pairs_smoke_study(tmp_path: Path, cache_dir: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "study.run", "--space", "dpo_pairs", "--smoke", "--seeds", "2",
           "--out", str(out), "--cache-dir", str(cache_dir)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = pd.read_csv(out / "outcomes.csv")
    assert set(table.condition) == {"p0", "p120", "p500", "p1k", "p2k"}
    assert set(table[table.condition == "p0"].iteration) == {0}  # the base model, once per seed
    pools = {json.loads((t / "pairs.json").read_text())["pool"] for t in (out / "trials").iterdir()
             if (t / "pairs.json").is_file()}  # fmt: skip
    assert len(pools) == 1  # every DPO trial drew its pairs from the same cached pool
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("dpo_pairs")
    runs = [r for r in client.search_runs([exp.experiment_id], max_results=100)
            if r.data.tags.get("codeablate.kind") == "trial"]  # fmt: skip
    assert len(runs) == 10
    dpo = [r for r in runs if r.data.params["trainable"] == "dpo"]
    assert all(
        {"train/reward_margin", "train/logp_chosen", "train/alarm_divergence"} <= set(r.data.metrics) for r in dpo
    )
    result = json.loads((out / "analysis" / "analysis.json").read_text())
    assert {(r["treatment"], r["baseline"]) for r in result["head_to_head_consistent"]} >= {
        ("p120", "p0"),
        ("p2k", "p0"),
    }
    assert (out / "analysis" / "head_to_head.csv").is_file()

    # the trend claim re-run on the same folder: the study is complete, so only the placement runs and logs
    audit = [sys.executable, "-m", "study.audit", "--rerun", "dpo-pairs-slope-15b", "--seeds", "2", "--smoke",
             "--out", str(out)]  # fmt: skip
    proc = subprocess.run(audit, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "trend dpo-pairs-slope-15b: reported -2.00 pp per 500 pairs" in proc.stdout
    assert "MLflow audit run" in proc.stdout
    (audit_run,) = client.search_runs([exp.experiment_id], filter_string="tags.`codeablate.kind` = 'audit'")
    assert audit_run.data.tags["codeablate.claim_id"] == "dpo-pairs-slope-15b"
    assert {"slope_pp", "reported_slope_pp", "n_seeds"} <= set(audit_run.data.metrics)  # smoke: no spread, no CI
    assert audit_run.data.params["audit.trend_level"] == "pairs"
