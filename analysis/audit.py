"""Audit a reported delta from its published numbers alone (statistics.md, section 2 item 7).

Per claim: Wilson intervals of each arm; the exact McNemar p when the flips are known, else the best
case ``2^(1-|net|)``; z-test p-values under assumed problem-level correlations; the MDE at 80% power
for this many problems; and a verdict. The correlation-assumed variance of the paired delta is

    Var(delta) = (p1(1-p1) + p2(1-p2) - 2 rho sqrt(p1(1-p1) p2(1-p2))) / n

(rho = 0 is the unpaired z-test). With pass@1 averaged over K > 1 samples, ``p(1-p)`` is an upper
bound on the between-problem variance of per-problem rates (equal when each problem's K samples
agree), so these p-values and MDEs err towards "noise"; McNemar needs pass/fail per problem and
does not apply. Verdicts, in order:

1. ``not assessable``: a rate is missing; the reason names the missing numbers.
2. ``consistent with noise``: the deciding problem-level p >= alpha. It needs no assumption: exact
   McNemar when the flips are known; else, for paired arms, the unpaired z-test (rho = 0 gives the
   largest p of any rho >= 0) when it is below alpha, or the exact best case 2^(1-|net|) (the smallest
   p any flips could give) when even that is not; unpaired arms use rho = 0.
2b. ``depends on the assumed correlation``: paired arms without their flips whose p is below alpha at
   some problem-level correlation and above it at others; the reason gives the rho at which it flips,
   and the z-test p-values at rho = 0.5 / 0.7 / 0.9 are reported beside.
3. ``supported``: problem-level p < alpha AND a seed-level Welch test (seeds >= 2 with each arm's
   seed sd reported) gives p < alpha; with seed sds and Welch p >= alpha: consistent with noise.
4. ``significant on problem sampling only (one seed)``: problem-level p < alpha, seed variance
   unassessed: these two trained models differ, whether the training condition does is untested.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from scipy import stats

from analysis.claims import Arm, Claim
from analysis.estimators import wilson_interval
from analysis.power import mde_problems
from analysis.problemtests import best_case_exact_p, mcnemar_exact_p

RHOS = (0.5, 0.7, 0.9)
DECIDING_RHO = 0.5
ALPHA = 0.05
POWER = 0.8
DELTA_TOLERANCE_PP = 0.2  # reported deltas are rounded rates; more than this apart is flagged

SUPPORTED = "supported"
NOISE = "consistent with noise"
PROBLEM_ONLY = "significant on problem sampling only (one seed)"
NOT_ASSESSABLE = "not assessable"
DEPENDS = "depends on the assumed correlation"


@dataclass(frozen=True)
class ArmAudit:
    """One arm: its rate, problems passed (an integer only for pass/fail outcomes) and Wilson 95%."""

    name: str
    rate: float | None
    passed: float | None
    basis: str  # reported count / count derived from value / rate (mean over K samples) / not reported
    wilson_low: float | None
    wilson_high: float | None
    n: int | None = None  # problems this arm was scored on


@dataclass(frozen=True)
class ClaimAudit:
    """Everything the audit found for one claim; rates are fractions, deltas and MDEs are pp."""

    claim_id: str
    source: str
    benchmark: str
    metric: str
    n_problems: int
    samples_per_problem: int
    seeds: int
    paired: bool
    baseline: ArmAudit
    treatment: ArmAudit
    delta_pp: float | None
    reported_delta_pp: float | None
    net_problems: float | None
    improved: int | None
    regressed: int | None
    observed_rho: float | None
    p_mcnemar: float | None
    p_best_case: float | None
    p_unpaired: float | None
    p_rho: dict[str, float | None]
    p_decisive: float | None
    decisive_test: str
    p_seed_welch: float | None
    mde_pp: float | None
    mde_basis: str
    mde_pp_by_rho: dict[str, float | None]
    problems_needed: int | None
    seed_variance_assessed: bool
    verdict: str
    reason: str
    rho_flip: float | None = None  # the problem-level correlation above which p < alpha (flips unknown)
    p_holm: float | None = None  # the deciding p adjusted over every assessable claim of the registry (Holm)
    p_bh: float | None = None  # ... and Benjamini-Hochberg (false discovery rate)
    assumed: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        """JSON-ready dict (NaN and inf become None)."""
        return clean_json(asdict(self))


def derive_count(value: float, n: int) -> int | None:
    """The one count k whose k/n rounds to ``value`` at the decimals of its repr; None if none or several match.
    Counts strictly inside the rounding interval win over ones on its edges, up to floating point: 0.62 on
    200 problems is 124 (123 and 125 give 0.615 and 0.625, which round either way)."""
    text = repr(float(value))
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 6
    half = 0.5 * 10.0**-decimals
    inside = [k for k in range(n + 1) if abs(k / n - value) < half - 1e-12]
    edges = [k for k in range(n + 1) if abs(abs(k / n - value) - half) <= 1e-12]
    hits = inside or edges
    return hits[0] if len(hits) == 1 else None


def rho_variance(p1: float, p2: float, rho: float) -> float:
    """Per-problem variance of the paired difference, ``p1 q1 + p2 q2 - 2 rho sqrt(p1 q1 p2 q2)``."""
    v1, v2 = p1 * (1 - p1), p2 * (1 - p2)
    return max(0.0, v1 + v2 - 2 * rho * math.sqrt(v1 * v2))


def z_p(delta: float, var_per_problem: float, n: int) -> float:
    """Two-sided normal p of ``delta`` with variance ``var_per_problem / n``."""
    if var_per_problem <= 0:
        return 1.0 if delta == 0 else 0.0
    return float(2 * stats.norm.sf(abs(delta) / math.sqrt(var_per_problem / n)))


def z_unpaired(p1: float, p2: float, n1: int, n2: int) -> float:
    """Two-sided normal p of p2 - p1 for two independent samples of n1 and n2 problems."""
    var = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    if var <= 0:
        return 1.0 if p1 == p2 else 0.0
    return float(2 * stats.norm.sf(abs(p2 - p1) / math.sqrt(var)))


def observed_phi(improved: int, regressed: int, both_pass: int, both_fail: int) -> float | None:
    """Problem-level correlation (phi) of the two arms' pass/fail outcomes from the 2x2 table."""
    a, d, b, c = both_pass, both_fail, regressed, improved
    den = math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    return None if den == 0 else (a * d - b * c) / den


