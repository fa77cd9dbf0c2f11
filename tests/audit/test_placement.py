"""Placing a reported delta against a reproduced distribution, on hand-made outcomes tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.audit_rerun import place_reported_delta, render_placement
from analysis.tables import AnalysisInputError
from study.audit import _context_notes
from study.profile import load_profile
from tests.audit.helpers import make_claim

REPRODUCE = {"space": "aux_kl", "treatment": "B", "baseline": "A", "metric": "eval/transfer/pass_at_1"}


def outcomes_table(seeds: int = 4, n: int = 10) -> pd.DataFrame:
    """A passes problems i < 5 + s % 2, B passes i < 7 + s % 2: per-seed scores .5/.6 vs .7/.8, delta 20 pp."""
    rows = []
    for cond, first in (("A", 5), ("B", 7)):
        for s in range(seeds):
            for i in range(n):
                rows.append((cond, s, 3, "transfer", f"p{i}", 0, i < first + s % 2))
    return pd.DataFrame(rows, columns=["condition", "seed", "iteration", "suite", "problem_id", "sample", "passed"])


def _scores(cond: str, seeds: int = 4) -> np.ndarray:
    first = 5 if cond == "A" else 7
    return np.array([(first + s % 2) / 10 for s in range(seeds)])


def test_reproduced_delta_and_t_interval_match_scipy() -> None:
    claim = make_claim(reproduce=REPRODUCE)  # reported: 147 -> 150 of 164, +1.83 pp
    p = place_reported_delta(outcomes_table(), claim, metric="pass@1", suite="transfer", n_boot=2000)
    res = stats.ttest_ind(_scores("B"), _scores("A"), equal_var=False)
    ci = res.confidence_interval(0.95)
    assert p.reproduced_delta_pp == pytest.approx(20.0)
    assert (p.ci_low_pp, p.ci_high_pp) == pytest.approx((100 * ci.low, 100 * ci.high))
    assert p.p_welch == pytest.approx(res.pvalue)
    assert p.reported_delta_pp == pytest.approx(100 * 3 / 164)
    assert p.inside_t_interval is False  # the hierarchical interval is wider (10 problems): it may hold it
    assert p.inside_hier_interval == (p.hier_ci_low_pp <= p.reported_delta_pp <= p.hier_ci_high_pp)
    # the verdict: where a 1-seed delta (the claim's seeds) falls, not where the 4-seed mean lies
    va, vb = _scores("A").var(ddof=1) * (1 / 4 + 1), _scores("B").var(ddof=1) * (1 / 4 + 1)
    se, df = np.sqrt(va + vb), (va + vb) ** 2 / (va**2 / 3 + vb**2 / 3)
    t = stats.t.ppf(0.975, df)
    assert (p.pred_low_pp, p.pred_high_pp) == pytest.approx((100 * (0.2 - t * se), 100 * (0.2 + t * se)))
    assert p.pred_low_pp < p.ci_low_pp and p.reported_seeds == 1  # a single seed spreads wider than a mean
    assert p.inside_prediction is True and p.inside_t_interval is False  # +1.83: one seed could give it
    assert p.p_vs_reported == pytest.approx(2 * stats.t.sf(abs(0.2 - 3 / 164) / se, df), rel=1e-6)
    assert (p.n_seeds_treatment, p.n_seeds_baseline, p.n_problems, p.iteration) == (4, 4, 10, 3)


def test_reported_delta_far_below_is_outside_both_intervals() -> None:
    claim = make_claim(
        baseline={"name": "A", "passed": 150}, treatment={"name": "B", "passed": 100}, reproduce=REPRODUCE
    )
    p = place_reported_delta(outcomes_table(), claim, metric="pass@1", suite="transfer", n_boot=2000)
    assert p.inside_t_interval is False and p.inside_hier_interval is False and p.inside_prediction is False
    assert p.p_vs_reported < 0.01
    assert "reported OUTSIDE" in render_placement(p)


def test_reported_delta_inside_the_interval_is_inside() -> None:
    claim = make_claim(
        baseline={"name": "A", "passed": 82}, treatment={"name": "B", "passed": 115}, reproduce=REPRODUCE
    )  # +20.1 pp
    p = place_reported_delta(outcomes_table(), claim, metric="pass@1", suite="transfer", n_boot=2000)
    assert p.inside_t_interval is True and p.inside_hier_interval is True and p.inside_prediction is True
    assert p.p_vs_reported > 0.9
    assert not any("the re-run compares" in n for n in p.notes)  # same conditions: no naming note
    text = render_placement(p, ("context note",))
    assert "reported inside" in text and "note: context note" in text


def test_one_seed_has_no_interval_and_says_so() -> None:
    claim = make_claim(reproduce=REPRODUCE)
    p = place_reported_delta(outcomes_table(seeds=1), claim, metric="pass@1", suite="transfer", n_boot=500)
    assert p.inside_t_interval is None and p.p_vs_reported is None
    assert any("fewer than 2 seeds" in n for n in p.notes)
    assert "n/a" in render_placement(p)


def test_rate_only_claim_places_its_stated_delta_and_names_the_mapping() -> None:
    claim = make_claim(
        samples_per_problem=5,
        baseline={"name": "base model (iter 0)", "value": 0.796},
        treatment={"name": "B (iter 3)", "value": 0.773},
        reproduce=REPRODUCE,
    )
    p = place_reported_delta(outcomes_table(), claim, metric="pass@1", suite="transfer", n_boot=500)
    assert p.reported_delta_pp == pytest.approx(-2.3)
    assert any("the re-run compares A -> B" in n for n in p.notes)


def test_tiny_profile_rerun_says_it_tests_the_pipeline_not_the_paper() -> None:
    notes = _context_notes(load_profile("tiny"), "transfer", smoke=True)
    assert any("stand-in" in n and "not the paper's number" in n for n in notes)
    assert any("--smoke" in n for n in notes)


def test_baseline_at_iteration_zero_compares_a_condition_with_its_own_start() -> None:
    """B at iteration 3 against B at iteration 0 (the base model): A's rows stand in for iteration 0."""
    table = outcomes_table()
    start = table[table["condition"] == "A"].assign(condition="B", iteration=0)
    flip = start.index[(start["seed"] == 0) & ~start["passed"]][0]
    start.loc[flip, "passed"] = True  # seeds move by different amounts: a paired interval exists
    table = pd.concat([table[table["condition"] == "B"], start], ignore_index=True)
    reproduce = {**REPRODUCE, "baseline": "B", "baseline_iteration": 0}
    claim = make_claim(
        baseline={"name": "base model (iter 0)", "passed": 82}, treatment={"name": "B", "passed": 115},
        reproduce=reproduce,
    )  # fmt: skip
    p = place_reported_delta(table, claim, metric="pass@1", suite="transfer", n_boot=500)
    assert p.baseline == "base@0" and p.iteration == 3  # the base model's arm, compared paired by seed
    assert p.reproduced_delta_pp == pytest.approx(17.5) and p.inside_t_interval is True
    missing = make_claim(reproduce={**reproduce, "baseline_iteration": 1})
    with pytest.raises(AnalysisInputError, match="no outcomes for B at iteration 1"):
        place_reported_delta(table, missing, metric="pass@1", suite="transfer", n_boot=500)


