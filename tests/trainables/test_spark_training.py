"""SPARK aux phase on the tiny model: the scale sets the update size, the reference stays the base model,
every auxiliary type trains, the drift alarms and the fix rate (an evaluation extra) behave."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from executors import SandboxExecutor
from trainables.common.models import load_model
from trainables.common.problems import Problem, load_train
from trainables.common.rewards import RewardContext, build_rewards
from trainables.common.rollouts import Rollout, RolloutLog
from trainables.kinds.grpo_trainer import LogBuffer, build_trainer
from trainables.kinds.spark import aux_phase, drift_alarms, fix_rate_extra, reflection_fix_rate
from trainables.tiny.model import TinyRecipe, ensure_tiny_model

MINIATURE = TinyRecipe(steps=80, n_train=600)  # a model that writes code-shaped text; pass rate ~0


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """As a trial runs (torch_threads 1): the machine is shared, and thread contention only slows it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model_dir(cache_dir: Path) -> Path:
    return ensure_tiny_model(cache_dir / "tiny", MINIATURE, progress=None)


@pytest.fixture(scope="module")
def cfg(model_dir: Path, tmp_path_factory):
    """The aux_kl study's C-light condition under --smoke, on the miniature model."""
    from study.profile import load_profile
    from study.resolve import Options, resolve_study
    from study.space import load_space

    out = tmp_path_factory.mktemp("spark")
    trials = resolve_study(
        load_space("aux_kl"), load_profile("tiny"), Options(smoke=True, seeds=1, model=str(model_dir)), out, out
    ).trials
    return next(t for t in trials if t.condition == "C-light")


@pytest.fixture(scope="module")
def executor():
    with SandboxExecutor(workers=1) as ex:
        yield ex


def make_trainer(cfg, executor):
    torch.manual_seed(0)
    model, tokenizer = load_model(cfg.model, cfg.model.source)
    train = load_train(cfg.data)
    log = RolloutLog()
    funcs, weights = build_rewards(cfg.params.rewards, RewardContext(train, executor, cfg.params, log))
    trainer = build_trainer(cfg, model, tokenizer, train, funcs, weights, LogBuffer())
    return trainer, tokenizer, train, log


def hand_rollouts(problems: tuple[Problem, ...]) -> list[Rollout]:
    """Per problem: the canonical solution (passes), a wrong answer and a syntax error (fail)."""
    out = []
    for p in problems:
        wrong = f"def {p.entry_point}(*args):\n    return None\n"
        out += [
            Rollout(p.problem_id, p.text, p.canonical, True, "pass", "", 0),
            Rollout(p.problem_id, p.text, wrong, False, "wrong_answer", "AssertionError", 0),
            Rollout(p.problem_id, p.text, "def (:\n", False, "syntax_error", "SyntaxError: invalid syntax", 0),
        ]
    return out