def audit_arm(arm: Arm, c: Claim) -> tuple[ArmAudit, str | None]:
    """The arm's rate and Wilson interval; second item: a note on how the count was obtained."""
    n, note = arm.n or c.n_problems, None
    if arm.passed is not None:
        passed, rate, basis = float(arm.passed), arm.passed / n, "reported count"
    elif arm.value is not None:
        rate = arm.value
        k = derive_count(arm.value, n) if c.binary else None
        if k is not None:
            passed, rate, basis = float(k), k / n, "count derived from value"
            note = f"{arm.name}: {k}/{n} problems derived from value {arm.value} (the only count that rounds to it)"
        elif c.binary:
            passed, basis = arm.value * n, "rate (no whole count matches)"
            note = f"{arm.name}: value {arm.value} x {n} problems is not a whole count; treated as a rate"
        else:
            passed, basis = arm.value * n, f"rate (mean over {c.samples_per_problem} samples)"
    else:
        return ArmAudit(arm.name, None, None, "not reported", None, None), None
    lo, hi = wilson_interval(passed, n)
    return ArmAudit(arm.name, rate, passed, basis, float(lo), float(hi), n), note


def audit_claim(c: Claim, alpha: float = ALPHA, power: float = POWER) -> ClaimAudit:
    """Audit one claim from its numbers (see the module docstring for the rules)."""
    base, note_b = audit_arm(c.baseline, c)
    treat, note_t = audit_arm(c.treatment, c)
    notes = [x for x in (note_b, note_t) if x]
    n = c.n_problems
    improved = c.improved.n if c.improved else None
    regressed = c.regressed.n if c.regressed else None
    phi = None
    if c.flips_known and c.both_pass is not None and c.both_fail is not None:
        phi = observed_phi(improved, regressed, c.both_pass, c.both_fail)  # type: ignore[arg-type]
        if phi is not None:
            notes.append(f"observed problem-level correlation of the arms: {phi:.2f}")
    for name, f in (("improved", c.improved), ("regressed", c.regressed)):
        if f is not None and f.ids and not f.complete:
            notes.append(f"{name}: {f.n} problems, the document lists only {len(f.ids)} ids; the count is used")
    p_mcnemar = mcnemar_exact_p(regressed, improved) if c.flips_known else None  # type: ignore[arg-type]
    common = {
        "claim_id": c.id, "source": f"{c.source.document}; {c.source.table}", "benchmark": c.benchmark,
        "metric": c.metric, "n_problems": n, "samples_per_problem": c.samples_per_problem, "seeds": c.seeds,
        "paired": c.paired, "baseline": base, "treatment": treat, "reported_delta_pp": c.reported_delta_pp,
        "improved": improved, "regressed": regressed, "observed_rho": phi, "p_mcnemar": p_mcnemar,
        "assumed": c.assumed,
    }  # fmt: skip
    if base.rate is None or treat.rate is None:
        return _not_assessable(c, common, notes, power, alpha)

    p1, p2 = base.rate, treat.rate
    delta = p2 - p1
    net = delta * n
    if c.reported_delta_pp is not None and abs(100 * delta - c.reported_delta_pp) > DELTA_TOLERANCE_PP:
        notes.append(f"the document states {c.reported_delta_pp:+.1f} pp; its own numbers give {100 * delta:+.2f} pp")
    counts = {"reported count", "count derived from value"}
    whole = c.binary and c.paired and base.basis in counts and treat.basis in counts
    p_best = best_case_exact_p(round(net)) if whole else None
    p_unpaired = z_p(delta, rho_variance(p1, p2, 0.0), n)
    rho_flip = None
    p_rho: dict[str, float | None] = {}
    for rho in RHOS:
        var = rho_variance(p1, p2, rho)
        p_rho[str(rho)] = z_p(delta, var, n) if c.paired else None
        if c.paired and c.binary and var < abs(delta) * (1 - abs(delta)) - 1e-12:
            notes.append(
                f"rho={rho} implies fewer discordant problems than the net change of {abs(round(net))}: "
                "not attainable, the exact best case bounds it"
            )
    if not c.paired:
        n1, n2 = c.baseline.n or n, c.treatment.n or n
        p_unpaired = z_unpaired(p1, p2, n1, n2)
        if c.binary and base.basis in counts and treat.basis in counts:  # small counts: exact, not a z
            kt, kb = round(treat.passed), round(base.passed)
            table = [[kt, kb], [n2 - kt, n1 - kb]]  # scipy: the columns are the two independent samples
            p_dec = float(stats.barnard_exact(table).pvalue)
            test = f"exact Barnard on {kb}/{n1} vs {kt}/{n2} (unpaired)"
        else:
            p_dec, test = p_unpaired, "unpaired z-test (different problems per arm)"
    elif c.flips_known:
        p_dec, test = p_mcnemar, f"exact McNemar on {regressed} regressed vs {improved} improved"
    else:  # paired, flips unknown: decide on what holds whatever the correlation
        if p_best is not None and p_best >= alpha:  # not even the most favourable flips reach alpha
            p_dec, test = p_best, f"exact best case for a net change of {abs(round(net))} problems"
        elif p_unpaired < alpha:  # the least favourable correlation (0) still does; never below the exact bound
            p_dec, test = max(p_unpaired, p_best or 0.0), "unpaired z-test (rho=0: holds for any rho >= 0)"
        elif p_best is None and (p_rho[str(RHOS[-1])] or 0.0) >= alpha:  # rates from K samples: no exact bound
            p_dec, test = p_rho[str(RHOS[-1])], f"z-test at rho={RHOS[-1]} (the largest correlation considered)"
        else:
            p_dec, test = p_unpaired, "unpaired z-test (rho=0)"
            rho_flip = _rho_flip(p1, p2, delta, n, alpha, top=0.999 if whole else RHOS[-1]) or 0.999
        if not c.binary:
            notes.append(
                f"{c.metric} from {c.samples_per_problem} samples per problem is a mean of per-problem rates: "
                "McNemar and its best case need pass/fail per problem; p(1-p) bounds the per-problem variance"
            )
    assert p_dec is not None
    mde, basis, by_rho = _mde(c, p1, delta, improved, regressed, alpha, power)
    needed = math.ceil(n * (mde / (100 * abs(delta))) ** 2) if delta != 0 and math.isfinite(mde) else None
    p_seed = _seed_welch(c, p1, p2)
    verdict, reason = _verdict(c, delta, net, p_dec, test, p_rho, p_best, p_seed, alpha)
    if rho_flip is not None and (p_seed is None or p_seed < alpha):  # noise across seeds is noise at any rho
        verdict = DEPENDS
        reason = (f"{100 * delta:+.2f} pp; p={p_unpaired:.3g} unpaired (rho 0); p<{alpha} only if the arms' "
                  f"problem-level correlation exceeds {rho_flip:.2f} (z at rho={DECIDING_RHO}: "
                  f"p={p_rho[str(DECIDING_RHO)]:.3g}); report the flips to decide")  # fmt: skip
    return ClaimAudit(
        **common, delta_pp=100 * delta, net_problems=net, p_best_case=p_best, p_unpaired=p_unpaired,
        p_rho=p_rho, p_decisive=p_dec, decisive_test=test, p_seed_welch=p_seed, mde_pp=mde, mde_basis=basis,
        mde_pp_by_rho=by_rho, problems_needed=needed, seed_variance_assessed=p_seed is not None,
        verdict=verdict, reason=_flag(reason, c), rho_flip=rho_flip,
        notes=tuple(notes + ([c.notes.strip()] if c.notes else [])),
    )  # fmt: skip


