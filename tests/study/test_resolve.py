"""Resolving a space and profile into keyed trials: conditions x seeds, deterministic keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from study.profile import load_profile
from study.resolve import Options, expand_conditions, resolve_study
from study.space import load_space


def _trials(tmp_path: Path, **opts):
    return resolve_study(load_space("aux_kl"), load_profile("tiny"), Options(**opts), tmp_path, tmp_path / "c").trials


def test_aux_kl_is_three_conditions_by_three_seeds(tmp_path: Path) -> None:
    trials = _trials(tmp_path)
    assert len(trials) == 9
    assert {t.condition for t in trials} == {"A", "C-light", "C-reg"}
    assert sorted({t.seed for t in trials}) == [0, 1, 2]
    by = {(t.condition, t.seed): t for t in trials}
    assert by[("C-light", 0)].params.aux_loss_scale == 0.1 and by[("C-light", 0)].params.kl_coeff == 0.01
    assert by[("C-reg", 1)].params.aux_loss_scale == 0.03 and by[("C-reg", 1)].params.kl_coeff == 0.02
    assert by[("A", 2)].params.aux_loss_scale == 0.0


def test_keys_are_deterministic_and_unique(tmp_path: Path) -> None:
    first = [t.key for t in _trials(tmp_path)]
    again = [t.key for t in _trials(tmp_path / "elsewhere")]  # the folder is not part of the key
    assert first == again
    assert len(set(first)) == len(first)
    assert all(k.startswith(("A__s", "C-light__s", "C-reg__s")) for k in first)


def test_seeds_flag_overrides_count_and_smoke_changes_keys(tmp_path: Path) -> None:
    five = _trials(tmp_path, seeds=5)
    assert len(five) == 15
    smoke = _trials(tmp_path, smoke=True)
    assert {t.key for t in smoke}.isdisjoint({t.key for t in _trials(tmp_path)})
    assert all(t.params.iterations == 2 and t.data.n_train == 8 for t in smoke)


def test_seed_is_a_replicate_not_a_search_dimension(tmp_path: Path) -> None:
    trials = _trials(tmp_path)
    a = [t for t in trials if t.condition == "A"]
    assert len({t.params.model_dump_json() for t in a}) == 1  # same params for every seed of a condition
    assert len({t.config_hash() for t in a}) == 3  # the seed is in the key


def test_grid_crosses_each_condition(tmp_path: Path) -> None:
    space = tmp_path / "g.yaml"
    space.write_text(
        "name: g\ntrainable: grpo\nseeds: [7]\nbaseline: A\nconditions: {A: {}, B: {kl_coeff: 0.05}}\n"
        "grid: {lr: [0.001, 0.01]}\nmetrics: [{name: eval/heldout/pass_at_1}]\n"
    )
    loaded = load_space(str(space))
    assert [c.name for c in expand_conditions(loaded)] == ["A[lr=0.001]", "A[lr=0.01]", "B[lr=0.001]", "B[lr=0.01]"]
    trials = resolve_study(loaded, load_profile("tiny"), Options(), tmp_path, tmp_path).trials
    assert {t.params.lr for t in trials} == {0.001, 0.01} and {t.seed for t in trials} == {7}


def test_optuna_configs_are_drawn_upfront_deterministically(tmp_path: Path) -> None:
    space = tmp_path / "o.yaml"
    space.write_text(
        "name: o\ntrainable: grpo\nseeds: 2\nbaseline: A\nconditions: {A: {}}\n"
        "optuna: {sampler: qmc, num_configs: 3, seed: 5, params: {lr: {type: float, low: 1.0e-5, high: 1.0e-3, "
        "log: true}, num_generations: {type: categorical, choices: [2, 4]}}}\n"
        "metrics: [{name: eval/heldout/pass_at_1}]\n"
    )
    loaded = load_space(str(space))
    first = expand_conditions(loaded)
    assert [c.name for c in first] == ["A[optuna-000]", "A[optuna-001]", "A[optuna-002]"]
    assert first == expand_conditions(loaded)  # same draws every time: stable keys, resumable
    assert all(1e-5 <= c.overrides["lr"] <= 1e-3 and c.overrides["num_generations"] in (2, 4) for c in first)
    assert len({c.overrides["lr"] for c in first}) == 3
    trials = resolve_study(loaded, load_profile("tiny"), Options(), tmp_path, tmp_path).trials
    assert len(trials) == 6 and {t.seed for t in trials} == {0, 1}


def _resolved(space: str, tmp_path: Path):
    return resolve_study(load_space(space), load_profile("tiny"), Options(), tmp_path, tmp_path)


def test_grid_baseline_and_comparisons_follow_the_expansion(tmp_path: Path) -> None:
    space = tmp_path / "g.yaml"
    text = (
        "name: g\ntrainable: grpo\nseeds: 2\nbaseline: A\nconditions: {A: {}, B: {kl_coeff: 0.05}}\n"
        "grid: {lr: [0.001, 0.01]}\nmetrics: [{name: eval/heldout/pass_at_1}]\n"
    )
    space.write_text(text)
    study = _resolved(str(space), tmp_path)
    assert study.baseline == "A[lr=0.001]"
    assert study.comparisons == (
        ("A[lr=0.01]", "A[lr=0.001]"),
        ("B[lr=0.001]", "A[lr=0.001]"),
        ("B[lr=0.01]", "A[lr=0.001]"),
    )
    space.write_text(text + "comparisons: [[B, A]]\n")  # declared: within each grid point
    assert _resolved(str(space), tmp_path).comparisons == (
        ("B[lr=0.001]", "A[lr=0.001]"),
        ("B[lr=0.01]", "A[lr=0.01]"),
    )
    space.write_text(text + "comparisons: [[B, base@0]]\n")  # the base model is one arm for every point
    assert _resolved(str(space), tmp_path).comparisons == (("B[lr=0.001]", "base@0"), ("B[lr=0.01]", "base@0"))
    plain = _resolved("aux_kl", tmp_path)
    assert plain.baseline == "A"
    assert plain.comparisons == (("C-light", "A"), ("C-reg", "A"), ("A", "base@0"))


def test_a_condition_may_name_its_own_kind_and_shared_keys_must_suit_every_kind(tmp_path: Path) -> None:
    from study.errors import UserError
    from trainables.kinds.base import BaseParams
    from trainables.kinds.grpo_config import GRPOParams

    space = tmp_path / "k.yaml"
    body = "name: k\ntrainable: grpo\nseeds: 1\nbaseline: Base\nmetrics: [{name: eval/heldout/pass_at_1}]\n"
    space.write_text(body + "conditions: {Base: {trainable: base}, B: {kl_coeff: 0.05}}\n")
    study = _resolved(str(space), tmp_path)
    assert [(c.name, c.trainable, c.overrides) for c in study.conditions] == [
        ("Base", "base", {}),
        ("B", "grpo", {"kl_coeff": 0.05}),
    ]
    assert study.trainables == ["base", "grpo"] and study.comparisons == (("B", "Base"),)
    by_cond = {t.condition: t for t in study.trials}
    assert isinstance(by_cond["Base"].params, BaseParams) and isinstance(by_cond["B"].params, GRPOParams)
    assert by_cond["Base"].params.eval_samples == by_cond["B"].params.eval_samples == 5  # the profile's eval block
    again = type(by_cond["Base"]).model_validate_json(by_cond["Base"].model_dump_json())
    assert isinstance(again.params, BaseParams)  # the union is discriminated by kind
    space.write_text(body + "params: {kl_coeff: 0.02}\nconditions: {Base: {trainable: base}, B: {}}\n")
    with pytest.raises(UserError, match=r"params\.kl_coeff: unknown parameter of base"):
        _resolved(str(space), tmp_path)


def test_the_resolved_study_round_trips_through_json(tmp_path: Path) -> None:
    from study.resolve import ResolvedStudy

    study = _resolved("aux_kl", tmp_path)
    again = ResolvedStudy.model_validate_json(study.model_dump_json())
    assert again == study and again.keys() == study.keys()


def test_factors_cross_into_conditions_and_the_design(tmp_path: Path) -> None:
    from study.profile import load_profile
    from study.resolve import Options, resolve_study
    from study.space import load_space

    space = tmp_path / "f.yaml"
    space.write_text(
        "name: f\ntrainable: grpo\nseeds: 2\nbaseline: sft\n"
        "factors: {reward: {tests: {rewards: {exec: 1.0}}, combined: {rewards: {exec: 1.0, ruff: 0.5}}},\n"
        "          optimizer: {grpo: {optimizer: grpo}, gspo: {optimizer: gspo, clip_ratio: 0.1}}}\n"
        "conditions: {sft: {trainable: sft, whole_pool: true}}\n"
        "grid: {lr: [1.0e-3, 2.0e-3]}\nmetrics: [{name: eval/heldout/pass_at_1}]\n"
    )
    study = resolve_study(load_space(str(space)), load_profile("tiny"), Options(), tmp_path, tmp_path)
    names = {t.condition for t in study.trials}
    assert "combined-gspo[lr=0.002]" in names and "sft[lr=0.001]" in names and len(names) == 10
    assert study.factors == (("reward", ("tests", "combined")), ("optimizer", ("grpo", "gspo")),
                             ("point", ("lr=0.001", "lr=0.002")))  # fmt: skip
    assert dict(study.levels)["tests-gspo[lr=0.002]"] == ("tests", "gspo", "lr=0.002")
    gspo = next(t for t in study.trials if t.condition == "tests-gspo[lr=0.001]").params
    # the GSPO recipe under the condition's own values: its clip_ratio wins, the rest is the recipe
    assert (gspo.clip_ratio, gspo.clip_ratio_high, gspo.steps_per_generation, gspo.kl_coeff) == (0.1, 4e-4, 4, 0.0)


def test_dpo_budget_crosses_pair_counts_with_a_fixed_step_budget(tmp_path: Path) -> None:
    study = resolve_study(load_space("dpo_budget"), load_profile("tiny"), Options(), tmp_path, tmp_path / "c")
    by = {t.condition: t for t in study.trials if t.seed == study.trials[0].seed}
    assert set(by) == {"base", *(f"{p}-{b}" for p in ("p120", "p500", "p2k") for b in ("epoch", "steps"))}
    steps, epoch = by["p2k-steps"].params, by["p2k-epoch"].params
    assert (steps.budget, steps.steps, steps.pairs) == ("steps", 63, 2000)
    assert (epoch.budget, epoch.epochs, epoch.lr) == ("epochs", 1.0, steps.lr)  # one rate for every cell
    assert by["base"].trainable == "base" and study.factors == (("pairs", ("p120", "p500", "p2k")),
                                                                ("budget", ("epoch", "steps")))  # fmt: skip
    smoke = resolve_study(load_space("dpo_budget"), load_profile("tiny"), Options(smoke=True), tmp_path, tmp_path)
    assert {t.params.steps for t in smoke.trials if t.trainable == "dpo"} == {4}  # the smoke budget wins
