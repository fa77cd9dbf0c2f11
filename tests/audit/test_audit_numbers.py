"""The numbers-only audit against scipy/statsmodels on fixed claims, and the verdicts of the seed claims."""

from __future__ import annotations

import math

import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.audit import (
    DEPENDS,
    NOISE,
    NOT_ASSESSABLE,
    PROBLEM_ONLY,
    SUPPORTED,
    audit_claim,
    derive_count,
    rho_variance,
    z_p,
)
from study.audit import CLAIMS_DIR, load_claims
from tests.audit.helpers import make_claim

Z80 = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)  # 2.8016


@pytest.mark.parametrize(("regressed", "improved"), [(26, 4), (14, 4), (8, 2), (5, 2), (3, 3), (0, 0)])
def test_mcnemar_p_matches_scipy_binomtest(regressed: int, improved: int) -> None:
    both_pass = 120
    claim = make_claim(
        baseline={"name": "b", "passed": both_pass + regressed},
        treatment={"name": "t", "passed": both_pass + improved},
        improved=improved,
        regressed=regressed,
        both_pass=both_pass,
        both_fail=164 - both_pass - improved - regressed,
    )
    a = audit_claim(claim)
    expected = 1.0 if improved + regressed == 0 else stats.binomtest(improved, improved + regressed, 0.5).pvalue
    assert a.p_mcnemar == pytest.approx(expected, rel=1e-12)
    assert a.p_decisive == a.p_mcnemar
    assert a.decisive_test.startswith("exact McNemar")


@pytest.mark.parametrize(("passed", "n"), [(147, 164), (6, 24), (0, 24), (24, 24), (127, 164)])
def test_wilson_matches_statsmodels(passed: int, n: int) -> None:
    a = audit_claim(
        make_claim(n_problems=n, baseline={"name": "b", "passed": passed}, treatment={"name": "t", "passed": passed})
    )
    lo, hi = proportion_confint(passed, n, alpha=0.05, method="wilson")
    assert (a.baseline.wilson_low, a.baseline.wilson_high) == pytest.approx((lo, hi), abs=1e-12)


@pytest.mark.parametrize("net", [1, 2, 3, 5, 6, 10, -4])
def test_best_case_p_is_two_to_one_minus_net(net: int) -> None:
    a = audit_claim(make_claim(baseline={"name": "b", "passed": 140}, treatment={"name": "t", "passed": 140 + net}))
    assert a.p_best_case == pytest.approx(2.0 ** (1 - abs(net)))
    assert a.p_mcnemar is None


def test_correlation_assumed_p_values_match_the_formula() -> None:
    """C-light's HumanEval pass@1 (rates from 5 samples): z-tests under rho in {0, .5, .7, .9}."""
    p1, p2, n = 0.796, 0.773, 164
    a = audit_claim(
        make_claim(samples_per_problem=5, baseline={"name": "b", "value": p1}, treatment={"name": "t", "value": p2})
    )
    v1, v2 = p1 * (1 - p1), p2 * (1 - p2)
    for rho in (0.0, 0.5, 0.7, 0.9):
        var = (v1 + v2 - 2 * rho * math.sqrt(v1 * v2)) / n
        expected = 2 * stats.norm.sf(abs(p2 - p1) / math.sqrt(var))
        got = a.p_unpaired if rho == 0 else a.p_rho[str(rho)]
        assert got == pytest.approx(expected, rel=1e-10)
    # not significant unpaired and rates from K samples (no exact bound): decided at the largest rho considered
    assert a.p_decisive == a.p_rho["0.9"] and a.verdict == NOISE and a.rho_flip is None
    assert a.p_mcnemar is None and a.p_best_case is None  # rates from K samples: no pass/fail per problem
    assert a.mde_pp == pytest.approx(100 * Z80 * math.sqrt(2 * v1 * 0.5 / n), rel=1e-10)


def test_mde_from_observed_flips_uses_the_sd_of_per_problem_differences() -> None:
    a = audit_claim(make_claim(
        baseline={"name": "b", "passed": 149}, treatment={"name": "t", "passed": 127},
        improved=4, regressed=26, both_pass=123, both_fail=11,
    ))  # fmt: skip
    d = [1] * 4 + [-1] * 26 + [0] * 134
    sd = stats.tstd(d)
    assert a.mde_pp == pytest.approx(100 * Z80 * sd / math.sqrt(164), rel=1e-10)
    assert a.observed_rho == pytest.approx(0.3854, abs=1e-4)