def lora_state(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def test_update_size_grows_with_aux_loss_scale(cfg, executor):
    trainer, tokenizer, train, _ = make_trainer(cfg, executor)
    start = lora_state(trainer.model)
    rollouts = hand_rollouts(train)
    sizes = {}
    for scale in (0.0, 0.03, 0.1, 1.0):
        with torch.no_grad():
            for n, p in trainer.model.named_parameters():
                if n in start:
                    p.copy_(start[n])
        params = cfg.params.model_copy(update={"aux_loss_scale": scale})
        metrics = aux_phase(trainer, rollouts, train, params, tokenizer, iteration=1)
        assert metrics["train/aux_pool_total"] > 0
        after = lora_state(trainer.model)
        sizes[scale] = math.sqrt(sum(float((after[n] - start[n]).pow(2).sum()) for n in start))
    assert sizes[0.0] == 0.0
    assert sizes[0.03] < sizes[0.1] < sizes[1.0]
    assert 5 < sizes[1.0] / sizes[0.1] < 20  # about proportional: the scale means what it says


def test_reference_stays_the_base_model_across_iterations(cfg, executor, model_dir):
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import use_adapter

    trainer, tokenizer, train, log = make_trainer(cfg, executor)
    for iteration in (1, 2):
        trainer.train()
        aux_phase(trainer, log.drain() + hand_rollouts(train), train, cfg.params, tokenizer, iteration)
    policy = trainer.model
    assert list(policy.peft_config) == ["default"] and trainer.ref_model is None
    ids = tokenizer(train[0].text + train[0].canonical, return_tensors="pt")["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
    policy.eval()
    with torch.no_grad():
        with use_adapter(policy, adapter_name=None):  # how TRL computes the reference log-probs
            ref = policy(input_ids=ids).logits
        adapted = policy(input_ids=ids).logits
        untouched = base(input_ids=ids).logits
    torch.testing.assert_close(ref, untouched)
    assert not torch.allclose(adapted, untouched)


def test_an_iteration_with_every_aux_type_returns_finite_metrics(cfg, executor):
    trainer, tokenizer, train, log = make_trainer(cfg, executor)
    trainer.train()
    params = cfg.params.model_copy(update={"aux_weight_pointwise": 1.0})
    metrics = aux_phase(trainer, log.drain() + hand_rollouts(train), train, params, tokenizer, iteration=1)
    for kind in ("pointwise", "pairwise", "reflection"):
        assert metrics[f"train/aux_pool_{kind}"] > 0, kind
    assert metrics["train/aux_pool_total"] == sum(
        metrics[f"train/aux_pool_{k}"] for k in ("pointwise", "pairwise", "reflection")
    )
    assert "train/aux_nll" in metrics and all(math.isfinite(v) for v in metrics.values()), metrics


def test_drift_alarms_fire_on_kl_growth_and_length_collapse():
    quiet = {"train/alarm_kl_growth": 0.0, "train/alarm_length_collapse": 0.0}
    alarms, baseline = drift_alarms(kl=0.002, length=180.0, baseline=None)  # the first phase sets the baseline
    assert alarms == quiet and baseline == (0.002, 180.0)
    assert drift_alarms(kl=0.015, length=120.0, baseline=baseline) == (quiet, baseline)
    drifted, _ = drift_alarms(kl=0.094, length=82.0, baseline=baseline)  # seed 000, iteration 3
    assert drifted == {"train/alarm_kl_growth": 1.0, "train/alarm_length_collapse": 1.0}


def test_reflection_fix_rate_is_a_seeded_share_and_nan_without_failures(cfg, executor):
    model, tokenizer = load_model(cfg.model, cfg.model.source)
    train = load_train(cfg.data)
    failed = [(p, f"def {p.entry_point}(*args):\n    return None\n", "AssertionError") for p in train[:3]]
    rate = reflection_fix_rate(model, tokenizer, failed, cfg.params, cfg.model, executor, seed=5)
    assert 0.0 <= rate <= 1.0
    assert reflection_fix_rate(model, tokenizer, failed, cfg.params, cfg.model, executor, seed=5) == rate
    assert math.isnan(reflection_fix_rate(model, tokenizer, [], cfg.params, cfg.model, executor, seed=5))


def test_fix_rate_extra_repairs_first_failures_only(cfg, executor):
    model, tokenizer = load_model(cfg.model, cfg.model.source)
    train = load_train(cfg.data)[:2]
    extra = fix_rate_extra(cfg.params, cfg.model, executor)
    ok = [[Rollout(p.problem_id, p.text, p.canonical, True, "pass", "")] for p in train]
    assert extra(model, tokenizer, train, ok, 5) == {}  # nothing failed: no fix rate
    failed = [[Rollout(p.problem_id, p.text, "x = (", False, "syntax_error", "SyntaxError")] for p in train]
    out = extra(model, tokenizer, train, failed, 5)
    assert set(out) == {"fix_rate"} and 0.0 <= out["fix_rate"] <= 1.0


def test_each_phase_draws_its_own_prompt_order(cfg, executor):
    """TRL reseeds its sampler with args.seed at every train(); start_phase gives each iteration its own
    order, deterministic in the phase seed."""
    from trainables.kinds.grpo_trainer import start_phase

    trainer, *_ = make_trainer(cfg, executor)

    def order(seed: int) -> list[int]:
        start_phase(trainer, seed=seed)
        return list(trainer._get_train_sampler())

    assert order(1001) == order(1001)
    assert order(1001) != order(1002) or order(1002) != order(1003)  # 4 smoke prompts: two may coincide
