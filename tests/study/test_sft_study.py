"""The sft_diversity study end to end on real Ray, TRL SFT and MLflow (smoke budget): every condition
trains on the same number of verified examples, reports each evaluation point as an iteration with a
TRL checkpoint beside it, and the analysis compares the conditions and deep against the base model."""

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


def test_sft_diversity_smoke_study(tmp_path: Path, cache_dir: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "study.run", "--space", "sft_diversity", "--smoke", "--seeds", "2",
           "--out", str(out), "--cache-dir", str(cache_dir)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = pd.read_csv(out / "outcomes.csv")
    for cond in ("deep", "diverse", "diverse_dup"):
        assert sorted(table[table.condition == cond].iteration.unique()) == [0, 1, 2]
    facts = {}
    for trial in sorted((out / "trials").iterdir()):
        data = json.loads((trial / "sft_data.json").read_text())
        facts[trial.name.split("__")[0]] = data
        rows = [json.loads(line) for line in (trial / "results.jsonl").read_text().splitlines()]
        assert [r["iteration"] for r in rows] == [0, 1, 2]
        assert rows[-1]["train/examples"] == 200 and rows[-1]["train/unverified_solutions"] == 0
        trl = sorted(p.name for p in (trial / "trl").glob("checkpoint-*"))
        assert len(trl) == 2  # one TRL checkpoint per evaluation point
    assert facts["deep"]["train/problems"] == 200 and facts["diverse"]["train/problems"] == 40
    assert len({f["sha256"] for f in facts.values()}) == 3
    assert set(table.suite) == {"io_test", "io_val"}  # the space's profile: stdin/stdout problems
    result = json.loads((out / "analysis" / "analysis.json").read_text())
    assert result["primary_suite"] == "io_test" and result["spec"]["select_on"] == "io_val"
    assert {(r["condition"], r["seed"]) for r in result["selection"] if r["suite"] == "io_test"} == {
        (c, s) for c in ("deep", "diverse", "diverse_dup") for s in (0, 1)
    }
    assert all(r["optimism_pp"] >= 0 for r in result["selection"])
    pairs = {(r["treatment"], r["baseline"]) for r in result["comparisons"]}
    assert pairs == {("diverse", "deep"), ("diverse_dup", "deep"), ("diverse", "diverse_dup"), ("deep", "base@0")}
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("sft_diversity")
    runs = client.search_runs([exp.experiment_id], max_results=100)
    trials = [r for r in runs if r.data.tags.get("codeablate.kind") == "trial"]
    assert len(trials) == 6 and {r.data.params["trainable"] for r in trials} == {"sft"}
    assert all("train/loss" in r.data.metrics for r in trials)
