import numpy as np
import pytest

from analysis.bootstrap import hierarchical_bootstrap, resample_counts, small_sample_interval


def test_resample_counts_rows_are_resamples():
    counts = resample_counts(np.random.default_rng(0), 7, 500)
    assert counts.shape == (500, 7)
    assert np.all(counts.sum(axis=1) == 7)
    assert counts.mean() == pytest.approx(1.0, abs=0.05)


def test_hierarchical_bootstrap_same_seed_same_output():
    rng = np.random.default_rng(4)
    a, b = rng.random((5, 30)), rng.random((6, 30))

    def run(seed: int):
        g = np.random.default_rng(seed)
        return hierarchical_bootstrap(a, b, resample_counts(g, 30, 1000), g)

    (d1, df1), (d2, df2), (d3, _) = run(1), run(1), run(2)
    assert np.array_equal(d1, d2) and df1 == df2
    assert not np.array_equal(d1, d3)


def test_hierarchical_bootstrap_is_a_point_without_variation():
    scores = np.tile(np.linspace(0, 1, 10), (4, 1))  # identical seeds, identical arms
    g = np.random.default_rng(0)
    deltas, _ = hierarchical_bootstrap(scores, scores + 0.1, resample_counts(g, 10, 200), g)
    assert deltas == pytest.approx(np.full(200, 0.1))


def test_hierarchical_variance_matches_the_moment_estimate():
    # pure seed effects: Var(delta) = s_a^2 / r_a + s_b^2 / r_b
    rng = np.random.default_rng(5)
    base = rng.random(50)
    a = base + rng.normal(0, 0.05, (6, 1))
    b = base + rng.normal(0, 0.05, (6, 1))
    g = np.random.default_rng(1)
    deltas, df = hierarchical_bootstrap(a, b, resample_counts(g, 50, 20000), g)
    expect = a.mean(axis=1).var(ddof=1) / 6 + b.mean(axis=1).var(ddof=1) / 6
    assert deltas.var() == pytest.approx(expect, rel=0.05)
    assert df == pytest.approx(10.0, rel=0.3)  # two arms of 6 seeds: about 2 * 5 df


def test_small_sample_interval_stretches_by_t_over_z():
    boot = np.random.default_rng(0).normal(0, 1, 100_000)
    _, hi = small_sample_interval(boot, 0.0, 4.0)
    assert hi == pytest.approx(2.776, rel=0.02)  # t_{0.975, 4}
    assert small_sample_interval(boot, 0.0, float("inf"))[1] == pytest.approx(1.96, rel=0.02)
