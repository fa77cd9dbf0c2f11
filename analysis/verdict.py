"""Study-level verdicts for one comparison. The rules, applied in order:

1. ``supported``: the family-adjusted seed-level p (Welch; Holm for a declared family, BH for an
   exploratory one) is below alpha AND the hierarchical bootstrap interval excludes 0. Against the
   base model (``base@0``) the seed-level test is the paired t-test and its interval is the one read,
   here and in rule 2.
2. ``equivalent within +/-E pp``: not supported AND the whole interval lies inside (-E, +E), where E is
   the equivalence margin declared before the study (the space's ``equivalence_margin_pp``): a TOST,
   each one-sided test at alpha/2 (the 95% interval; conservative against the usual 90%). Without a
   declared margin no comparison is ever called equivalent: the study's own MDE is no margin (it grows
   with the noise it should rule out).
3. ``inconclusive (underpowered)``: everything else, including fewer than 2 seeds per arm.

The problem-level tests (McNemar / paired bootstrap) never decide a verdict: they hold the trained
models fixed and ignore seed-to-seed variation. They appear in the table and in the notes.
"""

from __future__ import annotations

import math

SUPPORTED = "supported"
INCONCLUSIVE = "inconclusive (underpowered)"
EQUIVALENT = "equivalent within"  # the verdict reads "equivalent within +/-E pp"


def equivalent(margin: float) -> str:
    return f"{EQUIVALENT} +/-{margin:g} pp"


def verdict(
    p_adjusted: float, ci_low: float, ci_high: float, equivalence_margin: float | None, alpha: float = 0.05
) -> str:
    """Apply the rules above. All effect arguments in one unit (pp); NaN inputs give INCONCLUSIVE; a margin
    of None (none declared) never gives equivalence."""
    if not all(math.isfinite(x) for x in (p_adjusted, ci_low, ci_high)):
        return INCONCLUSIVE
    if p_adjusted < alpha and (ci_low > 0 or ci_high < 0):
        return SUPPORTED
    m = equivalence_margin
    if m is not None and math.isfinite(m) and -m < ci_low and ci_high < m:
        return equivalent(m)
    return INCONCLUSIVE