def test_an_up_to_claim_is_placed_as_the_best_of_its_configurations() -> None:
    table = outcomes_table()
    better = table[table.condition == "B"].assign(condition="C")
    better.loc[better.problem_id == "p9", "passed"] = True  # C = B plus one problem: +10 pp more
    reproduce = {**REPRODUCE, "treatment": "B", "best_of": ["B", "C"]}
    p = place_reported_delta(pd.concat([table, better]), make_claim(reproduce=reproduce), metric="pass@1",
                             suite="transfer", n_boot=500)  # fmt: skip
    assert p.treatment == "C" and p.reproduced_delta_pp == pytest.approx(30.0)
    assert any("the best of 2 configurations (B +20.00, C +30.00 pp; mean +25.00)" in n for n in p.notes)


def test_faithful_reproductions_fall_outside_the_prediction_interval_at_the_nominal_rate() -> None:
    """By simulation (analysis/simulate.py's model): a reported 1-seed delta drawn like the re-run's seeds is
    outside the prediction interval about 5% of the time at 3v3 and 10v10, while the mean's t-interval
    called faithful reproductions outside far more often, and more so with more seeds."""
    from analysis.prediction import calibrate_placement
    from analysis.simulate import SimModel

    small = SimModel(n_problems=60, n_samples=2)
    three = calibrate_placement(small, 3, 1, 600, np.random.default_rng(3))
    ten = calibrate_placement(small, 10, 1, 600, np.random.default_rng(10))
    assert three["outside_prediction"] <= 0.07 and ten["outside_prediction"] <= 0.07
    assert three["outside_mean_ci"] > 0.12 and ten["outside_mean_ci"] > three["outside_mean_ci"]


def test_claims_are_placed_against_a_study_already_run(tmp_path, capsys) -> None:
    """`study.audit --against OUTCOMES`: no study runs; each claim whose conditions the table has is placed at
    its arms' own final iterations (the base model's 0 against a DPO arm's 4), the others listed as skipped."""
    import json

    import yaml

    from study.audit import main

    table = outcomes_table()
    table["condition"] = table["condition"].map({"A": "p0", "B": "p120"})
    table.loc[table["condition"] == "p0", "iteration"] = 0  # the base model's arm ends at iteration 0
    table["suite"] = "transfer"
    table.to_csv(tmp_path / "outcomes.csv", index=False)
    reproduce = {"space": "dpo_pairs", "trainable": "dpo", "treatment": "p120", "baseline": "p0",
                 "metric": "eval/transfer/pass_at_1"}  # fmt: skip
    claims = [make_claim(id="placed", reproduce=reproduce).model_dump(mode="json", exclude_none=True),
              make_claim(id="elsewhere", reproduce={**reproduce, "treatment": "p2k"}).model_dump(
                  mode="json", exclude_none=True)]  # fmt: skip
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"claims": claims}))
    argv = ["--claims", str(tmp_path / "c.yaml"), "--against", str(tmp_path / "outcomes.csv")]
    assert main([*argv, "--json", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr().out
    assert "claim placed: p120 vs p0" in out and "iteration 3" in out and "prediction 95%" in out
    assert "not in these outcomes (1): elsewhere (unknown condition 'p2k'" in out
    doc = json.loads((tmp_path / "a.json").read_text())
    assert [d["claim"]["id"] for d in doc["placements"]] == ["placed"]
    assert doc["placements"][0]["placement"]["reproduced_delta_pp"] == pytest.approx(20.0)
