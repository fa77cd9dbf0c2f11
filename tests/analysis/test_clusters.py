"""Declared problem clusters: whole clusters are resampled, the SE is cluster-robust, McNemar steps aside."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis import AnalysisInputError, AnalysisSpec, analyze
from analysis import bootstrap as bs
from analysis.problemtests import cluster_robust_se, paired_bootstrap
from analysis.simulate import SimModel, simulate_outcomes
from analysis.tables import build_suite, check_outcomes


def test_singleton_clusters_are_the_problem_bootstrap():
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 30)), rng.random((4, 30))
    counts = bs.resample_counts(np.random.default_rng(1), 30, 500)
    plain = bs.hierarchical_bootstrap(a, b, counts, np.random.default_rng(2))
    single = bs.hierarchical_bootstrap(a, b, counts, np.random.default_rng(2), np.arange(30))
    np.testing.assert_allclose(plain[0], single[0])
    assert plain[1] == pytest.approx(single[1])
    d = b.mean(axis=0) - a.mean(axis=0)
    p1, p2 = paired_bootstrap(d, counts), paired_bootstrap(d, counts, groups=np.arange(30))
    assert p1 == pytest.approx(p2)
    assert cluster_robust_se(d) == pytest.approx(d.std(ddof=1) / np.sqrt(30))


def test_cluster_robust_se_is_statsmodels_cluster_covariance():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(8), [1, 2, 3, 4, 5, 3, 2, 5])
    d = rng.normal(size=groups.size) + rng.normal(size=8)[groups]
    fit = sm.OLS(d, np.ones(d.size)).fit(cov_type="cluster", cov_kwds={"groups": groups})
    assert cluster_robust_se(d, groups) == pytest.approx(float(fit.bse[0]))


def test_clustered_bootstrap_is_wider_when_clusters_move_together():
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(10), 6)
    shift = rng.normal(0, 0.2, 10)[groups]  # the treatment helps some families and hurts others
    a = rng.random((5, 60)) < 0.5
    b = rng.random((5, 60)) < np.clip(0.5 + shift, 0, 1)
    counts_p = bs.resample_counts(np.random.default_rng(5), 60, 4000)
    counts_c = bs.resample_counts(np.random.default_rng(5), 10, 4000)
    flat = bs.hierarchical_bootstrap(a * 1.0, b * 1.0, counts_p, np.random.default_rng(6))
    clus = bs.hierarchical_bootstrap(a * 1.0, b * 1.0, counts_c, np.random.default_rng(6), groups)
    assert clus[0].std() > 1.3 * flat[0].std()
    assert clus[1] < flat[1]  # fewer units, fewer degrees of freedom


def _table(with_clusters: bool) -> pd.DataFrame:
    df = simulate_outcomes(
        np.random.default_rng(7), SimModel(n_seeds=3, n_problems=40, n_samples=1), {"A": 0, "B": 0.3}
    )
    if with_clusters:
        df["cluster"] = "family" + (df["problem_id"].str.split("/").str[-1].astype(int) // 4).astype(str)
    return df


def test_analysis_resamples_declared_clusters_and_drops_mcnemar():
    spec = AnalysisSpec(baseline="A", n_boot=2000, power_sims=0)
    plain = analyze(_table(False), spec).comparisons.iloc[0]
    clustered = analyze(_table(True), spec)
    row = clustered.comparisons.iloc[0]
    assert plain.problem_test == "mcnemar_exact" and plain.n_clusters == 0
    assert row.problem_test == "paired_bootstrap" and row.n_clusters == 10
    assert row.delta_pp == pytest.approx(plain.delta_pp)  # the estimate does not change, its uncertainty does
    assert any("10 declared clusters" in n for n in clustered.notes)


def test_a_problem_in_two_clusters_or_none_is_refused():
    df = check_outcomes(_table(True))
    two = df.copy()
    two.loc[(two.problem_id == "heldout/0") & (two.seed == 1), "cluster"] = "other"
    with pytest.raises(AnalysisInputError, match="belongs to one cluster"):
        build_suite(two, "heldout")
    bare = df.copy()
    bare.loc[bare.problem_id == "heldout/0", "cluster"] = ""
    with pytest.raises(AnalysisInputError, match="has no cluster while others do"):
        build_suite(bare, "heldout")
