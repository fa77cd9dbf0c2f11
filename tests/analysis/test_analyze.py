import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis import SUPPORTED, AnalysisInputError, AnalysisSpec, analyze
from analysis.simulate import SimModel, simulate_outcomes
from trainables.common.metrics import BASE_ARM

SPEC = AnalysisSpec(baseline="A", n_boot=2000, rng_seed=3)


def test_default_comparisons_are_every_condition_vs_baseline(outcomes):
    res = analyze(outcomes, SPEC)
    assert list(res.comparisons["comparison"]) == ["B_vs_A", "C_vs_A", "D_vs_A"]
    assert list(res.conditions["n_seeds"]) == [4, 4, 4, 4]
    assert res.iterations == {"heldout": 1}


def test_same_input_and_seed_give_the_same_result(outcomes):
    r1, r2 = analyze(outcomes, SPEC), analyze(outcomes, SPEC)
    pd.testing.assert_frame_equal(r1.comparisons, r2.comparisons)
    r3 = analyze(outcomes, AnalysisSpec(baseline="A", n_boot=2000, rng_seed=4))
    assert not np.allclose(r1.comparisons["hier_ci_low_pp"], r3.comparisons["hier_ci_low_pp"])


def test_a_large_planted_effect_is_supported_and_a_null_is_not(outcomes):
    cmp = analyze(outcomes, SPEC).comparisons.set_index("comparison")
    assert cmp.loc["C_vs_A", "verdict"] == SUPPORTED
    assert cmp.loc["B_vs_A", "verdict"] != SUPPORTED
    assert cmp.loc["C_vs_A", "delta_pp"] > 15


def test_per_seed_score_is_the_mean_over_problems_and_samples(outcomes):
    res = analyze(outcomes, SPEC)
    last = outcomes[outcomes["iteration"] == 1]
    ref = last.groupby(["condition", "seed"])["passed"].mean()
    got = res.seeds.set_index(["condition", "seed"])["score"]
    assert got.to_numpy() == pytest.approx(ref.loc[got.index].to_numpy())
    assert {"pass_at_1", "pass_at_2"} <= set(res.seeds.columns)


def test_holm_is_applied_over_the_declared_family(outcomes):
    cmp = analyze(outcomes, SPEC).comparisons
    from statsmodels.stats.multitest import multipletests

    assert cmp["p_holm"].to_numpy() == pytest.approx(multipletests(cmp["p_welch"], method="holm")[1])
    assert (cmp["p_adjusted"] == cmp["p_holm"]).all()
    expl = analyze(outcomes, AnalysisSpec(baseline="A", n_boot=500, family="exploratory")).comparisons
    assert (expl["p_adjusted"] == expl["p_bh"]).all()


