"""The factorial analysis: main effects and the interaction recovered from seed scores built with known
effects, the repeated-measures ANOVA beside them, and the design carried through analyze() and the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisSpec, analyze, write_report
from analysis.factorial import analyze_factorial

FACTORS = (("reward", ("tests", "ruff", "combined")), ("optimizer", ("grpo", "gspo")))
LEVELS = tuple((f"{r}-{o}", (r, o)) for r in FACTORS[0][1] for o in FACTORS[1][1])
EFFECT = {"tests": 0.0, "ruff": -0.10, "combined": 0.05}  # reward main effects; gspo +0.04, ruff x gspo +0.06


def _truth(r: str, o: str) -> float:
    return 0.4 + EFFECT[r] + (0.04 if o == "gspo" else 0.0) + (0.06 if (r, o) == ("ruff", "gspo") else 0.0)


def _seeds(n_seeds: int = 8, noise: float = 0.01) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(n_seeds):
        shift = rng.normal(0, 0.05)  # a seed effect shared by every cell: what pairing removes
        for cond, (r, o) in LEVELS:
            rows.append({"suite": "test", "condition": cond, "seed": seed,
                         "score": _truth(r, o) + shift + rng.normal(0, noise)})  # fmt: skip
    return pd.DataFrame(rows)


def test_effects_and_interaction_are_recovered_with_intervals() -> None:
    got = analyze_factorial(_seeds(), FACTORS, LEVELS, 0.95)
    eff = got["effects"].set_index("contrast")
    ruff = eff.loc["ruff - tests"]  # averaged over optimizers: -10 + 6/2 = -7 pp
    assert ruff.delta_pp == pytest.approx(-7.0, abs=1.5) and ruff.ci_low_pp < ruff.delta_pp < ruff.ci_high_pp < 0
    assert eff.loc["gspo - grpo"].delta_pp == pytest.approx(4 + 6 / 3, abs=1.0)
    inter = eff.loc["(ruff - tests) x (gspo - grpo)"]
    assert inter.effect == "reward x optimizer" and inter.delta_pp == pytest.approx(6.0, abs=1.5) and inter.p < 0.05
    assert eff.loc["(combined - tests) x (gspo - grpo)"].p > 0.01  # no interaction was built in
    anova = got["anova"].set_index("effect")
    assert list(anova.index) == ["reward", "optimizer", "reward x optimizer"]
    assert (anova.loc["reward", "df_num"], anova.loc["reward", "df_den"]) == (2, 14)
    assert anova.loc["reward", "p"] < 1e-6 and anova.loc["reward x optimizer", "p"] < 0.05


def test_a_seed_missing_a_cell_is_left_out_and_noted() -> None:
    seeds = _seeds(n_seeds=4)
    seeds = seeds[~((seeds.seed == 3) & (seeds.condition == "ruff-gspo"))]
    got = analyze_factorial(seeds, FACTORS, LEVELS, 0.95)
    assert set(got["effects"]["n_seeds"]) == {3} and "1 seeds left out" in got["notes"][0]


def test_the_design_reaches_the_analysis_and_the_report(tmp_path: Path) -> None:
    seeds = _seeds(n_seeds=3)
    rows = []
    for r in seeds.itertuples():  # 20 problems whose pass rate is the cell's score (rounded to 1/20)
        k = round(r.score * 20)
        rows += [{"condition": r.condition, "seed": r.seed, "iteration": 1, "suite": "test", "problem_id": f"p{i}",
                  "sample": 0, "passed": i < k} for i in range(20)]  # fmt: skip
    spec = AnalysisSpec(baseline="tests-grpo", factors=FACTORS, levels=LEVELS, n_boot=100)
    res = analyze(pd.DataFrame(rows), spec)
    assert set(res.factorial_anova["effect"]) == {"reward", "optimizer", "reward x optimizer"}
    assert len(res.factorial_effects) == 2 + 1 + 2  # two reward contrasts, one optimizer, two interactions
    write_report(res, tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "Factorial (reward x optimizer)" in text and (tmp_path / "factorial_effects.csv").is_file()
