"""Resolving a space and profile into keyed trials: conditions x seeds, deterministic keys."""

from __future__ import annotations

from pathlib import Path

from study.profile import load_profile
from study.resolve import Options, expand_conditions, resolve_trials
from study.space import load_space


def _trials(tmp_path: Path, **opts):
    return resolve_trials(load_space("aux_kl"), load_profile("tiny"), Options(**opts), tmp_path, tmp_path / "c")


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
    assert all(t.params.iterations == 2 and t.data.n_train == 4 for t in smoke)


def test_seed_is_a_replicate_not_a_search_dimension(tmp_path: Path) -> None:
    trials = _trials(tmp_path)
    a = [t for t in trials if t.condition == "A"]
    assert len({t.params for t in a}) == 1  # same params for every seed of a condition
    assert len({t.config_hash() for t in a}) == 3  # the seed is in the key


def test_grid_crosses_each_condition(tmp_path: Path) -> None:
    space = tmp_path / "g.yaml"
    space.write_text(
        "name: g\ntrainable: grpo\nseeds: [7]\nbaseline: A\nconditions: {A: {}, B: {kl_coeff: 0.05}}\n"
        "grid: {lr: [0.001, 0.01]}\nmetrics: [{name: eval/heldout/pass_at_1}]\n"
    )
    loaded = load_space(str(space))
    assert list(expand_conditions(loaded)) == ["A[lr=0.001]", "A[lr=0.01]", "B[lr=0.001]", "B[lr=0.01]"]
    trials = resolve_trials(loaded, load_profile("tiny"), Options(), tmp_path, tmp_path)
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
    assert list(first) == ["A[optuna-000]", "A[optuna-001]", "A[optuna-002]"]
    assert first == expand_conditions(loaded)  # same draws every time: stable keys, resumable
    assert all(1e-5 <= c["lr"] <= 1e-3 and c["num_generations"] in (2, 4) for c in first.values())
    assert len({c["lr"] for c in first.values()}) == 3
    trials = resolve_trials(loaded, load_profile("tiny"), Options(), tmp_path, tmp_path)
    assert len(trials) == 6 and {t.seed for t in trials} == {0, 1}


def test_grid_baseline_and_comparisons_follow_the_expansion(tmp_path: Path) -> None:
    from study.resolve import resolved_baseline, resolved_comparisons

    space = tmp_path / "g.yaml"
    text = (
        "name: g\ntrainable: grpo\nseeds: 2\nbaseline: A\nconditions: {A: {}, B: {kl_coeff: 0.05}}\n"
        "grid: {lr: [0.001, 0.01]}\nmetrics: [{name: eval/heldout/pass_at_1}]\n"
    )
    space.write_text(text)
    loaded = load_space(str(space))
    assert resolved_baseline(loaded) == "A[lr=0.001]"
    assert resolved_comparisons(loaded) == (
        ("A[lr=0.01]", "A[lr=0.001]"),
        ("B[lr=0.001]", "A[lr=0.001]"),
        ("B[lr=0.01]", "A[lr=0.001]"),
    )
    space.write_text(text + "comparisons: [[B, A]]\n")  # declared: within each grid point
    assert resolved_comparisons(load_space(str(space))) == (
        ("B[lr=0.001]", "A[lr=0.001]"),
        ("B[lr=0.01]", "A[lr=0.01]"),
    )
    plain = load_space("aux_kl")
    assert resolved_baseline(plain) == "A"
    assert resolved_comparisons(plain) == (("C-light", "A"), ("C-reg", "A"))
