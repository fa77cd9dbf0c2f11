"""Every malformed claim file, and every --rerun that cannot run, gets one line naming the file and field
(or why), and exit code 2."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from study.audit import main
from tests.conftest import REPO

GOOD = """
claims:
  - id: good
    source: {document: doc, table: t1}
    benchmark: HumanEval
    metric: pass@1
    n_problems: 164
    samples_per_problem: 1
    seeds: 1
    baseline: {name: base, passed: 138}
    treatment: {name: dpo, passed: 135}
    improved: [HumanEval/116, HumanEval/122]
    regressed: 5
    both_pass: 133
    both_fail: 24
    reproduce: {space: aux_kl, treatment: C-light, baseline: A, metric: eval/transfer/pass_at_1}
"""

# (case id, old, new, substrings of the one-line error); old=None replaces the whole text with new
CASES = [
    ("missing_id", "  - id: good\n    source", "  - source", ["claims.0.id", "Field required"]),
    ("unknown_field", "    seeds: 1\n", "    seeds: 1\n    n_problem: 3\n", ["claims.0.n_problem", "unknown key"]),
    ("passed_gt_n", "passed: 135}", "passed: 170}", ["claims.0.treatment.passed", "more than n_problems 164"]),
    ("passed_and_value", "passed: 138}", "passed: 138, value: 0.84}", ["claims.0.baseline", "not both"]),
    ("negative_count", "passed: 138}", "passed: -1}", ["claims.0.baseline.passed", "greater than or equal to 0"]),
    ("negative_flips", "regressed: 5", "regressed: -5", ["claims.0.regressed.count", "greater than or equal"]),
    ("cells_not_n", "both_fail: 24", "both_fail: 20", ["improved+regressed+both_pass+both_fail", "not n_problems"]),
    ("net_disagrees", "regressed: 5", "regressed: 6", ["claims.0.improved/regressed", "disagree"]),
    (
        "both_pass_off",
        "both_pass: 133\n    both_fail: 24",
        "both_pass: 132\n    both_fail: 25",
        ["claims.0.both_pass", "baseline.passed is 138"],
    ),
    ("ids_exceed_count", "regressed: 5", "regressed: {count: 1, ids: [a, b]}", ["claims.0.regressed", "lists 2"]),
    ("one_side_flips", "    regressed: 5\n", "", ["claims.0.regressed", "give both"]),
    ("space_unknown", "space: aux_kl", "space: nope", ["claims.0.reproduce.space", "no search space 'nope'"]),
    ("condition_unknown", "baseline: A, metric", "baseline: Z, metric", ["claims.0.reproduce.baseline", "'Z'"]),
    ("metric_unknown", "eval/transfer/pass_at_1}", "eval/x/pass_at_1}", ["claims.0.reproduce.metric", "use one of"]),
    ("same_conditions", "treatment: C-light,", "treatment: A,", ["claims.0.reproduce", "both 'A'"]),
    ("negative_iteration", "baseline: A,", "baseline: A, baseline_iteration: -1,", ["reproduce.baseline_iteration"]),
    (
        "trainable_mismatch",
        "metric: eval/transfer/pass_at_1}",
        "metric: eval/transfer/pass_at_1, trainable: sft}",
        ["claims.0.reproduce.trainable", "grpo"],
    ),
    ("bad_metric", "metric: pass@1", "metric: accuracy", ["claims.0.metric", "not pass@k"]),
    ("k_gt_samples", "metric: pass@1", "metric: pass@5", ["claims.0.metric", "samples_per_problem"]),
    ("count_from_rates", "samples_per_problem: 1", "samples_per_problem: 5", ["claims.0.baseline.passed", "use value"]),
    ("sd_one_seed", "passed: 135}", "passed: 135, sd: 0.01}", ["claims.0.treatment.sd", "seeds >= 2"]),
    ("bad_assumed", "    seeds: 1\n", "    seeds: 1\n    assumed: [colour]\n", ["claims.0.assumed", "colour"]),
    ("bad_id", "id: good", "id: Good Claim", ["claims.0.id", "pattern"]),
    ("zero_problems", "n_problems: 164", "n_problems: 0", ["claims.0.n_problems"]),
    ("bad_yaml", None, "claims:\n  - id: x\n   source: [\n", ["YAML syntax error"]),
    ("not_mapping", None, "- a\n- b\n", ["expected a mapping"]),
    ("empty_claims", None, "claims: []\n", ["holds no claims", "add claims:, trends: or metrics:"]),
    ("value_over_one", "passed: 138}", "value: 84.1}", ["claims.0.baseline.value", "less than or equal to 1"]),
]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return int(exc.value.code), capsys.readouterr().err.strip()


def test_good_claim_file_audits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(textwrap.dedent(GOOD))
    assert main(["--claims", str(path)]) == 0
    assert "good" in capsys.readouterr().out


@pytest.mark.parametrize(("old", "new", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_claim_is_one_line_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str | None, new: str, needles: list[str]
) -> None:
    text = textwrap.dedent(GOOD)
    if old is None:
        text = new
    else:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "claims.yaml"
    path.write_text(text)
    code, err = _run(["--claims", str(path)], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert str(path) in err
    for needle in needles:
        assert needle in err, err


def test_duplicate_ids_across_files_name_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(textwrap.dedent(GOOD))
    code, err = _run(["--claims", str(tmp_path)], capsys)
    assert code == 2 and "b.yaml: claims.0.id: 'good'" in err and "a.yaml" in err


@pytest.mark.parametrize(
    ("claim_id", "needles"),
    [
        ("no-such-claim", ["unknown claim 'no-such-claim'", "dpo2k-3b"]),
        ("base3b-reeval", ["no reproduce block", "spark-clight-humaneval-p1"]),
    ],
)
def test_rerun_that_cannot_run_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], claim_id: str, needles: list[str]
) -> None:
    code, err = _run(["--rerun", claim_id, "--seeds", "2"], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--seeds", "0"], "--seeds"),
        (["--seeds", "2"], "only applies with --rerun"),
        (["--smoke"], "--smoke"),
        (["--against", "/nowhere/outcomes.csv"], "--against: no outcomes table at /nowhere/outcomes.csv"),
        (["--against", "/nowhere/o.csv", "--rerun", "x"], "drop --rerun or --against"),
    ],
)
def test_bad_flag_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, err = _run(argv, capsys)
    assert code == 2 and needle in err and len(err.splitlines()) == 1


def test_malformed_claim_in_a_real_subprocess(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(textwrap.dedent(GOOD).replace("passed: 135}", "passed: 170}"))
    proc = subprocess.run(
        [sys.executable, "-m", "study.audit", "--claims", str(path)], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "claims.0.treatment.passed" in lines[0]
