"""Claims about metrics beyond pass@k (KL growth, completion length, "no gain in correctness"): the
registry encodes the seed documents' ones, the numbers are checked, and a re-run tests the direction on
the log scale (ratios, percents) or as is (deltas), paired by seed within one condition."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import stats

from analysis.audit_metric import audit_metric_numbers, place_metric
from analysis.claims import MetricClaim
from study.audit import CLAIMS_DIR, load_metric_claims, main


def _claim(**kw: object) -> MetricClaim:
    body = {"id": "m", "source": {"document": "d", "table": "t"}, "metric": "train/kl", "scale": "ratio",
            "direction": "up", "baseline": {"name": "it1", "value": 0.00021},
            "treatment": {"name": "it3", "value": 0.0941}, "reported": 450,
            "reproduce": {"space": "aux_kl", "treatment": "C-light", "baseline": "C-light",
                          "baseline_iteration": 1, "treatment_iteration": 3, "metric": "train/kl"}}  # fmt: skip
    body.update(kw)
    return MetricClaim.model_validate(body)


def _values(per_arm: dict[tuple[str, int], list[float]], metric: str = "train/kl") -> pd.DataFrame:
    rows = [{"condition": c, "seed": s, "iteration": it, "metric": metric, "value": v}
            for (c, it), vals in per_arm.items() for s, v in enumerate(vals)]  # fmt: skip
    return pd.DataFrame(rows)


def test_the_registry_holds_the_seed_documents_diagnostic_claims() -> None:
    ids = {m.id for m in load_metric_claims(CLAIMS_DIR)}
    assert {"spark-clight-kl-growth", "spark-clight-kl-vs-a", "spark-clight-length-collapse",
            "rlvr-ruff-only-shorter", "rlvr-ruff-only-no-gain"} <= ids  # fmt: skip
    numbers = audit_metric_numbers(_claim())
    assert numbers["implied"] == pytest.approx(0.0941 / 0.00021) and "cannot test" in numbers["verdict"]


def test_the_default_audit_lists_metric_claims(capsys) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "spark-clight-kl-vs-a: train/kl up, ratio stated 88, implied by the values 85.5" in out


def test_a_within_run_ratio_is_a_paired_t_test_on_the_logs() -> None:
    it1, it3 = [0.001, 0.002, 0.0015, 0.003], [0.01, 0.05, 0.02, 0.04]
    placed = place_metric(_claim(), _values({("C-light", 1): it1, ("C-light", 3): it3}))
    d = np.log(it3) - np.log(it1)
    ref = stats.ttest_1samp(d, 0.0)
    assert placed["paired"] is True and placed["n_seeds"] == 4
    assert placed["p"] == pytest.approx(ref.pvalue)
    assert placed["estimate"] == pytest.approx(math.exp(d.mean()))
    assert placed["ci_low"] == pytest.approx(math.exp(ref.confidence_interval().low))
    assert placed["verdict"].startswith("reproduced: up")
    assert placed["inside_prediction"] is False  # x450 is far beyond where one seed's ratio (about x17) falls


def test_between_conditions_is_welch_and_the_direction_can_be_contradicted() -> None:
    claim = _claim(reproduce={"space": "aux_kl", "treatment": "C-light", "baseline": "A", "metric": "train/kl"})
    a, b = [0.02, 0.03, 0.025], [0.004, 0.005, 0.006]
    placed = place_metric(claim, _values({("A", 3): a, ("C-light", 3): b}))
    ref = stats.ttest_ind(np.log(b), np.log(a), equal_var=False)
    assert placed["paired"] is False and placed["p"] == pytest.approx(ref.pvalue)
    assert placed["verdict"].startswith("contradicted")


def test_no_rise_needs_the_interval_below_the_margin() -> None:
    claim = _claim(metric="eval/heldout/pass_at_1", scale="delta", direction="not_up", margin=0.02, reported=None,
                   baseline={"name": "base"}, treatment={"name": "ruff"},
                   reproduce={"space": "reward_mix", "treatment": "ruff-grpo", "baseline": "ruff-grpo",
                              "baseline_iteration": 0, "metric": "eval/heldout/pass_at_1"})  # fmt: skip
    flat = {("ruff-grpo", 0): [0.40, 0.41, 0.39, 0.40, 0.42], ("ruff-grpo", 3): [0.40, 0.40, 0.40, 0.41, 0.41]}
    assert place_metric(claim, _values(flat, "eval/heldout/pass_at_1"))["verdict"].startswith("reproduced: no rise")
    rise = {("ruff-grpo", 0): [0.40, 0.41, 0.39, 0.40, 0.42], ("ruff-grpo", 3): [0.50, 0.52, 0.49, 0.51, 0.50]}
    assert place_metric(claim, _values(rise, "eval/heldout/pass_at_1"))["verdict"].startswith("contradicted")


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"direction": "not_up"}, "needs a margin"),
        ({"baseline": {"name": "it1", "value": 0.0}}, "positive values"),
        ({"scale": "log"}, "scale"),
    ],
)
def test_a_malformed_metric_claim_names_its_field(change: dict, needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        _claim(**change)


def test_a_metric_claim_naming_no_condition_of_its_space_is_one_line(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "metrics:\n  - id: x\n    source: {document: d, table: t}\n    metric: train/kl\n    scale: ratio\n"
        "    direction: up\n    baseline: {name: a}\n    treatment: {name: b}\n"
        "    reproduce: {space: aux_kl, treatment: Z, baseline: A, metric: train/kl}\n"
    )
    with pytest.raises(SystemExit) as exc:
        main(["--claims", str(bad)])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "metrics.0.reproduce.treatment: 'Z' is not a condition of aux_kl" in err
