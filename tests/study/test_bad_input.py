"""Every broken space file and bad flag gets one clear line naming where and the fix, and exit code 2,
before Ray starts and before anything is written."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from study.run import main
from tests.conftest import REPO

GOOD = """
name: t
trainable: grpo
seeds: 2
baseline: A
conditions:
  A: {kl_coeff: 0.01}
  B: {kl_coeff: 0.02}
metrics:
  - {name: eval/heldout/pass_at_1, direction: max}
"""

# (case id, YAML text, substrings the one-line error must contain)
SPACE_CASES = [
    ("best_as_baseline", GOOD + "comparisons: [[A, B@best]]\n", ["comparisons.0", "is picked", "put it first"]),
    ("iteration_arm_unknown", GOOD + "comparisons: [[Z@2, A]]\n", ["comparisons.0: 'Z@2' is not a condition"]),
    ("yaml_syntax", "name: t\n  trainable: [grpo\n", ["YAML syntax error", "fix the indentation"]),
    ("not_a_mapping", "- a\n- b\n", ["expected a mapping"]),
    ("unknown_top_key", GOOD + "seed: 3\n", ["seed: unknown key", "remove it or check its spelling"]),
    ("missing_trainable", GOOD.replace("trainable: grpo\n", ""), ["trainable: Field required", "add it"]),
    (
        "bad_trainable",
        GOOD.replace("trainable: grpo", "trainable: ppo"),
        ["trainable:", "unknown trainer kind 'ppo'", "valid: grpo"],
    ),
    (
        "bad_condition_kind",
        GOOD.replace("conditions:\n", "conditions:\n  Z: {trainable: rl}\n"),
        ["conditions.Z.trainable:", "unknown trainer kind 'rl'", "valid: grpo"],
    ),
    (
        "reserved_kind_key",
        GOOD.replace("conditions:\n", "conditions:\n  Z: {kind: grpo}\n"),
        ["conditions.Z.kind:", "unknown parameter of grpo"],
    ),
    (
        "unknown_reward",
        GOOD.replace("conditions:\n", "conditions:\n  Z: {rewards: {exac: 1.0}}\n"),
        ["unknown reward function 'exac'", "did you mean 'exec'"],
    ),
    ("baseline_unknown", GOOD.replace("baseline: A", "baseline: Z"), ["baseline: 'Z'", "use one of: A, B"]),
    (
        "factor_name_clash",
        GOOD + "factors: {x: {A: {lr: 1.0e-5}}}\n",
        ["factors: the combination 'A' is also a named condition", "rename one"],
    ),
    (
        "factor_key_clash",
        GOOD + "factors: {x: {p: {lr: 1.0e-5}}, y: {q: {lr: 2.0e-5}}}\n",
        ["factors: level 'q' sets lr, which another factor sets"],
    ),
    (
        "ruff_category",
        GOOD.replace("B: {kl_coeff: 0.02}", "B: {ruff_weights: {styling: 1.0}}"),
        ["conditions.B.ruff_weights", "unknown category 'styling'"],
    ),
    (
        "unknown_param",
        GOOD.replace("B: {kl_coeff: 0.02}", "B: {aux_scale: 0.1}"),
        ["conditions.B.aux_scale", "did you mean 'aux_loss_scale'"],
    ),
    ("wrong_type", GOOD.replace("B: {kl_coeff: 0.02}", "B: {kl_coeff: high}"), ["conditions.B.kl_coeff"]),
    ("negative", GOOD.replace("B: {kl_coeff: 0.02}", "B: {kl_coeff: -1}"), ["conditions.B.kl_coeff"]),
    ("unknown_shared_param", GOOD + "params: {learning_rate: 0.1}\n", ["params.learning_rate", "did you mean 'lr'"]),
    ("zero_seeds", GOOD.replace("seeds: 2", "seeds: 0"), ["seeds", "at least 1"]),
    ("dup_seeds", GOOD.replace("seeds: 2", "seeds: [1, 1]"), ["seeds", "distinct"]),
    ("cmp_unknown", GOOD + "comparisons: [[B, Q]]\n", ["comparisons.0: 'Q' is not a condition"]),
    ("cmp_self", GOOD + "comparisons: [[B, B]]\n", ["comparisons.0", "with itself"]),
    ("cmp_base_first", GOOD + "comparisons: [[base@0, B]]\n", ["comparisons.0", "write [B, base@0]"]),
    ("metric_unknown", GOOD.replace("eval/heldout/pass_at_1", "pass@1"), ["metrics.0.name", "unknown metric"]),
    ("metrics_empty", GOOD.split("metrics:")[0] + "metrics: []\n", ["metrics", "add at least one entry"]),
    ("no_conditions", GOOD.replace("  A: {kl_coeff: 0.01}\n  B: {kl_coeff: 0.02}\n", "  {}\n"), ["conditions"]),
    ("grid_empty", GOOD + "grid: {lr: []}\n", ["grid.lr", "empty list"]),
    ("grid_unknown", GOOD + "grid: {lrate: [0.1]}\n", ["grid.lrate", "did you mean 'lr'"]),
    (
        "grid_and_optuna",
        GOOD + "grid: {lr: [0.1]}\noptuna: {num_configs: 2, params: {lr: {type: float, low: 0.1, high: 1}}}\n",
        ["optuna", "not both"],
    ),
    (
        "optuna_bounds",
        GOOD + "optuna: {num_configs: 2, params: {lr: {type: float, low: 1, high: 0.1}}}\n",
        ["optuna.params.lr", "low < high"],
    ),
]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err.strip()
    return int(exc.value.code), err


@pytest.mark.parametrize(("text", "needles"), [c[1:] for c in SPACE_CASES], ids=[c[0] for c in SPACE_CASES])
def test_broken_space_file_is_one_line_exit_2(tmp_path: Path, capsys, text: str, needles: list[str]) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(textwrap.dedent(text))
    out = tmp_path / "out"
    code, err = _run(["--space", str(space), "--out", str(out)], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and str(space) in err
    for needle in needles:
        assert needle in err, err
    assert not out.exists()


FLAG_CASES = [
    ("batch_without_adaptive", ["--space", "aux_kl", "--batch", "2"], ["only with --until-resolved"]),
    ("adaptive_one_seed", ["--space", "aux_kl", "--until-resolved", "--seeds", "1"], ["2 <= --seeds <= --max-seeds"]),
    ("adaptive_start_over_max", ["--space", "aux_kl", "--until-resolved", "--max-seeds", "2"], ["--max-seeds (2)"]),
    ("unknown_space", ["--space", "nope"], ["no space file 'nope'", "available: aux_kl"]),
    ("unknown_profile", ["--space", "aux_kl", "--profile", "gpt5"], ["unknown profile 'gpt5'", "tiny"]),
    ("seeds_zero", ["--space", "aux_kl", "--seeds", "0"], ["--seeds", "at least 1"]),
    ("seeds_text", ["--space", "aux_kl", "--seeds", "three"], ["--seeds", "not a whole number"]),
    ("concurrency", ["--space", "aux_kl", "--max-concurrent", "-1"], ["--max-concurrent"]),
    ("unknown_flag", ["--space", "aux_kl", "--sed", "3"], ["unrecognized arguments: --sed 3", "--help"]),
    ("missing_space", [], ["--space", "required"]),
    ("bad_sandbox", ["--space", "aux_kl", "--sandbox", "none"], ["--sandbox", "invalid choice"]),
]


@pytest.mark.parametrize(("argv", "needles"), [c[1:] for c in FLAG_CASES], ids=[c[0] for c in FLAG_CASES])
def test_bad_flag_is_one_line_exit_2(tmp_path: Path, capsys, argv: list[str], needles: list[str]) -> None:
    code, err = _run([*argv, "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    assert not (tmp_path / "out").exists()


def test_resume_without_study_is_refused(tmp_path: Path, capsys) -> None:
    code, err = _run(["--space", "aux_kl", "--out", str(tmp_path / "none"), "--resume"], capsys)
    assert code == 2 and "no study in" in err and "drop --resume" in err


def test_existing_study_needs_resume(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "study.json").write_text('{"study_id": "x", "trial_keys": []}')
    code, err = _run(["--space", "aux_kl", "--out", str(out)], capsys)
    assert code == 2 and "holds a study already" in err and "--resume" in err


def test_missing_mbpp_names_the_fix(tmp_path: Path, capsys) -> None:
    argv = ["--space", "aux_kl", "--profile", "qwen2.5-coder-3b", "--mbpp-dir", str(tmp_path / "nowhere")]
    code, err = _run([*argv, "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "sanitized-mbpp.json" in err and "--mbpp-dir" in err
    assert not (tmp_path / "out").exists()


def test_gpu_profile_without_gpu_is_refused(tmp_path: Path, capsys, mbpp_dir: Path) -> None:
    argv = ["--space", "aux_kl", "--profile", "qwen2.5-coder-3b", "--mbpp-dir", str(mbpp_dir)]
    code, err = _run([*argv, "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "needs 1 GPU per trial" in err and "--address" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("flags", "needles"),
    [
        (
            ["--cpus-per-trial", "64"],
            ["a trial needs 64 CPU and 0 GPU, more than this machine has", "--cpus-per-trial"],
        ),
        (["--gpus-per-trial", "1.5"], ["--gpus-per-trial", "a fraction of one GPU"]),
        (["--gpus-per-trial", "0.5"], ["needs 0.5 GPU per trial", "--gpus-per-trial"]),
        (["--address", "127.0.0.1:9"], ["--address: cannot join a Ray cluster at 127.0.0.1:9", "ray start --head"]),
    ],
    ids=["cpus", "gpu-1.5", "gpu-none", "address"],
)
def test_resources_no_node_could_hold_are_refused(tmp_path: Path, capsys, flags: list[str], needles: list[str]) -> None:
    code, err = _run(["--space", "aux_kl", "--smoke", "--out", str(tmp_path / "out"), *flags], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and all(n in err for n in needles), err
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_an_unreachable_tracking_server_is_one_line(tmp_path: Path, capsys) -> None:
    code, err = _run(["--space", "aux_kl", "--smoke", "--out", str(tmp_path / "o"), "--tracking-uri",
                      "http://127.0.0.1:9"], capsys)  # fmt: skip
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "MLflow at http://127.0.0.1:9 is unreachable" in err and "--resume" in err


def test_cli_process_exit_code_is_2(tmp_path: Path) -> None:
    """The real command, as a user runs it: exit status 2 and one line on stderr."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("B: {kl_coeff: 0.02}", "B: {klcoeff: 0.02}"))
    proc = subprocess.run(
        [sys.executable, "-m", "study.run", "--space", str(bad), "--out", str(tmp_path / "o")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "conditions.B.klcoeff: unknown parameter of grpo; did you mean 'kl_coeff'?" in proc.stderr
