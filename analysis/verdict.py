"""Study-level verdicts for one comparison. The rules, applied in order:

1. ``supported``: the family-adjusted seed-level p (Welch; Holm for a declared family, BH for an
   exploratory one) is below alpha AND the hierarchical bootstrap interval excludes 0. Against the
   base model (``base@0``) the seed-level test is the paired t-test and its interval is the one read,
   here and in rule 2.
2. ``no effect at the detectable size``: not supported AND the whole hierarchical interval lies
   inside (-E, +E), where E is the stated effect of interest (``AnalysisSpec.effect_of_interest_pp``)
   or, if none is stated, the seed-level MDE at 80% power. Effects as large as E are excluded.
3. ``inconclusive (underpowered)``: everything else, including fewer than 2 seeds per arm.

The problem-level tests (McNemar / paired bootstrap) never decide a verdict: they hold the trained
models fixed and ignore seed-to-seed variation. They appear in the table and in the notes.
"""

from __future__ import annotations

import math

SUPPORTED = "supported"
INCONCLUSIVE = "inconclusive (underpowered)"
NO_EFFECT = "no effect at the detectable size"


def verdict(p_adjusted: float, ci_low: float, ci_high: float, equivalence_margin: float, alpha: float = 0.05) -> str:
    """Apply the rules above. All effect arguments in one unit (pp); NaN inputs give INCONCLUSIVE."""
    if not all(math.isfinite(x) for x in (p_adjusted, ci_low, ci_high)):
        return INCONCLUSIVE
    if p_adjusted < alpha and (ci_low > 0 or ci_high < 0):
        return SUPPORTED
    if math.isfinite(equivalence_margin) and -equivalence_margin < ci_low and ci_high < equivalence_margin:
        return NO_EFFECT
    return INCONCLUSIVE
