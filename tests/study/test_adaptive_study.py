"""`study.run --until-resolved` end to end on tiny (smoke): looks run in batches on real Ray + TRL, every
look's decisions are printed, written and logged on the study run, and --resume replays the same looks
without running anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _study(out: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "study.run", "--space", "aux_kl", "--smoke", "--until-resolved", "--seeds", "2",
            "--max-seeds", "3", "--batch", "1", "--out", str(out), "--cache-dir", str(cache), *extra]  # fmt: skip


def test_an_adaptive_study_runs_looks_logs_them_and_resumes_to_the_same_decisions(
    tmp_path: Path, cache_dir: Path
) -> None:
    out = tmp_path / "aux_kl"
    first = subprocess.run(_study(out, cache_dir), cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "look 1: seeds per condition A 2, C-light 2, C-reg 2; 6 trials to run" in first.stdout
    looks = pd.read_csv(out / "adaptive.csv")
    assert set(looks["comparison"]) == {"C-light_vs_A", "C-reg_vs_A", "A_vs_base@0"}
    assert (looks["nominal_p"] <= 0.05).all() and looks["study_look"].max() >= 1
    decided = looks.groupby("comparison").tail(1)["decision"]
    assert decided.isin(["supported", "equivalent", "futile", "unresolved at the maximum"]).all()
    ran = sorted(p.name for p in (out / "trials").iterdir() if (p / "DONE.json").is_file())
    seeds = pd.read_csv(out / "outcomes.csv").groupby("condition")["seed"].nunique()
    assert len(ran) == int(seeds.sum()) and seeds.max() <= 3  # only the trials the looks asked for

    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("aux_kl")
    (study,) = client.search_runs([exp.experiment_id], filter_string="tags.`codeablate.kind` = 'study'")
    assert study.data.params["adaptive"] == '{"start": 2, "batch": 1, "max_seeds": 3}'
    assert {a.path for a in client.list_artifacts(study.info.run_id, "adaptive")} == {
        "adaptive/adaptive.csv", "adaptive/adaptive.png"}  # fmt: skip
    steps = client.get_metric_history(study.info.run_id, "adaptive/C-light_vs_A/delta_pp")
    assert sorted(m.step for m in steps) == sorted(looks.loc[looks.comparison == "C-light_vs_A", "study_look"])

    again = subprocess.run(_study(out, cache_dir, "--resume"), cwd=REPO, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "trials to run" in again.stdout and all("; 0 trials to run" in ln for ln in again.stdout.splitlines()
                                                     if ln.startswith("look") and "trials to run" in ln)  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_csv(out / "adaptive.csv"), looks)  # the same looks, the same decisions
    steps_again = client.get_metric_history(study.info.run_id, "adaptive/C-light_vs_A/delta_pp")
    assert len(steps_again) == len(steps)  # nothing logged twice