def _rho_flip(p1: float, p2: float, delta: float, n: int, alpha: float, top: float) -> float | None:
    """The correlation at which the paired z-test's p crosses alpha (p falls as rho grows); None if it does
    not between 0 and ``top`` (pass/fail counts: the exact best case bounds it; rates: the largest rho
    considered)."""
    from scipy.optimize import brentq

    f = lambda rho: z_p(delta, rho_variance(p1, p2, rho), n) - alpha  # noqa: E731
    if f(0.0) <= 0 or f(top) > 0:
        return None
    return float(brentq(f, 0.0, top, xtol=1e-4))


def _mde(
    c: Claim, p0: float, delta: float, improved: int | None, regressed: int | None, alpha: float, power: float
) -> tuple[float, str, dict[str, float]]:
    """(MDE pp, its basis, MDEs by rho) for the paired delta at this n, under the null p1 = p2 = p0."""
    n = c.n_problems
    by_rho = {
        str(rho): 100 * mde_problems(math.sqrt(rho_variance(p0, p0, rho)), n, alpha, power) for rho in (0.0, *RHOS)
    }
    if not c.paired:
        return by_rho["0.0"], f"unpaired at the baseline rate {p0:.3f}", by_rho
    if c.flips_known and n > 1:
        sd = math.sqrt(max(0.0, ((improved or 0) + (regressed or 0) - n * delta**2) / (n - 1)))
        return 100 * mde_problems(sd, n, alpha, power), "observed flips (sd of per-problem differences)", by_rho
    return by_rho[str(DECIDING_RHO)], f"assumed rho={DECIDING_RHO} at the baseline rate {p0:.3f}", by_rho


