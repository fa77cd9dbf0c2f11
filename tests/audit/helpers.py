"""Claim builders shared by the audit tests."""

from __future__ import annotations

from typing import Any

from analysis.claims import Claim, check_claim


def make_claim(**over: Any) -> Claim:
    """A valid paired pass/fail HumanEval claim (147 -> 150 of 164, one seed), with overrides."""
    raw: dict[str, Any] = {
        "id": "t-claim",
        "source": {"document": "test", "table": "fixture"},
        "benchmark": "HumanEval",
        "metric": "pass@1",
        "n_problems": 164,
        "samples_per_problem": 1,
        "seeds": 1,
        "baseline": {"name": "base", "passed": 147},
        "treatment": {"name": "tuned", "passed": 150},
    }
    raw.update(over)
    claim = Claim.model_validate(raw)
    check_claim(claim)
    return claim
