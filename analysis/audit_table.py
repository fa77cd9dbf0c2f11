"""Render claim audits: a fixed-width table, one reason line per claim, and the JSON document."""

from __future__ import annotations

from collections.abc import Sequence

from analysis.audit import ALPHA, DECIDING_RHO, POWER, RHOS, ClaimAudit

_SHORT_TEST = (
    ("exact McNemar", "mcnemar"),
    ("exact best case", "best case"),
    ("z-test at assumed", f"z rho={DECIDING_RHO}"),
    ("z-test at rho", f"z rho={RHOS[-1]}"),
    ("unpaired", "unpaired z"),
    ("exact Barnard", "barnard"),
    ("worst case", "worst case"),
)
LEGEND = (
    "p: the deciding problem-level p, assumption-free: exact McNemar if flips are known; else the unpaired "
    "z-test (rho 0, the largest p of any rho >= 0) when below alpha, the exact best case 2^(1-|net|) when even "
    f"that is not, and for rates of K samples the z-test at rho {RHOS[-1]}; in between the verdict depends on "
    "the assumed correlation and the reason gives the rho where it flips; "
    "p_holm / p_bh: that p adjusted over every assessable claim in the table (Holm: family-wise error; "
    "Benjamini-Hochberg: false discovery rate); the verdict reads the claim's own p; "
    f"MDE: minimum detectable delta at {POWER:.0%} power, alpha {ALPHA}, for this many problems"
)


def short_test(decisive_test: str) -> str:
    for prefix, short in _SHORT_TEST:
        if decisive_test.startswith(prefix):
            return short
    return "-"


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def _p(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.2g}" if x < 0.001 else f"{x:.3f}"


def render_table(audits: Sequence[ClaimAudit]) -> str:
    """The fixed-width table (claim, arms, delta, p, test, MDE, seeds, verdict), then the reasons."""
    head = ("claim", "baseline->treatment", "delta_pp", "p", "p_holm", "p_bh", "test", "MDE_pp", "seeds", "verdict")
    rows = []
    for a in audits:
        b, t = a.baseline, a.treatment
        arms = f"{_arm(b.rate, b.passed, a, b.n)}->{_arm(t.rate, t.passed, a, t.n)}"
        rows.append((a.claim_id, arms, _num(a.delta_pp, "+.2f"), _p(a.p_decisive), _p(a.p_holm), _p(a.p_bh),
                     short_test(a.decisive_test), _num(a.mde_pp, ".1f"), str(a.seeds), a.verdict))  # fmt: skip
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    right = {2, 3, 4, 5, 7, 8}

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    out = [line(head), line(["-" * w for w in widths]), *(line(r) for r in rows), ""]
    out += [f"{a.claim_id}: {a.reason}" for a in audits]
    out += ["", LEGEND]
    return "\n".join(out)


def _arm(rate: float | None, passed: float | None, a: ClaimAudit, n: int | None = None) -> str:
    if rate is None:
        return "?"
    if passed is not None and float(passed).is_integer():
        return f"{int(passed)}/{n or a.n_problems}"
    return f"{rate:.3f}"


def audit_json(audits: Sequence[ClaimAudit]) -> dict:
    """The JSON document: settings, library versions and every claim's audit."""
    import numpy
    import scipy
    import statsmodels

    return {
        "alpha": ALPHA,
        "power": POWER,
        "rhos": list(RHOS),
        "deciding_rho": DECIDING_RHO,
        "versions": {"numpy": numpy.__version__, "scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
        "claims": [a.to_json() for a in audits],
    }