def _seed_welch(c: Claim, p1: float, p2: float) -> float | None:
    """Welch p over seeds from reported means and seed sds; None when seed variance is unassessed."""
    if c.seeds < 2 or c.baseline.sd is None or c.treatment.sd is None:
        return None
    if c.baseline.sd == 0 and c.treatment.sd == 0:
        return 1.0 if p1 == p2 else 0.0
    res = stats.ttest_ind_from_stats(p2, c.treatment.sd, c.seeds, p1, c.baseline.sd, c.seeds, equal_var=False)
    return float(res.pvalue)


def _verdict(
    c: Claim,
    delta: float,
    net: float,
    p_dec: float,
    test: str,
    p_rho: dict[str, float | None],
    p_best: float | None,
    p_seed: float | None,
    alpha: float,
) -> tuple[str, str]:
    """(verdict, one-line reason) by the rules of the module docstring."""
    size = f"{100 * delta:+.2f} pp"
    if p_dec >= alpha:
        if p_best is not None and p_best >= alpha and not c.flips_known:
            m = abs(round(net))
            needed = math.floor(1 - math.log2(alpha)) + 1  # smallest net with 2^(1-m) < alpha: 6 at 0.05
            why = (
                f"net change of {m} problem{'s' * (m != 1)}: even the best case exact p is {p_best:.3g} "
                f"(a net of {needed} is needed for p<{alpha}); "
                f"z at rho={DECIDING_RHO}: p={p_rho[str(DECIDING_RHO)]:.3g}"
            )
        elif c.flips_known:
            why = f"{test}: p={p_dec:.3g}"
        else:
            why = f"{test}: p={p_dec:.3g}"
            hi = p_rho.get(str(RHOS[-1]))
            if hi is not None and hi < alpha:
                why += f"; p<{alpha} only if the arms correlate at rho={RHOS[-1]} (flips not reported)"
        return NOISE, f"{size}; {why}"
    if p_seed is not None:
        if p_seed < alpha:
            return SUPPORTED, f"{size}; {test}: p={p_dec:.3g}, and across {c.seeds} seeds Welch p={p_seed:.3g}"
        return NOISE, f"{size}; problem-level p={p_dec:.3g}, but across {c.seeds} seeds Welch p={p_seed:.3g}"
    seeds = "one seed per arm" if c.seeds == 1 else f"{c.seeds} seeds without their spread"
    return PROBLEM_ONLY, f"{size}; {test}: p={p_dec:.3g}; these models differ, but {seeds}: seed variance unassessed"


