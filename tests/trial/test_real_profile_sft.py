"""The qwen2.5-coder-1.5b profile (seed document 001) through local paths: a random-weight model of the
Qwen2 architecture with a chat template, SFT data from a JSONL file, LiveCodeBench suites from a
folder in the hub's format; a real TRL SFT trial on the CPU, and the study refused when its validation
suite overlaps the reported one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from study.profile import load_profile
from study.resolve import Options, resolve_study
from study.space import load_space
from tests.fixtures.lcb import write_lcb
from tests.trial.local_model import build_local_chat_model
from trainables.common.outcomes import read_outcomes
from trainables.common.reporting import ListReporter
from trainables.kinds import sft

SOLUTIONS = (  # five distinct programs printing c * n for the input n
    "print(int(input()) * {c})\n",
    "n = int(input())\nprint(n * {c})\n",
    "print({c} * int(input()))\n",
    "x = int(input())\nprint(sum([x] * {c}))\n",
    "import sys\n\nprint(int(sys.stdin.readline()) * {c})\n",
)


def write_train(path: Path, n: int = 16) -> Path:
    """`n` stdin problems with five distinct reference solutions each, in the documented JSONL format."""
    rows = [
        {
            "problem_id": f"times{c}",
            "prompt": f"Read an integer n and print n times {c}.",
            "solutions": [s.format(c=c) for s in SOLUTIONS],
            "io": [{"input": f"{x}\n", "output": f"{x * c}\n"} for x in (3, -2)],
        }
        for c in range(2, n + 2)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_profile_mirrors_seed_001() -> None:
    prof = load_profile("qwen2.5-coder-1.5b")
    assert prof.model.source == "Qwen/Qwen2.5-Coder-1.5B-Instruct" and prof.model.chat
    assert prof.data.train_source == "jsonl" and prof.defaults("sft")["examples"] == 5000
    test, val = prof.data.suites
    assert (test.name, val.name) == ("io_test", "io_val") and test.source == val.source == "livecodebench"
    assert test.platforms == ("atcoder",) and str(test.date_from) == "2024-08-01" and str(test.date_to) == "2025-02-28"
    assert val.date_to < test.date_from  # disjoint windows: selection never sees the reported problems
    study = resolve_study(load_space("sft_diversity"), prof, Options(seeds=3), Path("/tmp"), Path("/tmp"))
    shapes = {t.condition: (t.params.n_problems, t.params.solutions_per_problem) for t in study.trials}
    assert shapes == {"deep": (5000, 1), "diverse": (1000, 5), "diverse_dup": (1000, 5)}  # the seed's shapes


def test_sft_trial_runs_from_local_paths(tmp_path: Path, cache_dir: Path) -> None:
    model = build_local_chat_model(tmp_path / "qwen-like")
    lcb = write_lcb(tmp_path / "lcb")
    opts = Options(smoke=True, seeds=1, model=str(model), train_path=write_train(tmp_path / "train.jsonl"), lcb_dir=lcb)
    study = resolve_study(load_space("sft_diversity"), load_profile("qwen2.5-coder-1.5b"), opts, tmp_path, cache_dir)
    cfg = next(t for t in study.trials if t.condition == "diverse")
    cfg = cfg.model_copy(update={"torch_threads": 1, "executor_workers": 1})
    cfg.trial_dir.mkdir(parents=True)
    rep = ListReporter()
    sft.run(cfg, rep, progress=lambda m: None)
    assert [r["iteration"] for r in rep.results] == [0, 1, 2]
    assert rep.results[-1]["train/examples"] == 10 and rep.results[-1]["train/problems"] == 2
    table = read_outcomes(cfg.trial_dir)
    assert set(table.suite) == {"io_test", "io_val"}
    assert set(table[table.suite == "io_test"].problem_id) == {"lcb/abc901_a", "lcb/abc902_a"}
    assert set(table[table.suite == "io_val"].problem_id) == {"lcb/abc900_a"}
    assert (rep.checkpoints[-1] / "adapter_config.json").is_file()


def test_overlapping_validation_suite_is_refused(tmp_path: Path) -> None:
    import subprocess

    lcb = write_lcb(tmp_path / "lcb")
    prof = (Path(__file__).resolve().parents[2] / "profiles" / "qwen2.5-coder-1.5b.yaml").read_text()
    bad = tmp_path / "overlap.yaml"
    bad.write_text(prof.replace("date_to: 2024-07-31", "date_to: 2024-12-31"))  # io_val now reaches into io_test
    train = write_train(tmp_path / "t.jsonl")
    cmd = [sys.executable, "-m", "study.run", "--space", "sft_diversity", "--profile", str(bad), "--smoke",
           "--train-path", str(train), "--lcb-dir", str(lcb), "--out", str(tmp_path / "o")]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "select_on: suite 'io_val' shares 2 problems with 'io_test'" in done.stderr
    assert not (tmp_path / "o").exists()