def test_seed_level_welch_from_reported_spread_can_support_a_claim() -> None:
    claim = make_claim(
        seeds=5, baseline={"name": "b", "passed": 120, "sd": 0.01}, treatment={"name": "t", "passed": 150, "sd": 0.01},
    )  # fmt: skip
    a = audit_claim(claim)
    expected = stats.ttest_ind_from_stats(150 / 164, 0.01, 5, 120 / 164, 0.01, 5, equal_var=False).pvalue
    assert a.p_seed_welch == pytest.approx(expected)
    assert a.seed_variance_assessed and a.verdict == SUPPORTED
    noisy = audit_claim(make_claim(seeds=3, baseline={"name": "b", "passed": 120, "sd": 0.15},
                                   treatment={"name": "t", "passed": 150, "sd": 0.15}))  # fmt: skip
    assert noisy.verdict == NOISE and "Welch" in noisy.reason


def test_derive_count_only_when_unambiguous() -> None:
    assert derive_count(0.854, 164) == 140
    assert derive_count(0.69, 100) == 69
    assert derive_count(0.5, 1000) is None  # one decimal: 0.45..0.55 holds 101 counts
    assert derive_count(0.118, 32) is None  # no k/32 rounds to 0.118


def test_unpaired_claim_uses_only_the_unpaired_test() -> None:
    a = audit_claim(make_claim(paired=False))  # counts: Barnard's exact test; the z beside it
    assert a.decisive_test.startswith("exact Barnard on 147/164 vs 150/164")
    assert a.p_unpaired == pytest.approx(2 * stats.norm.sf(3 / 164 / math.sqrt(2 * 0.9 * 0.1 / 164)), rel=0.05)
    assert all(v is None for v in a.p_rho.values()) and a.p_best_case is None
    rates = audit_claim(make_claim(paired=False, samples_per_problem=5, baseline={"name": "b", "value": 0.5},
                                   treatment={"name": "t", "value": 0.55}))  # fmt: skip
    assert rates.decisive_test.startswith("unpaired") and rates.p_decisive == rates.p_unpaired


@pytest.fixture(scope="module")
def seed_audits() -> dict:
    return {item.claim.id: audit_claim(item.claim) for item in load_claims(CLAIMS_DIR)}


def test_every_seed_claim_loads_and_audits(seed_audits: dict) -> None:
    docs = {a.source.split(" ", 1)[0] for a in seed_audits.values()}
    assert {"seeds/000", "seeds/001", "seeds/002", "seeds/003"} <= docs
    assert len(seed_audits) >= 15
    for a in seed_audits.values():
        assert a.verdict in (SUPPORTED, NOISE, PROBLEM_ONLY, NOT_ASSESSABLE, DEPENDS)
        assert a.reason and "\n" not in a.reason
        assert a.to_json()["claim_id"] == a.claim_id


@pytest.mark.parametrize(
    ("claim_id", "verdict"),
    [
        ("dpo2k-3b", PROBLEM_ONLY),
        ("dpo2k-15b", PROBLEM_ONLY),
        ("dpo1k-15b", NOISE),
        ("dpo500-15b", NOISE),
        ("dpo120-3b", NOISE),
        ("base3b-reeval", NOISE),
        ("spark-clight-humaneval-p1", NOISE),
        ("spark-clight-mbpp-heldout-p1", NOISE),
        ("deep-vs-diverse-lcb", NOISE),
        ("rlvr-combined-mbpp", PROBLEM_ONLY),  # +13 pp of 500: significant even in the worst case, best of 4
    ],
)
def test_key_seed_claim_verdicts(seed_audits: dict, claim_id: str, verdict: str) -> None:
    assert seed_audits[claim_id].verdict == verdict, seed_audits[claim_id].reason


def test_dpo2k_3b_mcnemar_is_below_a_thousandth(seed_audits: dict) -> None:
    a = seed_audits["dpo2k-3b"]
    assert a.p_mcnemar < 0.001 and (a.regressed, a.improved) == (26, 4)
    assert any("lists only 10 ids" in n for n in a.notes)


def test_same_model_twice_is_noise_even_in_the_best_case(seed_audits: dict) -> None:
    a = seed_audits["base3b-reeval"]
    assert a.p_best_case == 0.5 and "best case" in a.reason


def test_not_assessable_names_the_missing_numbers_and_the_assumption() -> None:
    a = audit_claim(make_claim(baseline={"name": "b"}, treatment={"name": "t"}, reported_delta_pp=6.0,
                               assumed=("n_problems",)))  # fmt: skip
    assert "baseline rate" in a.reason and "treatment rate" in a.reason and "n_problems" in a.reason
    assert a.p_decisive is None and a.delta_pp == 6.0 and a.verdict == NOT_ASSESSABLE


def test_a_rate_that_is_a_whole_count_up_to_floating_point_is_one() -> None:
    """0.62 x 200 = 124: 123 and 125 sit on the rounding edges (0.615, 0.625), so 124 is the count, and the
    exact best-case bound stays available."""
    assert derive_count(0.62, 200) == 124 and derive_count(0.29, 100) == 29
    assert derive_count(0.615, 200) == 123  # three decimals: only 123 rounds to it