def _not_assessable(c: Claim, common: dict, notes: list[str], power: float, alpha: float) -> ClaimAudit:
    """A claim without both rates. With its delta and n alone, bounds still decide sometimes: the worst case
    (rates 0.5 -/+ delta/2, no correlation: the largest variance for any rho >= 0) and, for pass/fail
    outcomes, the best case 2^(1-|net|); an 'up to' delta (best of m configurations) is Sidak-adjusted."""
    missing = [f"{side} rate (passed or value)" for side in ("baseline", "treatment") if getattr(c, side).passed is None
               and getattr(c, side).value is None]  # fmt: skip
    reason = f"missing {' and '.join(missing)}"
    worst = 100 * mde_problems(math.sqrt(rho_variance(0.5, 0.5, DECIDING_RHO)), c.n_problems, alpha, power)
    verdict, p_dec, test, p_best, p_worst = NOT_ASSESSABLE, None, "none", None, None
    if c.reported_delta_pp is not None:
        d, n, m = c.reported_delta_pp / 100, c.n_problems, c.best_of
        sidak = lambda p: 1 - (1 - p) ** m  # noqa: E731  (the best of m independent tries)
        p_worst = sidak(z_p(d, max(0.5 - d * d / 2, 1e-12), n))
        net = round(abs(d) * n)
        p_best = sidak(best_case_exact_p(net)) if c.binary and c.paired else None
        upto = f", best of {m} configurations (Sidak)" if m > 1 else ""
        if p_worst < alpha:
            verdict, p_dec = PROBLEM_ONLY, p_worst
            test = f"worst case for delta {c.reported_delta_pp:+.1f} pp at n={n}{upto}"
            reason = (f"{c.reported_delta_pp:+.2f} pp at n={n}; even the worst case (rates 0.5 -/+ delta/2, no "
                      f"correlation{upto}) gives p={p_worst:.3g}; these models differ, but "
                      f"{'one seed' if c.seeds == 1 else f'{c.seeds} seeds without their spread'}: seed variance "
                      "unassessed; both arms' rates are not reported")  # fmt: skip
        elif p_best is not None and p_best >= alpha:
            verdict, p_dec = NOISE, p_best
            test = f"exact best case for a net change of {net} problems{upto}"
            reason = f"{c.reported_delta_pp:+.2f} pp at n={n}; even the best case gives p={p_best:.3g}{upto}"
        else:
            reason += f"; only the delta ({c.reported_delta_pp:+.1f} pp) is reported: p between "
            reason += f"{p_best:.3g} (best case) and " if p_best is not None else "? and "
            reason += f"{p_worst:.3g} (worst case{upto})"
        notes.append(
            f"at n={c.n_problems} and the least favourable rate (0.5), the MDE is {worst:.1f} pp at "
            f"rho={DECIDING_RHO}; a {abs(c.reported_delta_pp):.1f} pp delta is "
            f"{'above' if abs(c.reported_delta_pp) > worst else 'below'} it. Still needed: both arms' rates, "
            "the flips, and more than one seed"
        )
    nan: dict[str, float | None] = {str(r): None for r in RHOS}
    return ClaimAudit(
        **common, delta_pp=c.reported_delta_pp, net_problems=None, p_best_case=p_best, p_unpaired=p_worst,
        p_rho=nan, p_decisive=p_dec, decisive_test=test, p_seed_welch=None, mde_pp=worst,
        mde_basis=f"least favourable rate 0.5, rho={DECIDING_RHO}", mde_pp_by_rho={}, problems_needed=None,
        seed_variance_assessed=False, verdict=verdict, reason=_flag(reason, c),
        notes=tuple(notes + ([c.notes.strip()] if c.notes else [])),
    )  # fmt: skip


def _flag(reason: str, c: Claim) -> str:
    return f"{reason} [assumed: {', '.join(c.assumed)}]" if c.assumed else reason


def clean_json(v: object) -> object:
    """Recursively make ``v`` JSON-safe: tuples to lists, NaN and inf to None."""
    if isinstance(v, dict):
        return {k: clean_json(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [clean_json(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def adjust_registry(audits: list[ClaimAudit]) -> list[ClaimAudit]:
    """Each claim's deciding p adjusted over all assessable claims audited together (Holm: family-wise;
    BH: false discovery rate): a registry of 19 deltas tested at 0.05 expects about one false hit."""
    from dataclasses import replace

    from analysis.multiplicity import benjamini_hochberg, holm

    idx = [i for i, a in enumerate(audits) if a.p_decisive is not None and math.isfinite(a.p_decisive)]
    if not idx:
        return audits
    ps = [audits[i].p_decisive for i in idx]
    h, b = holm(ps), benjamini_hochberg(ps)
    out = list(audits)
    for j, i in enumerate(idx):
        out[i] = replace(audits[i], p_holm=float(h[j]), p_bh=float(b[j]))
    return out
