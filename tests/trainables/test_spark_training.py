"""SPARK aux phase on the tiny model: the scale sets the update size, the reference stays the base model,
every auxiliary type trains, the drift alarms and the fix rate behave."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from executors import SandboxExecutor
from trainables import grpo
from trainables.models import load_model
from trainables.problems import Problem, load_train
from trainables.rewards import ExecReward, Rollout
from trainables.spark import SparkSettings, aux_phase, drift_alarms, reflection_fix_rate
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
    from study.resolve import Options, resolve_trials
    from study.space import load_space

    out = tmp_path_factory.mktemp("spark")
    trials = resolve_trials(
        load_space("aux_kl"), load_profile("tiny"), Options(smoke=True, seeds=1, model=str(model_dir)), out, out
    )
    return next(t for t in trials if t.condition == "C-light")


@pytest.fixture(scope="module")
def executor():
    with SandboxExecutor(workers=1) as ex:
        yield ex


def make_trainer(cfg, executor):
    torch.manual_seed(0)
    model, tokenizer = load_model(cfg.model, cfg.model.source)
    train = load_train(cfg.data)
    reward = ExecReward(train, executor)
    trainer = grpo.build_trainer(cfg, model, tokenizer, train, reward, grpo._LogBuffer())
    return trainer, tokenizer, train, reward


def hand_rollouts(problems: tuple[Problem, ...]) -> list[Rollout]:
    """Per problem: the canonical solution (passes), a wrong answer and a syntax error (fail)."""
    out = []
    for p in problems:
        wrong = f"def {p.entry_point}(*args):\n    return None\n"
        out += [
            Rollout(p.problem_id, p.text, p.canonical, 1.0, True, "pass", "", 0),
            Rollout(p.problem_id, p.text, wrong, 0.0, False, "wrong_answer", "AssertionError", 0),
            Rollout(p.problem_id, p.text, "def (:\n", -0.2, False, "syntax_error", "SyntaxError: invalid syntax", 0),
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
        trainer.aux_iteration, trainer.drift_baseline = 0, None
        params = cfg.params.model_copy(update={"aux_loss_scale": scale})
        metrics = aux_phase(trainer, rollouts, train, params, tokenizer)
        assert metrics["train/aux_pool_total"] > 0
        after = lora_state(trainer.model)
        sizes[scale] = math.sqrt(sum(float((after[n] - start[n]).pow(2).sum()) for n in start))
    assert sizes[0.0] == 0.0
    assert sizes[0.03] < sizes[0.1] < sizes[1.0]
    assert 5 < sizes[1.0] / sizes[0.1] < 20  # about proportional: the scale means what it says


def test_reference_stays_the_base_model_across_iterations(cfg, executor, model_dir):
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import use_adapter

    trainer, tokenizer, train, reward = make_trainer(cfg, executor)
    for _ in range(2):
        trainer.train()
        aux_phase(trainer, reward.drain() + hand_rollouts(train), train, cfg.params, tokenizer)
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
    trainer, tokenizer, train, reward = make_trainer(cfg, executor)
    trainer.train()
    params = cfg.params.model_copy(update={"aux_weight_pointwise": 1.0})
    metrics = aux_phase(trainer, reward.drain() + hand_rollouts(train), train, params, tokenizer)
    for kind in ("pointwise", "pairwise", "reflection"):
        assert metrics[f"train/aux_pool_{kind}"] > 0, kind
    assert metrics["train/aux_pool_total"] == sum(
        metrics[f"train/aux_pool_{k}"] for k in ("pointwise", "pairwise", "reflection")
    )
    assert "train/aux_nll" in metrics and all(math.isfinite(v) for v in metrics.values()), metrics
    assert metrics["train/alarm_kl_growth"] == 0.0 and metrics["train/alarm_length_collapse"] == 0.0


def fake_trainer(kl: float, length: float, iteration: int, baseline=None):
    state = SimpleNamespace(log_history=[{"kl": kl, "completions/mean_length": length, "loss": 0.0}])
    return SimpleNamespace(state=state, aux_iteration=iteration, drift_baseline=baseline)


def test_drift_alarms_fire_on_kl_growth_and_length_collapse():
    settings = SparkSettings()
    first = fake_trainer(kl=0.002, length=180.0, iteration=1)
    assert drift_alarms(first, settings) == {"train/alarm_kl_growth": 0.0, "train/alarm_length_collapse": 0.0}
    calm = fake_trainer(kl=0.015, length=120.0, iteration=2, baseline=first.drift_baseline)
    assert drift_alarms(calm, settings) == {"train/alarm_kl_growth": 0.0, "train/alarm_length_collapse": 0.0}
    drifted = fake_trainer(kl=0.094, length=82.0, iteration=3, baseline=first.drift_baseline)  # seed 000, iter 3
    assert drift_alarms(drifted, settings) == {"train/alarm_kl_growth": 1.0, "train/alarm_length_collapse": 1.0}


def test_reflection_fix_rate_is_a_seeded_share_and_nan_without_failures(cfg, executor):
    model, tokenizer = load_model(cfg.model, cfg.model.source)
    train = load_train(cfg.data)
    failed = [(p, f"def {p.entry_point}(*args):\n    return None\n", "AssertionError") for p in train[:3]]
    rate = reflection_fix_rate(model, tokenizer, failed, cfg.params, cfg.model, executor, seed=5)
    assert 0.0 <= rate <= 1.0
    assert reflection_fix_rate(model, tokenizer, failed, cfg.params, cfg.model, executor, seed=5) == rate
    assert math.isnan(reflection_fix_rate(model, tokenizer, [], cfg.params, cfg.model, executor, seed=5))
