"""The whole path on the tiny profile with --smoke: real Ray Tune, real TRL GRPO, real MLflow store.

Asserts the run tree (study -> condition -> seed trial), params, per-iteration metrics, per-problem
outcome tables, the summary; and that resuming an interrupted study runs and logs nothing twice.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import REPO

pytestmark = pytest.mark.slow

SPACE = "aux_kl"
CONDITIONS = {"A", "C-light", "C-reg"}


def _study(out: Path, cache: Path, *extra: str, seeds: int = 2) -> list[str]:
    return [
        sys.executable,
        "-m",
        "study.run",
        "--space",
        SPACE,
        "--smoke",
        "--seeds",
        str(seeds),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        *extra,
    ]


def _runs(out: Path) -> tuple[MlflowClient, list]:
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name(SPACE)
    return client, client.search_runs([exp.experiment_id], max_results=1000)


def _kind(runs: list, kind: str) -> list:
    return [r for r in runs if r.data.tags.get("codeablate.kind") == kind]


@pytest.fixture(scope="module")
def finished_study(
    tmp_path_factory: pytest.TempPathFactory, cache_dir: Path
) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("study") / "aux_kl"
    proc = subprocess.run(_study(out, cache_dir), cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc


def test_run_tree_is_study_condition_trial(finished_study) -> None:
    out, _ = finished_study
    _, runs = _runs(out)
    (study,) = _kind(runs, "study")
    conditions = _kind(runs, "condition")
    trials = _kind(runs, "trial")
    assert {c.data.tags["codeablate.condition"] for c in conditions} == CONDITIONS
    assert all(c.data.tags["mlflow.parentRunId"] == study.info.run_id for c in conditions)
    assert len(trials) == 6  # 3 conditions x 2 seeds
    by_id = {c.info.run_id: c.data.tags["codeablate.condition"] for c in conditions}
    for t in trials:
        assert by_id[t.data.tags["mlflow.parentRunId"]] == t.data.tags["codeablate.condition"]
        assert t.info.status == "FINISHED"
        assert t.info.run_name.startswith(f"{SPACE}__{t.data.tags['codeablate.condition']}__s")
    assert study.info.status == "FINISHED"


def test_trial_params_carry_config_seed_and_provenance(finished_study) -> None:
    out, _ = finished_study
    _, runs = _runs(out)
    for t in _kind(runs, "trial"):
        p = t.data.params
        assert p["seed"] in {"0", "1"}
        assert len(p["git_sha"]) >= 7 and p["version.trl"] and p["version.ray"]
        assert len(p["data.train_sha256"]) == 64 and len(p["space_sha256"]) == 64
        assert p["sandbox.isolation"] == "strict" and "landlock" in p["sandbox.features"]
        assert p["params.kl_coeff"] in {"0.01", "0.02"} and "params.aux_loss_scale" in p
        assert p["trial_key"].startswith(t.data.tags["codeablate.condition"] + "__s" + p["seed"])
        node = json.loads((out / "trials" / p["trial_key"] / "node.jsonl").read_text().splitlines()[0])
        assert t.data.tags["codeablate.ray_node_id"] == node["ray_node_id"] and len(node["ray_node_id"]) == 56
        assert t.data.tags["codeablate.ray_host"] == node["ray_host"] == socket.gethostname()


def test_metrics_per_iteration_without_duplicates(finished_study) -> None:
    out, _ = finished_study
    client, runs = _runs(out)
    for t in _kind(runs, "trial"):
        for key in ("eval/transfer/pass_at_1", "eval/heldout/pass_at_5"):
            steps = [m.step for m in client.get_metric_history(t.info.run_id, key)]
            assert steps == [0, 1, 2], (key, steps)  # smoke: eval at start + 2 iterations
        for key in ("train/kl", "train/pass_rate", "train/completion_length"):
            steps = [m.step for m in client.get_metric_history(t.info.run_id, key)]
            assert steps == [1, 2], (key, steps)


def test_condition_runs_carry_mean_and_sd(finished_study) -> None:
    out, _ = finished_study
    _, runs = _runs(out)
    for c in _kind(runs, "condition"):
        m = c.data.metrics
        assert m["n_seeds"] == 2
        assert 0.0 <= m["eval/transfer/pass_at_1"] <= 1.0 and "eval/transfer/pass_at_1_sd" in m


def test_outcome_tables_are_tidy_and_complete(finished_study) -> None:
    out, _ = finished_study
    table = pd.read_csv(out / "outcomes.csv")
    assert {"condition", "seed", "iteration", "suite", "problem_id", "sample", "passed"} <= set(table.columns)
    # 3 conditions x 2 seeds x 3 evaluations x 2 suites x 4 problems x 5 samples
    assert len(table) == 3 * 2 * 3 * 2 * 4 * 5
    assert not table.duplicated(["condition", "seed", "iteration", "suite", "problem_id", "sample"]).any()
    assert len(list((out / "base_eval").iterdir())) == 2  # iteration 0 evaluated once per seed, not per condition
    families = table.groupby("problem_id")["cluster"].agg(set)  # the tiny suites declare their task families
    assert all(len(f) == 1 and next(iter(f)) for f in families)
    at0 = table[table.iteration == 0].pivot_table(index=["seed", "suite", "problem_id", "sample"],
                                                  columns="condition", values="passed")  # fmt: skip
    assert (at0.nunique(axis=1) == 1).all()  # every condition of a seed starts from the same evaluation
    client, runs = _runs(out)
    t = _kind(runs, "trial")[0]
    names = {a.path for a in client.list_artifacts(t.info.run_id)}
    assert {"outcomes.csv", "config.json", "results.jsonl"} <= names
    assert (out / "mlartifacts" / t.info.run_id / "artifacts" / "outcomes.csv").is_file()  # under --out
    assert not (REPO / "mlruns").exists() or not list((REPO / "mlruns").glob(f"*/{t.info.run_id}"))


def test_summary_printed_and_saved_with_ui_command(finished_study) -> None:
    out, proc = finished_study
    assert "== Summary" in proc.stdout and "vs A" in proc.stdout
    assert f"mlflow ui --backend-store-uri sqlite:///{out / 'mlflow.db'}" in proc.stdout
    assert re.search(
        r"MLflow: http://127\.0\.0\.1:5000/#/experiments/\d+/runs\?workflowType=machine_learning after", proc.stdout
    )
    assert "done," in proc.stdout and "eta" in proc.stdout  # progress lines
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.condition) == CONDITIONS and (summary.n_seeds == 2).all()


def test_resume_after_interruption_logs_nothing_twice(tmp_path: Path, cache_dir: Path) -> None:
    out = tmp_path / "aux_kl"
    proc = subprocess.Popen(
        _study(out, cache_dir, "--max-concurrent", "1"),
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and len(list(out.glob("trials/*/DONE.json"))) < 2:
        time.sleep(1)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the middle of the third trial
    proc.wait(timeout=120)
    done_before = {p.parent.name: p.stat().st_mtime for p in out.glob("trials/*/DONE.json")}
    assert 2 <= len(done_before) < 6

    again = subprocess.run(_study(out, cache_dir, "--resume"), cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    done_after = {p.parent.name: p.stat().st_mtime for p in out.glob("trials/*/DONE.json")}
    assert len(done_after) == 6
    for key, mtime in done_before.items():
        assert done_after[key] == mtime  # finished trials were not run again
    client, runs = _runs(out)
    trials = _kind(runs, "trial")
    keys = [t.data.tags["codeablate.trial_key"] for t in trials]
    assert len(keys) == len(set(keys)) == 6  # one MLflow run per trial key
    assert len(_kind(runs, "study")) == 1 and len(_kind(runs, "condition")) == 3
    for t in trials:
        steps = [m.step for m in client.get_metric_history(t.info.run_id, "eval/transfer/pass_at_1")]
        assert sorted(steps) == [0, 1, 2], steps  # each once; a resumed trial may log an earlier step last
        assert t.info.status == "FINISHED"
    for run in _kind(runs, "condition") + _kind(runs, "study"):  # a summary point is logged again only if it changed
        for key in run.data.metrics:
            values = [m.value for m in client.get_metric_history(run.info.run_id, key)]
            assert all(a != b for a, b in itertools.pairwise(values)), (run.info.run_name, key, values)
    table = pd.read_csv(out / "outcomes.csv")
    assert not table.duplicated(["condition", "seed", "iteration", "suite", "problem_id", "sample"]).any()
    assert sorted(json.loads((out / "study.json").read_text())["trial_keys"]) == sorted(keys)


def test_plan_from_the_study_as_a_pilot(finished_study, tmp_path: Path) -> None:
    """A finished study is a pilot: the plan measures its spread, prices its trials and says it was a smoke run."""
    out, _ = finished_study
    plan = tmp_path / "plan.json"
    argv = ["--space", SPACE, "--pilot", str(out), "--effect", "20", "--sims", "100", "--json", str(plan)]
    proc = subprocess.run([sys.executable, "-m", "study.plan", *argv], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "a --smoke pilot" in proc.stdout and "80% upper bound" in proc.stdout
    report = json.loads(plan.read_text())
    rows = {r["comparison"]: r for r in report["comparisons"]}
    assert set(rows) == {"C-light vs A", "C-reg vs A", "A vs base@0"}
    assert all(r["sd_pp"] >= r["sd_pilot_pp"] for r in rows.values())  # planned at the bound
    cost = report["cost"]["planned (3 seeds)"]
    assert cost["trials"] == 9 and cost["trial_hours"] > 0 and cost["gpu_hours"] == 0  # tiny runs on CPU