def test_verdicts_need_no_assumed_correlation(seed_audits: dict) -> None:
    """147 -> 138 of 164 without flips was 'significant' at an assumed rho 0.5 (p 0.038) but p 0.14 unpaired:
    it depends on the correlation, and the reason says where it flips; 147 -> 127 holds unpaired."""
    a = seed_audits["base15b-vs-base3b"]
    assert a.verdict == DEPENDS and a.p_decisive == a.p_unpaired and a.p_unpaired > 0.05
    assert a.p_rho["0.5"] < 0.05 and a.rho_flip is not None and f"exceeds {a.rho_flip:.2f}" in a.reason
    p1, p2 = 147 / 164, 138 / 164
    assert z_p(p2 - p1, rho_variance(p1, p2, a.rho_flip), 164) == pytest.approx(0.05, abs=1e-3)
    held = seed_audits["dpo2k-3b-vs-v1-base"]
    assert held.verdict == PROBLEM_ONLY and held.decisive_test.startswith("unpaired z-test")
    small = seed_audits["dpo120-3b"]  # +3 problems: not even the best case reaches 0.05, whatever rho
    assert small.verdict == NOISE and small.decisive_test.startswith("exact best case")


def test_registry_multiplicity_is_shown_beside_each_claims_own_p(seed_audits: dict) -> None:
    from statsmodels.stats.multitest import multipletests

    from analysis.audit import adjust_registry

    audits = adjust_registry(list(seed_audits.values()))
    tested = [a for a in audits if a.p_decisive is not None]
    ps = [a.p_decisive for a in tested]
    assert [a.p_holm for a in tested] == pytest.approx(list(multipletests(ps, method="holm")[1]))
    assert [a.p_bh for a in tested] == pytest.approx(list(multipletests(ps, method="fdr_bh")[1]))
    assert all(a.p_holm is None for a in audits if a.p_decisive is None)  # not assessable: not in the family
    by = {a.claim_id: a for a in audits}
    assert by["dpo2k-15b"].p_decisive < 0.05 < by["dpo2k-15b"].p_holm  # one of 18 at p 0.03 does not survive


def test_small_unpaired_counts_get_an_exact_test() -> None:
    """Fix rates 4/34 vs 5/36 (seed 000's reflection repairs, unpaired): Barnard's exact test, not a z."""
    c = make_claim(paired=False, n_problems=32, baseline={"name": "b", "value": 0.118, "n": 34},
                   treatment={"name": "t", "value": 0.139, "n": 36})  # fmt: skip
    a = audit_claim(c)
    expected = stats.barnard_exact([[5, 4], [31, 30]]).pvalue  # columns: the two independent samples
    assert a.p_decisive == pytest.approx(expected) and a.decisive_test.startswith("exact Barnard on 4/34 vs 5/36")
    assert (a.baseline.passed, a.baseline.n, a.treatment.passed, a.treatment.n) == (4, 34, 5, 36)
    assert a.verdict == NOISE
    from analysis.claims import ClaimError

    with pytest.raises(ClaimError, match=r"baseline.n: paired arms answer the same n_problems"):
        make_claim(baseline={"name": "b", "passed": 3, "n": 34})


def test_a_delta_alone_is_bounded_by_its_worst_and_best_case() -> None:
    """Only a delta and n: significant if even the largest-variance reading is; noise if even the best case
    is not; else not assessable, with both bounds. 'Up to' (best of m) is Sidak-adjusted."""

    def only(delta: float, n: int, **kw: object):
        return audit_claim(make_claim(n_problems=n, baseline={"name": "b"}, treatment={"name": "t"},
                                      reported_delta_pp=delta, **kw))  # fmt: skip

    big = only(13.0, 500, best_of=4)
    p1 = 2 * stats.norm.sf(0.13 / math.sqrt((0.5 - 0.13**2 / 2) / 500))
    assert big.verdict == PROBLEM_ONLY and big.p_decisive == pytest.approx(1 - (1 - p1) ** 4)
    tiny = only(2.0, 100)  # a net of 2 problems: even the best case p is 0.5
    assert tiny.verdict == NOISE and tiny.p_decisive == pytest.approx(0.5)
    mid = only(6.0, 164)
    assert mid.verdict == NOT_ASSESSABLE and "(best case) and" in mid.reason and mid.p_decisive is None


def test_small_counts_never_decide_below_the_exact_best_case() -> None:
    """0/100 -> 5/100 without flips: z at rho 0 gives p 0.022, but no set of flips gives McNemar below
    2^(1-5) = 0.0625: consistent with noise whatever the correlation."""
    a = audit_claim(
        make_claim(n_problems=100, baseline={"name": "b", "passed": 0}, treatment={"name": "t", "passed": 5})
    )
    assert a.p_unpaired < 0.05 and a.p_decisive == pytest.approx(0.0625) and a.verdict == NOISE
