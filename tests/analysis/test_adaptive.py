"""Adaptive seeds, the bookkeeping (analysis/adaptive.py): a clear comparison stops early, a close one gets
more seeds, only open comparisons' conditions grow; and the replay over a finished study from the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import sequential as sq
from analysis.adaptive import AdaptiveDesign, allocate, replay, seeds_saved
from analysis.simulate import SimModel, simulate_outcomes
from tests.conftest import REPO


def _scores(means: dict[str, float], n: int, sd: float = 0.02, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame([{"condition": c, "seed": s, "score": mu + rng.normal(0, sd)}
                         for c, mu in means.items() for s in range(n)])  # fmt: skip


def test_the_clear_comparison_stops_early_and_the_close_one_gets_more_seeds():
    looks, used = replay(_scores({"A": 0.40, "B": 0.50, "C": 0.41}, 11), (("B", "A"), ("C", "A")),
                         AdaptiveDesign(3, 2, 11, effect_pp=3.0))  # fmt: skip
    last = looks.groupby("comparison").tail(1).set_index("comparison")
    assert last.loc["B_vs_A", "decision"] == sq.SUPPORTED and last.loc["B_vs_A", "n_treatment"] <= 5
    assert last.loc["C_vs_A", "n_treatment"] > last.loc["B_vs_A", "n_treatment"]
    assert used["B"] < used["C"] == used["A"]  # A stays in the open comparison, B stops with its own
    assert 0 < seeds_saved(used, 11) < 1
    assert looks.groupby("comparison")["study_look"].is_monotonic_increasing.all()


def test_only_the_conditions_of_open_comparisons_grow_up_to_the_maximum():
    design = AdaptiveDesign(3, 4, 9)
    grown = allocate([("C", "A"), ("D@best", "base@0")], {"A": 3, "B": 3, "C": 7, "D": 3}, design)
    assert grown == {"A": 7, "B": 3, "C": 9, "D": 7}


def test_against_the_base_model_the_decision_is_paired_by_seed():
    rng = np.random.default_rng(4)
    base = rng.normal(0.4, 0.05, 6)
    trained = base + 0.03 + rng.normal(0, 0.005, 6)
    look = sq.decide(base, trained, ((6, 6),), max_seeds=12, paired=True)
    assert look.p == pytest.approx(stats.ttest_1samp(trained - base, 0).pvalue)
    q = sq.nominal_levels(((3, 3), (6, 6)), 6, paired=True)
    d = np.random.default_rng(5).standard_normal((100_000, 6))
    first = (sq.t_tests(0 * d[:, :3], d[:, :3], paired=True)[3] < q[0]) | (sq.t_tests(0 * d, d, paired=True)[3] < q[1])
    assert first.mean() == pytest.approx(0.05, abs=0.003)


def test_the_replay_from_the_command_line(tmp_path: Path):
    model = SimModel(n_seeds=8, n_problems=60, n_samples=2, sd_seed=0.15)
    table = tmp_path / "outcomes.csv"
    simulate_outcomes(np.random.default_rng(3), model, {"A": 0.0, "B": 0.8, "C": 0.0}).to_csv(table, index=False)
    cmd = [sys.executable, "-m", "study.analyze", str(table), "--baseline", "A", "--n-boot", "300",
           "--adaptive", "3:2:8", "--report", str(tmp_path / "report")]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "adaptive replay on suite heldout" in proc.stdout and "seeds used: A " in proc.stdout
    assert (tmp_path / "report" / "adaptive.png").stat().st_size > 5000
    bad = subprocess.run([*cmd[:-4], "--adaptive", "5:2:3"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "START <= MAX" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_each_comparison_spends_alpha_over_its_family_and_waits_for_new_information():
    from analysis.adaptive import Ledger, look

    scores = {c: pd.Series([mu + 0.01 * i for i in range(4)], index=range(4))
              for c, mu in (("A", 0.4), ("B", 0.5), ("C", 0.6))}  # fmt: skip
    ledger = Ledger()
    look(scores, (("B", "A"), ("C", "A")), AdaptiveDesign(2, 2, 8), ledger, lambda p: False, 1)
    single = Ledger()
    look(scores, (("B", "A"),), AdaptiveDesign(2, 2, 8), single, lambda p: False, 1)
    assert ledger.records[0]["nominal_p"] < single.records[0]["nominal_p"]  # alpha/2 for a family of two
    again = look(scores, (("B", "A"), ("C", "A")), AdaptiveDesign(2, 2, 8), ledger, lambda p: False, 2)
    assert len(ledger.records) == 2 and set(again) <= {("B", "A"), ("C", "A")}  # no new seeds: no new look


def test_a_spread_that_is_only_rounding_is_no_evidence():
    a = np.array([10, 12, 14]) / 50
    b = np.array([11, 13, 15]) / 50  # every seed up by exactly 2 pp
    got = sq.decide(a, b, ((3, 3),), max_seeds=6, paired=True)
    assert np.isnan(got.p) and got.decision == sq.CONTINUE


def test_a_picked_iteration_cannot_be_replayed():
    with pytest.raises(Exception, match="re-picked at every look"):
        replay(_scores({"A": 0.4, "B": 0.5}, 6), (("B@best", "A"),), AdaptiveDesign(3, 1, 6))
