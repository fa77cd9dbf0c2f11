"""`study.run --until-resolved` end to end on tiny (smoke): looks run in batches on real Ray + TRL, every
look's decisions are printed, written and logged on the study run (and lead its report, whose fixed-sample
verdicts are marked descriptive); --resume replays the same looks without running anything; and a study
joined to a two-node cluster with --address, its driver killed -9 in the middle of a look, resumes to the
same looks and decisions as the uninterrupted run, logging nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from analysis.result import safe_key
from tests.conftest import REPO
from tests.study.processes import trial_workers

pytestmark = pytest.mark.slow


def _study(out: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "study.run", "--space", "aux_kl", "--smoke", "--until-resolved", "--seeds", "2",
            "--max-seeds", "3", "--batch", "1", "--out", str(out), "--cache-dir", str(cache), *extra]  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An adaptive smoke study run start to end: its folder and what it printed."""
    out = tmp_path_factory.mktemp("adaptive") / "aux_kl"
    first = subprocess.run(_study(out, cache_dir), cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    return out, first.stdout


def _history(out: Path, metric: str) -> list[int]:
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("aux_kl")
    (study,) = client.search_runs([exp.experiment_id], filter_string="tags.`codeablate.kind` = 'study'")
    return sorted(m.step for m in client.get_metric_history(study.info.run_id, metric))


def test_an_adaptive_study_runs_looks_logs_them_and_resumes_to_the_same_decisions(
    uninterrupted: tuple[Path, str], cache_dir: Path
) -> None:
    out, printed = uninterrupted
    assert "look 1: seeds per condition A 2, C-light 2, C-reg 2; 6 trials to run" in printed
    assert "== Analysis (fixed-sample, descriptive" in printed
    report = (out / "analysis" / "report.md").read_text()
    assert report.index("Adaptive decisions") < report.index("Verdicts (descriptive")
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
    (analysis,) = client.search_runs([exp.experiment_id], filter_string="tags.`codeablate.kind` = 'analysis'")
    assert analysis.data.params["verdicts"].startswith("descriptive")
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

    rebuilt = subprocess.run([sys.executable, "-m", "study.report", "--study", "aux_kl", "--tracking-uri",
                              f"sqlite:///{out / 'mlflow.db'}", "--out", str(out / "rebuilt")], cwd=REPO,
                             capture_output=True, text=True, timeout=600)  # fmt: skip
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert "Verdicts (descriptive" in (out / "rebuilt" / "report.md").read_text()  # from MLflow alone, too


def test_killed_mid_look_on_a_two_node_cluster_it_resumes_to_the_same_decisions(
    uninterrupted: tuple[Path, str], cluster, cache_dir: Path, tmp_path: Path
) -> None:
    reference, _ = uninterrupted
    expected = pd.read_csv(reference / "adaptive.csv")
    if expected["study_look"].max() < 2:
        pytest.skip("the uninterrupted study decided everything at look 1: no second look to kill")
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    out = tmp_path / "aux_kl"
    log = tmp_path / "driver.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(_study(out, cache_dir, "--address", cluster.address), cwd=REPO,
                                start_new_session=True, stdout=sink, stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 1200
    while "look 2: seeds per condition" not in log.read_text() or not trial_workers(out):  # a look-2 trial runs
        assert proc.poll() is None, f"study ended before look 2 ran:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, "timed out waiting for look 2"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver, mid-look; the cluster lives on
    proc.wait(timeout=60)
    for pid in trial_workers(out):  # a worker Ray had not reaped yet must not write on
        os.kill(pid, signal.SIGKILL)
    assert len(pd.read_csv(out / "adaptive.csv")) < len(expected)  # it really stopped before the end

    again = subprocess.run(_study(out, cache_dir, "--address", cluster.address, "--resume"), cwd=REPO,
                           capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    pd.testing.assert_frame_equal(pd.read_csv(out / "adaptive.csv"), expected)  # the same looks and decisions
    for cmp in expected["comparison"].unique():  # each look logged once on the study run
        steps = _history(out, f"adaptive/{safe_key(cmp)}/delta_pp")
        assert steps == sorted(expected.loc[expected["comparison"] == cmp, "study_look"]), cmp


AA_SPACE = """\
name: aa
description: Two evaluations of the base model, an A/A study (each seed samples alike in both arms).
source: tests
trainable: grpo
seeds: 3
baseline: b0
conditions:
  b0: {trainable: base}
  b1: {trainable: base}
metrics:
  - {name: eval/transfer/pass_at_1, direction: max}
comparisons:
  - [b1, b0]
"""


@pytest.mark.parametrize(
    ("declared", "exit_"), [("equivalence_margin_pp: 5", "equivalent"), ("effect_of_interest_pp: 1", "futile")]
)
def test_a_real_run_stops_on_equivalence_or_futility(
    declared: str, exit_: str, cache_dir: Path, tmp_path: Path
) -> None:
    space = tmp_path / "aa.yaml"  # a full-budget evaluation (smoke runs have no seed spread: no test at all)
    space.write_text(AA_SPACE + f"{declared}\n")
    out = tmp_path / "aa"
    cmd = [sys.executable, "-m", "study.run", "--space", str(space), "--until-resolved", "--seeds", "3",
           "--max-seeds", "5", "--batch", "1", "--out", str(out), "--cache-dir", str(cache_dir)]  # fmt: skip
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (look,) = pd.read_csv(out / "adaptive.csv").itertuples()  # decided at the first look
    assert look.decision == exit_ and look.n_baseline == look.n_treatment == 3 and look.se_pp > 0
    if exit_ == "equivalent":
        assert look.rci_low_pp > -5 and look.rci_high_pp < 5
    else:
        assert look.conditional_power < 0.1
    assert pd.read_csv(out / "outcomes.csv").groupby("condition")["seed"].nunique().to_dict() == {"b0": 3, "b1": 3}
    assert f"b1_vs_b0: {exit_} at 3 vs 3 seeds (look 1)" in run.stdout
