"""The profiles of seed document 002 (qwen2.5-coder-3b, starcoder2-15b) through local random-weight models
of their architectures, MBPP from --mbpp-dir: a real TRL DPO trial on the CPU from a pool file of your own
(as the seed's pairs came from another model), every pair re-verified in the sandbox before training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from study.profile import load_profile
from study.resolve import Options, resolve_study
from study.space import load_space
from tests.trial.local_model import build_local_chat_model
from trainables.common.outcomes import read_outcomes
from trainables.common.problems import load_train
from trainables.common.reporting import ListReporter
from trainables.kinds import dpo

PROFILES = {"qwen2.5-coder-3b": ("Qwen/Qwen2.5-Coder-3B-Instruct", "qwen2"),
            "starcoder2-15b": ("bigcode/starcoder2-15b-instruct-v0.1", "starcoder2")}  # fmt: skip


def write_pool(path: Path, problems: list) -> Path:
    """Canonical solution (chosen) against a stub (rejected) per problem, plus one pair that does not hold."""
    stub = "def {}(*args):\n    return None\n"
    rows = [{"task_id": p.problem_id, "style": p.style, "prompt": p.text, "chosen": p.canonical,
             "rejected": stub.format(p.entry_point), "rejected_category": "wrong_answer", "tests": list(p.tests),
             "check": p.check, "entry_point": p.entry_point, "io": [], "setup": p.setup} for p in problems]  # fmt: skip
    rows.append({**rows[0], "chosen": rows[0]["rejected"]})  # its chosen fails: dropped by the re-verification
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_dpo_trial_from_a_local_path_and_a_pool_file(
    name: str, mbpp_dir: Path, tmp_path: Path, cache_dir: Path
) -> None:
    prof = load_profile(name)
    assert prof.model.source == PROFILES[name][0] and prof.model.quantization == "auto"
    model = build_local_chat_model(tmp_path / "model", arch=PROFILES[name][1])
    opts = Options(smoke=True, seeds=1, model=str(model), mbpp_dir=mbpp_dir)
    study = resolve_study(load_space("dpo_pairs"), prof, opts, tmp_path, cache_dir)
    cfg = next(t for t in study.trials if t.condition == "p2k")
    pool = write_pool(tmp_path / "pool.jsonl", list(load_train(cfg.data, mbpp_dir))[:4])
    cfg = cfg.model_copy(update={"params": cfg.params.model_copy(update={"pool_path": str(pool)}),
                                 "torch_threads": 1, "executor_workers": 1})  # fmt: skip
    cfg.trial_dir.mkdir(parents=True)
    rep = ListReporter()
    dpo.run(cfg, rep, progress=lambda m: None)
    assert [r["iteration"] for r in rep.results] == [0, 1, 2]
    assert {"train/reward_margin", "train/logp_chosen"} <= set(rep.results[-1])
    record = json.loads((cfg.trial_dir / "pairs.json").read_text())
    assert record["dropped"] == 1 and record["pairs"] == 4 and record["pairs_asked"] == 2
    table = read_outcomes(cfg.trial_dir)
    assert set(table.suite) == {"transfer", "heldout"}
    assert (rep.checkpoints[-1] / "adapter_config.json").is_file()
