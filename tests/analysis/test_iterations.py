"""Comparisons that name an iteration per arm (C@2) or pick the best one (C@best) with a max-T correction
and the selection optimism shown (analysis/iterations.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import AnalysisInputError, AnalysisSpec, analyze, iterations
from analysis.simulate import SimModel, simulate_outcomes

SPEC = dict(baseline="A", n_boot=500, power_sims=0)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    model = SimModel(n_seeds=4, n_problems=60, n_samples=2)
    return simulate_outcomes(np.random.default_rng(0), model, {"A": 0.0, "B": 0.4}, iterations=4)


def test_tokens_parse_and_name_their_condition():
    assert iterations.parse("C-light@2") == ("C-light", 2)
    assert iterations.parse("C@best") == ("C", "best")
    assert iterations.parse("base@0") is None and iterations.parse("C") is None
    assert iterations.condition_of("C-light@best") == "C-light"


def test_one_condition_at_two_iterations_is_paired_by_seed(table):
    row = analyze(table, AnalysisSpec(comparisons=(("B@3", "B@1"),), **SPEC)).comparisons.iloc[0]
    b = table[table.condition == "B"].groupby(["seed", "iteration"])["passed"].mean().unstack()
    d = b[3] - b[1]
    assert row.seed_test == "paired_t" and row.p_seed == pytest.approx(stats.ttest_1samp(d, 0).pvalue)
    assert row.delta_pp == pytest.approx(100 * d.mean())


def test_two_conditions_at_a_named_iteration(table):
    row = analyze(table, AnalysisSpec(comparisons=(("B@2", "A@2"),), **SPEC)).comparisons.iloc[0]
    at2 = table[table.iteration == 2].groupby(["condition", "seed"])["passed"].mean()
    assert row.seed_test == "welch"
    assert row.p_welch == pytest.approx(stats.ttest_ind(at2["B"], at2["A"], equal_var=False).pvalue)
    with pytest.raises(AnalysisInputError, match="no outcomes of B at iteration 9"):
        analyze(table, AnalysisSpec(comparisons=(("B@9", "A"),), **SPEC))


def test_the_best_iteration_is_corrected_for_the_pick_and_its_optimism_shown(table):
    res = analyze(table, AnalysisSpec(comparisons=(("B@best", "A"),), **SPEC))
    row = res.comparisons.iloc[0]
    s = table[table.condition.isin(["A", "B"])].groupby(["condition", "seed", "iteration"])["passed"].mean()
    deltas = {it: s["B"].xs(it, level="iteration").mean() - s["A"].xs(3, level="iteration").mean() for it in (1, 2, 3)}
    assert row.selected_iteration == max(deltas, key=deltas.get)
    assert row.seed_test == "welch+maxT" and row.p_maxt >= row.p_welch and row.p_seed == row.p_maxt
    assert np.isfinite(row.optimism_pp)
    assert any("picked on suite heldout" in n and "max-T over 3 iterations" in n for n in res.notes)


def _null_scores(rng: np.random.Generator, paired: bool) -> pd.DataFrame:
    r, t = 5, 4
    seed = rng.normal(0, 0.05, (r, 1))
    traj = 0.5 + seed + rng.normal(0, 0.03, (r, t))  # iterations of one run correlate through its seed
    rows = [{"suite": "s", "condition": "B", "seed": i, "iteration": j + 1, "score": traj[i, j]}
            for i in range(r) for j in range(t)]  # fmt: skip
    if paired:
        rows += [{"suite": "s", "condition": "B", "seed": i, "iteration": 0, "score": 0.5 + seed[i, 0]
                  + rng.normal(0, 0.03)} for i in range(r)]  # fmt: skip
    else:
        rows += [{"suite": "s", "condition": "A", "seed": i, "iteration": 3, "score": 0.5 + rng.normal(0, 0.058)}
                 for i in range(r)]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("paired", [False, True])
def test_max_t_keeps_the_level_the_naive_pick_loses(paired: bool):
    rng = np.random.default_rng(1)
    naive = corrected = 0
    n = 300
    for _ in range(n):
        base = "base@0" if paired else "A"
        sel = iterations.select_best("B@best", base, "s", _null_scores(rng, paired), 3, rng, 2000)
        naive += sel.p_naive < 0.05
        corrected += sel.p_maxt < 0.05
    assert corrected / n <= 0.08
    assert naive > corrected


def test_the_paired_naive_p_is_scipys_one_sample_t():
    rng = np.random.default_rng(3)
    scores = _null_scores(rng, True)
    sel = iterations.select_best("B@best", "base@0", "s", scores, 0, rng, 500)
    w = scores.pivot(index="seed", columns="iteration", values="score")
    assert sel.p_naive == pytest.approx(stats.ttest_1samp(w[sel.iteration] - w[0], 0).pvalue)
    assert sel.null_draws == 2**5  # exact over every sign flip of 5 seeds


def test_iteration_arms_stay_out_of_trajectories_and_keep_their_iteration_under_iteration(table):
    res = analyze(table, AnalysisSpec(comparisons=(("B@best", "A"), ("B@2", "A@2")), **SPEC))
    assert not any("@" in str(c) for c in res.trajectory["condition"])  # the runs, not their arms
    assert not any("@" in str(c) for c in res.curves["condition"])
    at1 = analyze(table, AnalysisSpec(comparisons=(("B@2", "A@2"),), iteration=1, **SPEC)).comparisons.iloc[0]
    at3 = analyze(table, AnalysisSpec(comparisons=(("B@2", "A@2"),), **SPEC)).comparisons.iloc[0]
    assert at1.delta_pp == pytest.approx(at3.delta_pp)  # --iteration moves plain arms, not named ones


def test_a_best_iteration_against_another_iteration_of_its_run_is_paired_and_one_baseline_only(table):
    row = analyze(table, AnalysisSpec(comparisons=(("B@best", "B@1"),), **SPEC)).comparisons.iloc[0]
    assert row.seed_test == "paired_t+maxT" and row.selected_iteration in (2, 3)
    with pytest.raises(AnalysisInputError, match="picked against one baseline"):
        analyze(table, AnalysisSpec(comparisons=(("B@best", "A"), ("B@best", "base@0")), **SPEC))
