"""The analysis settings: one frozen object, each field documented once."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.multiplicity import Family


@dataclass(frozen=True)
class AnalysisSpec:
    """What to analyse and how.

    baseline: condition every comparison is made against by default.
    metric: 'pass_at_1' or 'pass_at_k' (k <= samples per problem; 'pass@k' is read as the same), unbiased
        estimator per problem; stored as 'pass_at_k'.
    suite: the primary suite; None = the first suite in sorted order, and every suite is analysed.
        When given, only that suite is analysed, unless ``all_suites``.
    all_suites: with ``suite`` given, analyse every suite, the primary one first (a study's analysis:
        its primary metric's suite leads, the other suites are reported after it).
    comparisons: (treatment, baseline) pairs; empty = every other condition vs ``baseline``.
    family: 'declared' (Holm, FWER) or 'exploratory' (Benjamini-Hochberg, FDR); adjusted per suite.
    alpha: test level; intervals are (1 - alpha).
    n_boot: bootstrap resamples (problem and hierarchical bootstraps; Monte Carlo permutations).
    rng_seed: seed of the one ``np.random.Generator`` per suite; same input and seed, same output.
    iteration: which iteration to analyse; None = each condition's final one: its entry in ``finals``, or
        without ``finals`` the suite's last iteration.
    finals: (condition, final iteration) pairs from the resolved study: arms of different trainer kinds
        (an untrained base model evaluated at 0 beside a condition trained for 3 iterations) are
        compared at their finals, and a seed that never reached its condition's final is left out.
    select_on: a validation suite. Each (condition, seed) is analysed at its selected checkpoint: the
        iteration >= 1 with the best score on this suite (the earliest among ties); BASE_ARM stays at 0.
        The result's ``selection`` table shows, per suite, the selected, last and oracle (best on that
        suite itself) scores per seed, and the optimism of an oracle pick.
    factors: a factorial design's factors in order, each with its levels (reference first), e.g.
        (("reward", ("tests", "ruff", "combined")), ("optimizer", ("grpo", "gspo"))); empty = none.
    levels: (condition, its level of each factor) for the conditions in the design; the result's
        ``factorial_anova`` and ``factorial_effects`` analyse their seed scores (analysis/factorial.py).
    trend: (level name, per, ((condition, value), ...)): a dose-response over conditions, e.g.
        ("pairs", 500, (("p0", 0), ("p120", 120), ...)); the result's ``trend`` holds the seed-level slope.
    effect_of_interest_pp: smallest delta (pp) worth detecting (planning: seeds needed are solved for it).
    equivalence_margin_pp: E of the "equivalent within +/-E pp" verdict, declared before the study; None =
        no comparison is called equivalent (inconclusive instead).
    power: power used for MDEs and seeds-needed.
    power_sims: simulated studies behind each MDE and seeds-needed of the verdict rule (analysis/planning.py);
        0 skips them (NaN).
    """

    baseline: str
    metric: str = "pass_at_1"
    suite: str | None = None
    all_suites: bool = False
    comparisons: tuple[tuple[str, str], ...] = ()
    family: Family = "declared"
    alpha: float = 0.05
    n_boot: int = 10_000
    rng_seed: int = 0
    iteration: int | None = None
    finals: tuple[tuple[str, int], ...] = ()
    select_on: str | None = None
    factors: tuple[tuple[str, tuple[str, ...]], ...] = ()
    levels: tuple[tuple[str, tuple[str, ...]], ...] = ()
    trend: tuple[str, float, tuple[tuple[str, float], ...]] | None = None
    effect_of_interest_pp: float | None = None
    equivalence_margin_pp: float | None = None
    power: float = 0.8
    power_sims: int = 300

    def __post_init__(self) -> None:
        import contextlib

        from analysis.tables import AnalysisInputError, canonical_metric

        with contextlib.suppress(AnalysisInputError):  # a bad metric is reported by analyze() as an input error
            object.__setattr__(self, "metric", canonical_metric(self.metric))