def test_mlflow_metrics_and_params_are_flat_and_safe(outcomes):
    res = analyze(outcomes, AnalysisSpec(baseline="A", n_boot=500, comparisons=(("C", "A"), ("D", "B"))))
    metrics, params = res.mlflow_metrics(), res.mlflow_params()
    assert "cond/A/pass_at_1_mean" in metrics and "cmp/C_vs_A/delta_pp" in metrics
    assert "cmp/D_vs_B/p_holm" in metrics
    assert params["cmp/C_vs_A/verdict"] in {"supported", "inconclusive (underpowered)"}  # no margin declared
    assert all(isinstance(v, float) and np.isfinite(v) for v in metrics.values())
    assert all(set(k) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./ ") for k in metrics)
    json.dumps(res.to_json(), allow_nan=False)


def test_every_suite_is_analysed_and_the_first_is_primary(outcomes):
    other = simulate_outcomes(np.random.default_rng(1), SimModel(n_seeds=4, n_problems=20, n_samples=1),
                              {"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}, suite="mbpp")  # fmt: skip
    res = analyze(pd.concat([outcomes, other]), SPEC)
    assert res.primary_suite == "heldout"
    assert set(res.comparisons["suite"]) == {"heldout", "mbpp"}
    mbpp = res.comparisons[res.comparisons["suite"] == "mbpp"]
    assert set(mbpp["problem_test"]) == {"mcnemar_exact"}  # one sample per problem
    assert "mbpp/cmp/B_vs_A/delta_pp" in res.mlflow_metrics()
    only = analyze(pd.concat([outcomes, other]), AnalysisSpec(baseline="A", suite="mbpp", n_boot=200))
    assert set(only.comparisons["suite"]) == {"mbpp"}


def test_pass_at_k_metric(outcomes):
    res = analyze(outcomes, AnalysisSpec(baseline="A", metric="pass@2", n_boot=200))
    p1 = analyze(outcomes, AnalysisSpec(baseline="A", n_boot=200))
    assert (res.conditions["mean"] >= p1.conditions["mean"]).all()


def test_unpaired_problem_sets_are_rejected(outcomes):
    broken = outcomes[~((outcomes["condition"] == "B") & (outcomes["problem_id"] == "heldout/3"))]
    with pytest.raises(AnalysisInputError, match="pairing"):
        analyze(broken, SPEC)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (AnalysisSpec(baseline="Z"), "unknown condition 'Z'"),
        (AnalysisSpec(baseline="A", suite="mbpp"), "unknown suite"),
        (AnalysisSpec(baseline="A", metric="pass@7"), "needs >= 7 samples"),
        (AnalysisSpec(baseline="A", metric="acc"), "unknown metric"),
        (AnalysisSpec(baseline="A", iteration=9), "no rows at iteration 9"),
    ],
)
def test_bad_specs_raise_one_line_errors(outcomes, spec, match):
    with pytest.raises(AnalysisInputError, match=match) as err:
        analyze(outcomes, spec)
    assert "\n" not in str(err.value)


def test_iteration_selects_earlier_rows(outcomes):
    res = analyze(outcomes, AnalysisSpec(baseline="A", iteration=0, n_boot=200))
    assert res.iterations == {"heldout": 0}
    assert set(res.curves["iteration"]) == {0, 1}


def test_conditions_of_different_kinds_are_compared_at_their_final_iterations(outcomes) -> None:
    """An untrained arm evaluated once (iteration 0) beside trained arms evaluated up to iteration 1."""
    base = outcomes[(outcomes.condition == "A") & (outcomes.iteration == 0)].assign(condition="Base")
    table = pd.concat([outcomes[outcomes.condition != "A"], base], ignore_index=True)
    finals = (("Base", 0), ("B", 1), ("C", 1), ("D", 1))
    res = analyze(table, AnalysisSpec(baseline="Base", n_boot=200, finals=finals))
    assert set(res.comparisons.baseline) == {"Base"} and len(res.comparisons) == 3
    assert any("final iterations (B 1, Base 0, C 1, D 1)" in n for n in res.notes)
    pinned = analyze(table, AnalysisSpec(baseline="Base", n_boot=200, iteration=0))
    assert len(pinned.comparisons) == 3  # every arm has iteration 0
    with pytest.raises(AnalysisInputError, match="no outcomes for Base at iteration 1"):
        analyze(table, AnalysisSpec(baseline="Base", n_boot=200))  # no finals: the last iteration for all


def test_a_seed_that_never_reached_its_final_iteration_is_left_out_not_compared_early(outcomes) -> None:
    unfinished = outcomes[~((outcomes.condition == "C") & (outcomes.seed == 0) & (outcomes.iteration == 1))]
    res = analyze(unfinished, AnalysisSpec(baseline="A", n_boot=200, finals=(("A", 1), ("B", 1), ("C", 1), ("D", 1))))
    assert any("C seed 0 has no iteration 1; left out" in n for n in res.notes)
    row = res.comparisons.set_index("treatment").loc["C"]
    assert row.n_seeds_treatment == 3 and row.n_seeds_baseline == 4


def test_base_arm_compares_a_condition_with_the_base_model_paired_by_seed(outcomes) -> None:
    res = analyze(outcomes, AnalysisSpec(baseline="A", comparisons=(("C", BASE_ARM), ("B", "A")), n_boot=500))
    rows = res.comparisons.set_index("comparison")
    row = rows.loc[f"C_vs_{BASE_ARM}"]
    assert row.seed_test == "paired_t" and rows.loc["B_vs_A", "seed_test"] == "welch"
    base0 = outcomes[(outcomes.condition == "C") & (outcomes.iteration == 0)].groupby("seed").passed.mean()
    last = outcomes[(outcomes.condition == "C") & (outcomes.iteration == 1)].groupby("seed").passed.mean()
    assert row.n_paired_seeds == 4 and row.seeds_up == int((last - base0 > 0).sum())
    assert row.paired_delta_pp == pytest.approx(100 * (last - base0).mean())
    assert row.paired_ci_low_pp > 0 and row.verdict == SUPPORTED
    assert BASE_ARM in set(res.conditions.condition)
    assert res.iterations == {"heldout": 1}


def test_base_arm_needs_iteration_zero(outcomes) -> None:
    with pytest.raises(AnalysisInputError, match="needs iteration-0 outcomes"):
        analyze(outcomes[outcomes.iteration > 0], AnalysisSpec(baseline=BASE_ARM, n_boot=200))


def test_base_arm_stays_at_iteration_zero_when_an_iteration_is_pinned(outcomes) -> None:
    res = analyze(outcomes, AnalysisSpec(baseline=BASE_ARM, comparisons=(("C", BASE_ARM),), iteration=1, n_boot=200))
    assert res.comparisons.iloc[0].n_paired_seeds == 4


def test_base_arm_refuses_conditions_that_started_from_different_outcomes(outcomes) -> None:
    spec = AnalysisSpec(baseline=BASE_ARM, comparisons=(("B", BASE_ARM), ("C", BASE_ARM)), n_boot=200)
    with pytest.raises(AnalysisInputError, match="start from different iteration-0 outcomes"):
        analyze(outcomes, spec)  # the simulation draws each condition's iteration 0 afresh
    shared = outcomes[(outcomes.condition == "B") & (outcomes.iteration == 0)]
    table = pd.concat([outcomes[~((outcomes.condition == "C") & (outcomes.iteration == 0))],
                       shared.assign(condition="C")], ignore_index=True)  # fmt: skip
    assert len(analyze(table, spec).comparisons) == 2


def test_a_broken_secondary_suite_is_noted_and_the_primary_still_analysed(outcomes) -> None:
    other = outcomes.assign(suite="transfer")
    other = other[~((other.condition == "C") & (other.seed == 1) & (other.problem_id == "heldout/3"))]
    res = analyze(pd.concat([outcomes, other], ignore_index=True), AnalysisSpec(
        baseline="A", suite="heldout", all_suites=True, n_boot=200))  # fmt: skip
    assert res.primary_suite == "heldout" and set(res.comparisons.suite) == {"heldout"}
    assert any(n.startswith("suite transfer not analysed: ") and "missing outcomes" in n for n in res.notes)


def _two_suites(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Three checkpoints on which the suites disagree: `val` is best at iteration 1 (the trained outcomes;
    iteration 2 repeats the untrained ones), `test` is best at iteration 2 (iteration 1 untrained)."""
    early, late = outcomes[outcomes.iteration == 0], outcomes[outcomes.iteration == 1]
    val = [early.assign(iteration=0), late.assign(iteration=1), early.assign(iteration=2)]
    test = [early.assign(iteration=0), early.assign(iteration=1), late.assign(iteration=2)]
    val = [f.assign(suite="val", problem_id="val/" + f.problem_id) for f in val]  # problems of its own
    return pd.concat(val + [f.assign(suite="test") for f in test], ignore_index=True)


def test_a_validation_suite_sharing_problems_with_the_test_suite_is_refused(outcomes) -> None:
    table = _two_suites(outcomes)
    table.loc[table.suite == "val", "problem_id"] = table.loc[table.suite == "val", "problem_id"].str[4:]
    with pytest.raises(AnalysisInputError, match="select_on: suite 'val' shares problems with suite 'test'"):
        analyze(table, AnalysisSpec(baseline="A", suite="test", all_suites=True, select_on="val", n_boot=200))


def test_checkpoints_are_selected_on_the_validation_suite_never_on_the_test_suite(outcomes) -> None:
    table = _two_suites(outcomes)
    spec = AnalysisSpec(baseline="A", suite="test", all_suites=True, select_on="val", n_boot=200)
    res = analyze(table, spec)
    sel = res.selection[res.selection.suite == "test"].set_index(["condition", "seed"])
    scores = table.groupby(["suite", "condition", "seed", "iteration"]).passed.mean()
    for (cond, seed), row in sel.iterrows():
        val = scores.loc["val", cond, seed]
        assert row.selected_iteration == int(val[val.index >= 1].idxmax())  # the validation suite decides
        test = scores.loc["test", cond, seed]
        assert row.selected == pytest.approx(test.loc[row.selected_iteration])
        assert row.oracle == pytest.approx(test[test.index >= 1].max()) and row.optimism_pp >= 0
    got = res.seeds[res.seeds.suite == "test"].set_index(["condition", "seed"])["score"]
    assert got.to_numpy() == pytest.approx(sel.loc[got.index, "selected"].to_numpy())
    opt = res.optimism.set_index(["suite", "condition"])
    assert opt.loc[("test", "C"), "optimism_pp"] == pytest.approx(sel.loc["C", "optimism_pp"].mean())
    assert opt.loc[("test", "C"), "optimism_pp"] > 10  # a pick on the test set would have reported the trained C
    assert any("selected on the validation suite" in n for n in res.notes)
    assert "checkpoints selected on val" in res.summary_text()


def test_equivalence_is_called_only_within_a_declared_margin(outcomes):
    """B and A share their effect: with a margin declared before the study, B is 'equivalent within +/-E pp'
    once its interval lies inside; without one it stays inconclusive (the study's own MDE is no margin)."""
    plain = analyze(outcomes, SPEC).comparisons.set_index("comparison").loc["B_vs_A"]
    assert plain.verdict == "inconclusive (underpowered)" and np.isnan(plain.equivalence_margin_pp)
    wide = AnalysisSpec(baseline="A", n_boot=2000, rng_seed=3, equivalence_margin_pp=25.0)
    row = analyze(outcomes, wide).comparisons.set_index("comparison").loc["B_vs_A"]
    assert row.hier_ci_low_pp > -25 and row.hier_ci_high_pp < 25
    assert row.verdict == "equivalent within +/-25 pp" and "declared margin +/-25 pp" in row.notes
    narrow = AnalysisSpec(baseline="A", n_boot=2000, rng_seed=3, equivalence_margin_pp=0.5)
    assert analyze(outcomes, narrow).comparisons.set_index("comparison").loc["B_vs_A"].verdict.startswith("incon")


def test_seeds_needed_are_planned_for_the_declared_effect_of_interest_and_the_verdict_rule(outcomes):
    from analysis.power import mde_seeds, seeds_needed

    unplanned = analyze(outcomes, SPEC).comparisons.set_index("comparison").loc["D_vs_A"]
    assert math.isnan(unplanned.seeds_needed) and "no effect of interest declared" in unplanned.notes
    planned = analyze(outcomes, AnalysisSpec(baseline="A", n_boot=2000, rng_seed=3, effect_of_interest_pp=10.0))
    row = planned.comparisons.set_index("comparison").loc["D_vs_A"]
    sd = row.sd_seed_pooled_pp / 100
    # the rule (Welch at alpha/3 and the hierarchical interval) at the 80% bound of the spread needs more
    # than Student's t at the point estimate, and can detect less
    assert row.seeds_needed >= seeds_needed(0.10, sd, 0.05, 0.8)
    assert row.mde_seed_pp > 100 * mde_seeds(sd, 4)
    assert (
        f"about {int(row.seeds_needed)} seeds per arm would resolve the declared effect of interest, 10 pp" in row.notes
    )
    again = analyze(outcomes, AnalysisSpec(baseline="A", n_boot=2000, rng_seed=3, effect_of_interest_pp=10.0))
    assert again.comparisons["seeds_needed"].tolist() == planned.comparisons["seeds_needed"].tolist()


def test_mcnemar_pairs_runs_of_the_same_declared_seed_only():
    """McNemar's pairs are one seed's two runs; arms with different seed ids have no such pairing, and the
    problem-level test falls back to the paired bootstrap instead of matching seeds by sorted order."""
    df = simulate_outcomes(np.random.default_rng(5), SimModel(n_seeds=3, n_problems=30, n_samples=1), {"A": 0, "B": 0})
    same = analyze(df, AnalysisSpec(baseline="A", n_boot=200, power_sims=0)).comparisons.iloc[0]
    assert same.problem_test == "mcnemar_exact"
    shifted = df.assign(seed=np.where(df["condition"] == "B", df["seed"] + 10, df["seed"]))
    other = analyze(shifted, AnalysisSpec(baseline="A", n_boot=200, power_sims=0)).comparisons.iloc[0]
    assert other.problem_test == "paired_bootstrap" and other.discordant_b == -1
    assert other.delta_pp == pytest.approx(same.delta_pp)
