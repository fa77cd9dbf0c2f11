"""End to end: `study.audit --rerun` runs the study (real Ray + TRL on the tiny model), places the delta and
logs an audit run under the study run in MLflow; a second call finishes nothing and logs nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from study.audit import main

CLAIM = "spark-clight-vs-a-humaneval-p1"


@pytest.mark.slow
def test_rerun_logs_an_audit_run_linked_to_the_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "study"
    assert main(["--rerun", CLAIM, "--seeds", "2", "--smoke", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"claim {CLAIM}: C-light vs A" in printed and "reported delta     -3.20 pp" in printed
    assert "not the paper's number" in printed and "MLflow audit run" in printed

    doc = json.loads((out / "audit" / f"{CLAIM}.json").read_text())
    placement = doc["placement"]
    assert placement["n_seeds_treatment"] == placement["n_seeds_baseline"] == 2
    assert placement["suite"] == "transfer" and placement["reported_delta_pp"] == pytest.approx(-3.2)

    from mlflow.tracking import MlflowClient

    state = json.loads((out / "study.json").read_text())
    client = MlflowClient(state["tracking_uri"])
    exp = client.get_experiment_by_name("aux_kl")
    audits = client.search_runs([exp.experiment_id], filter_string="tags.`codeablate.kind` = 'audit'")
    assert len(audits) == 1
    run = audits[0]
    assert run.data.tags["codeablate.claim_id"] == CLAIM
    assert run.data.tags["codeablate.study_id"] == state["study_id"]
    parent = client.get_run(run.data.tags["mlflow.parentRunId"])
    assert parent.data.tags["codeablate.kind"] == "study"
    assert run.data.params["claim.reproduce.treatment"] == "C-light"
    assert {"reported_delta_pp", "reproduced_delta_pp", "ci_low_pp", "inside_t_interval"} <= set(run.data.metrics)
    # --smoke: every seed scores the same, so there is no spread to predict from: the bounds are n/a, not 0
    assert "pred_low_pp" in placement and "prediction 95%     [n/a, n/a]" in printed

    assert main(["--rerun", CLAIM, "--seeds", "2", "--smoke", "--out", str(out)]) == 0  # resumes: all trials done
    assert "logged already" in capsys.readouterr().out
    again = client.search_runs([exp.experiment_id], filter_string="tags.`codeablate.kind` = 'audit'")
    assert len(again) == 1

    # A metric claim on the same study: --rerun resumes it (nothing to run), tests the length change by seed,
    # logs its own audit run; --against places it from the study folder next to the outcomes.
    claims = tmp_path / "length.yaml"
    claims.write_text(
        "metrics:\n  - id: smoke-length\n    source: {document: d, table: t}\n    metric: train/completion_length\n"
        "    scale: percent\n    direction: down\n    baseline: {name: it1, value: 182}\n"
        "    treatment: {name: it2, value: 97}\n    reported: -47\n"
        "    reproduce: {space: aux_kl, treatment: C-light, baseline: C-light, baseline_iteration: 1,\n"
        "                treatment_iteration: 2, metric: train/completion_length}\n"
    )
    assert main(["--claims", str(claims), "--rerun", "smoke-length", "--seeds", "2", "--smoke", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (
        "smoke-length: train/completion_length C-light@2 vs C-light@1 (paired by seed)" in printed
        and "MLflow audit run" in printed
    )
    placed = json.loads((out / "audit" / "smoke-length.json").read_text())["placement"]
    assert placed["n_seeds"] == 2 and placed["estimate"] > -100  # a percent change
    metric_audit = client.search_runs([exp.experiment_id], filter_string="tags.`codeablate.claim_id` = 'smoke-length'")
    assert len(metric_audit) == 1
    assert main(["--claims", str(claims), "--against", str(out / "outcomes.csv")]) == 0
    assert "smoke-length: train/completion_length C-light@2 vs C-light@1" in capsys.readouterr().out
