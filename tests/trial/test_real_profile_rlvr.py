"""The profiles of seed document 003 (qwen3-0.6b, llama3.2-1b) through a local path: a random-weight model
of each architecture with a chat template, MBPP from --mbpp-dir; the reward_mix study's GSPO condition
with the combined reward runs a real TRL trial on the CPU, and its SFT baseline trains on the RL pool."""

from __future__ import annotations

from pathlib import Path

import pytest

from study.profile import load_profile
from study.resolve import Options, resolve_study
from study.space import load_space
from tests.trial.local_model import build_local_chat_model
from trainables.common.models import load_model
from trainables.common.outcomes import read_outcomes
from trainables.common.problems import load_suite, load_train
from trainables.common.prompting import render_prompt
from trainables.common.reporting import ListReporter
from trainables.kinds import grpo, sft

PROFILES = {"qwen3-0.6b": ("Qwen/Qwen3-0.6B", "qwen3"), "llama3.2-1b": ("meta-llama/Llama-3.2-1B-Instruct", "llama")}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile_mirrors_seed_003(name: str, mbpp_dir: Path) -> None:
    prof = load_profile(name)
    assert prof.model.source == PROFILES[name][0] and prof.model.chat
    assert set(prof.lora.target_modules) == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    }
    held = load_suite(prof.data.suites[0], prof.data, mbpp_dir)
    assert prof.data.suites[0].name == "heldout" and len(held) == 257  # the whole sanitized MBPP test split
    assert all(11 <= int(p.problem_id.split("/")[1]) <= 510 for p in held)
    train = load_train(prof.data, mbpp_dir)
    assert not {p.problem_id for p in train} & {p.problem_id for p in held}
    assert prof.data.suites[1].source == "humaneval"


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_reward_mix_trials_run_from_a_local_path(name: str, mbpp_dir: Path, tmp_path: Path, cache_dir: Path) -> None:
    model_dir = build_local_chat_model(tmp_path / "model", arch=PROFILES[name][1])
    opts = Options(smoke=True, seeds=1, model=str(model_dir), mbpp_dir=mbpp_dir)
    study = resolve_study(load_space("reward_mix"), load_profile(name), opts, tmp_path, cache_dir)
    trials = {t.condition: t.model_copy(update={"torch_threads": 1, "executor_workers": 1}) for t in study.trials}
    cfg = trials["combined-gspo"]
    assert cfg.params.importance_sampling_level == "sequence" and cfg.params.rewards == {"exec": 1.0, "ruff": 0.5}
    cfg.trial_dir.mkdir(parents=True)
    rep = ListReporter()
    grpo.run(cfg, rep, progress=lambda m: None)
    assert [r["iteration"] for r in rep.results] == [0, 1, 2]
    last = rep.results[-1]
    assert {"train/reward/exec", "train/reward/ruff", "train/ruff/correctness", "eval/heldout/error/pass"} <= set(last)
    table = read_outcomes(cfg.trial_dir)
    assert table[table.suite == "heldout"].problem_id.str.startswith("mbpp/").all()
    base = trials["sft"]
    base.trial_dir.mkdir(parents=True)
    sft_rep = ListReporter()
    sft.run(base, sft_rep, progress=lambda m: None)
    assert sft_rep.results[-1]["train/problems"] == base.data.n_train  # the RL pool, one solution each


def test_qwen3_prompts_turn_thinking_off(tmp_path: Path, mbpp_dir: Path) -> None:
    prof = load_profile("qwen3-0.6b")
    _, tokenizer = load_model(prof.model, str(build_local_chat_model(tmp_path / "q3", arch="qwen3")))
    prompt = render_prompt(load_train(prof.data, mbpp_dir)[0], prof.model, tokenizer)
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
