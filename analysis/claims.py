"""The claims registry schema: one reported delta between two arms, as a frozen typed object.

A claim file (``claims/*.yaml``) holds ``claims:``, a list of these. Structure is checked by pydantic
(unknown keys, types, signs); arithmetic between fields (counts within ``n_problems``, flip counts that
add up) by ``check_claim``, which names the offending field. Pure: no file I/O, no study imports.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_METRIC = re.compile(r"^pass(?:@|_at_)([1-9][0-9]*)$")


class ClaimError(ValueError):
    """An inconsistent claim. ``field`` is the dotted key that is wrong; the message names the fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Frozen):
    """Where the delta was reported."""

    document: str = Field(min_length=1, description="The document, e.g. 'seeds/002 RLVF v2 scaling report'.")
    table: str = Field(min_length=1, description="The table, row or sentence inside it.")


class Arm(_Frozen):
    """One side of the comparison: a count of problems passed, or a rate, or neither (not reported)."""

    name: str = Field(min_length=1, description="The model or condition, e.g. 'Base 3B (re-eval)'.")
    passed: int | None = Field(None, ge=0, description="Problems passed (binary per-problem outcomes).")
    value: float | None = Field(None, ge=0, le=1, description="The reported rate (fraction, not percent).")
    sd: float | None = Field(None, ge=0, description="Sd over seeds of per-seed scores (fraction); needs seeds >= 2.")
    n: int | None = Field(
        None, ge=1, description="Problems this arm was scored on, when unpaired arms differ (default n_problems)."
    )

    @model_validator(mode="after")
    def _one_of(self) -> Arm:
        if self.passed is not None and self.value is not None:
            raise ValueError("give passed (a count) or value (a rate), not both")
        return self


class Flips(_Frozen):
    """Problems that changed outcome between the arms: a count, the ids, or a count with the first ids."""

    count: int | None = Field(None, ge=0, description="How many problems flipped; default len(ids).")
    ids: tuple[str, ...] = Field((), description="Their ids; may be a prefix of a longer list.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, bool):
            raise ValueError("use a count, a list of task ids, or {count, ids}")
        if isinstance(data, int):
            return {"count": data}
        if isinstance(data, list | tuple):
            return {"ids": data}
        return data

    @model_validator(mode="after")
    def _fill(self) -> Flips:
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("task ids listed twice; list each once")
        if self.count is None:
            object.__setattr__(self, "count", len(self.ids))
        elif len(self.ids) > self.count:
            raise ValueError(f"lists {len(self.ids)} ids but count is {self.count}; fix the count")
        return self

    @property
    def n(self) -> int:
        assert self.count is not None
        return self.count

    @property
    def complete(self) -> bool:
        return len(self.ids) == self.count


class Reproduce(_Frozen):
    """The study that re-runs the claim: a search space and its two conditions."""

    space: str = Field(min_length=1, description="search_spaces/<space>.yaml.")
    treatment: str = Field(min_length=1, description="Condition standing for the claim's treatment.")
    baseline: str = Field(min_length=1, description="Condition standing for the claim's baseline.")
    metric: str = Field(min_length=1, description="The space's metric, e.g. eval/transfer/pass_at_1.")
    baseline_iteration: int | None = Field(
        None, ge=0, description="Compare against the baseline at this iteration (0 = before training); default: last."
    )
    trainable: str | None = Field(
        None, description="Trainer kind (trainables/kinds); a planned one (dpo) marks a space that cannot run yet."
    )
    best_of: tuple[str, ...] = Field(
        (), description="An 'up to' claim: the configurations it is the best of; the re-run reports the best "
        "of their deltas (and every one), `treatment` being one of them.",
    )  # fmt: skip

    @field_validator("trainable")
    @classmethod
    def _kind(cls, v: str | None) -> str | None:
        from trainables.kinds import KINDS, PLANNED

        if v is not None and v not in KINDS and v not in PLANNED:
            raise ValueError(f"{KINDS.miss(v)} (planned: {', '.join(PLANNED)})")
        return v


ASSUMABLE = ("n_problems", "samples_per_problem", "seeds", "baseline", "treatment", "improved", "regressed", "best_of")


class Claim(_Frozen):
    """A reported delta of ``metric`` on ``benchmark`` between two arms on the same problems."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="Unique id, lower-case, e.g. dpo2k-3b.")
    source: Source
    benchmark: str = Field(min_length=1, description="e.g. HumanEval, MBPP test, LiveCodeBench AtCoder.")
    metric: str = Field(description="pass@k, k <= samples_per_problem.")
    n_problems: int = Field(ge=1, description="Problems each arm was evaluated on.")
    samples_per_problem: int = Field(ge=1, description="Samples per problem behind the metric (K).")
    seeds: int = Field(ge=1, description="Training seeds averaged in each arm; 1 = seed variance unassessed.")
    baseline: Arm
    treatment: Arm
    reported_delta_pp: float | None = Field(None, description="The delta as the document states it (pp).")
    improved: Flips | None = Field(None, description="Problems baseline failed and treatment passed.")
    regressed: Flips | None = Field(None, description="Problems baseline passed and treatment failed.")
    both_pass: int | None = Field(None, ge=0, description="Problems both arms passed.")
    both_fail: int | None = Field(None, ge=0, description="Problems both arms failed.")
    paired: bool = Field(True, description="Both arms answered the same problems (false: unpaired tests only).")
    best_of: int = Field(
        1, ge=1, description="'Up to' claims: the reported delta is the best of this many configurations."
    )
    assumed: tuple[str, ...] = Field((), description="Fields that are assumptions, not reported numbers.")
    notes: str = ""
    reproduce: Reproduce | None = None

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str) -> str:
        m = _METRIC.match(v)
        if not m:
            raise ValueError(f"'{v}' is not pass@k; use e.g. pass@1")
        return f"pass_at_{m.group(1)}"  # the project's one spelling; papers' pass@k is read as the same

    @field_validator("assumed")
    @classmethod
    def _assumed(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in v if a not in ASSUMABLE]
        if bad:
            raise ValueError(f"'{bad[0]}' cannot be assumed; use some of: {', '.join(ASSUMABLE)}")
        return v

    @property
    def k(self) -> int:
        return int(_METRIC.match(self.metric).group(1))  # type: ignore[union-attr]

    @property
    def binary(self) -> bool:
        """Per-problem outcomes are pass/fail: one sample, or pass@K over all K samples (any passed)."""
        return self.samples_per_problem == 1 or self.k == self.samples_per_problem

    @property
    def flips_known(self) -> bool:
        return self.improved is not None and self.regressed is not None


class TrendPoint(_Frozen):
    """One reported (level, result) point of a trend, e.g. 500 pairs -> 135 of 164 passed."""

    value: float = Field(description="The level, e.g. the pair count.")
    passed: int = Field(ge=0, description="Problems passed at that level (one run).")
    name: str = ""


class TrendReproduce(_Frozen):
    """The study that re-runs a trend claim: a space with a `trend:` block over the same level."""

    space: str = Field(min_length=1, description="search_spaces/<space>.yaml (it declares `trend:`).")
    metric: str = Field(min_length=1, description="The space's metric whose suite the slope is read on.")
    trainable: str | None = None


class TrendClaim(_Frozen):
    """A reported dose-response: the change of pass@k per `per` units of a level, read off single runs."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    source: Source
    benchmark: str = Field(min_length=1)
    metric: str = Field(description="pass@k of the points.")
    n_problems: int = Field(ge=1, description="Problems each point was evaluated on.")
    level: str = Field(min_length=1, description="What varies, e.g. pairs.")
    per: float = Field(gt=0, description="The slope's unit: pp per this many of the level, e.g. 500.")
    points: tuple[TrendPoint, ...] = Field(min_length=3, description="The reported points (one run each).")
    reported_slope_pp: float = Field(description="The slope as the document states it (pp per `per`).")
    notes: str = ""
    reproduce: TrendReproduce | None = None

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str) -> str:
        if not _METRIC.match(v):
            raise ValueError(f"'{v}' is not pass@k; use e.g. pass@1")
        return v

    @model_validator(mode="after")
    def _points(self) -> TrendClaim:
        if len({pt.value for pt in self.points}) < 2:
            raise ValueError("points: a trend needs at least two distinct values of the level")
        over = [pt for pt in self.points if pt.passed > self.n_problems]
        if over:
            raise ValueError(f"points: {over[0].passed} passed is more than n_problems {self.n_problems}")
        return self


class MetricArm(_Frozen):
    """One side of a metric claim: its name and the reported value, in the metric's own units."""

    name: str = Field(min_length=1, description="e.g. 'C-light, iteration 1'.")
    value: float | None = Field(None, description="The reported value (fractions for rates), if stated.")


class MetricReproduce(_Frozen):
    """The study that re-runs a metric claim: two (condition, iteration) arms of a space and its metric."""

    space: str = Field(min_length=1, description="search_spaces/<space>.yaml.")
    treatment: str = Field(min_length=1, description="Condition standing for the claim's treatment.")
    baseline: str = Field(min_length=1, description="Condition standing for the claim's baseline.")
    metric: str = Field(min_length=1, description="A metric the space lists, e.g. train/kl.")
    treatment_iteration: int | None = Field(None, ge=0, description="Default: the treatment's last iteration.")
    baseline_iteration: int | None = Field(None, ge=0, description="Default: the baseline's last iteration.")
    trainable: str | None = None


class MetricClaim(_Frozen):
    """A reported change of a diagnostic or score (KL, completion length, pass@1) between two arms, as a
    delta, a ratio or a percent change, with the direction the document asserts. Audited by re-run: a
    seed-level test of the direction, and where the reported size falls among single-seed changes."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    source: Source
    metric: str = Field(min_length=1, description="The metric as a study logs it, e.g. train/kl.")
    scale: Literal["delta", "ratio", "percent"] = Field(
        description="How the change is stated: treatment - baseline, treatment / baseline, or 100 (t - b) / b."
    )
    direction: Literal["up", "down", "not_up", "not_down"] = Field(
        description="What the document asserts: a rise, a fall, or no rise (no fall) beyond `margin`."
    )
    baseline: MetricArm
    treatment: MetricArm
    reported: float | None = Field(None, description="The change as the document states it, in `scale` units.")
    margin: float | None = Field(
        None, description="not_up / not_down: the largest change in `scale` units that still counts as none."
    )
    seeds: int = Field(1, ge=1, description="Runs behind each reported arm.")
    assumed: tuple[str, ...] = Field((), description="Fields that are the auditor's choices, e.g. margin.")
    notes: str = ""
    reproduce: MetricReproduce | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MetricClaim:
        if self.direction.startswith("not_") and self.margin is None:
            raise ValueError(f"direction {self.direction} needs a margin (the change that still counts as none)")
        if self.direction.startswith("not_") and self.scale == "ratio":
            raise ValueError(f"direction {self.direction}: state the margin as a percent change (scale: percent)")
        if self.scale != "delta":
            bad = [a for a in (self.baseline, self.treatment) if a.value is not None and a.value <= 0]
            if bad:
                raise ValueError(f"a {self.scale} needs positive values; {bad[0].name} is {bad[0].value}")
        return self


class ClaimFile(_Frozen):
    """A claims file: the claims of one document (two-arm deltas), its trend claims and its metric claims."""

    document: str = Field("", description="What the file covers.")
    claims: tuple[Claim, ...] = Field((), description="Two-arm deltas of pass@k (analysis/audit.py).")
    trends: tuple[TrendClaim, ...] = Field((), description="Dose-response claims (analysis/audit_trend.py).")
    metrics: tuple[MetricClaim, ...] = Field((), description="Claims about other metrics (analysis/audit_metric.py).")

    @model_validator(mode="after")
    def _something(self) -> ClaimFile:
        if not (self.claims or self.trends or self.metrics):
            raise ValueError("the file holds no claims: add claims:, trends: or metrics:")
        return self


def check_claim(c: Claim) -> None:
    """Cross-field arithmetic; raises ClaimError naming the field. Call after pydantic validation."""
    n = c.n_problems
    if c.k > c.samples_per_problem:
        raise ClaimError("metric", f"{c.metric} needs at least {c.k} samples per problem; fix samples_per_problem")
    for side in ("baseline", "treatment"):
        arm: Arm = getattr(c, side)
        if arm.n is not None and c.paired:
            raise ClaimError(f"{side}.n", "paired arms answer the same n_problems; drop n or set paired: false")
        if arm.passed is not None and arm.passed > (arm.n or n):
            of = f"its n {arm.n}" if arm.n else f"n_problems {n}"
            raise ClaimError(f"{side}.passed", f"{arm.passed} passed is more than {of}")
        if arm.passed is not None and not c.binary:
            raise ClaimError(
                f"{side}.passed",
                f"{c.metric} from {c.samples_per_problem} samples is a rate, not a count of problems; use value",
            )
        if arm.sd is not None and c.seeds < 2:
            raise ClaimError(f"{side}.sd", "a seed sd needs seeds >= 2; remove it or fix seeds")
    _check_flips(c)


def _check_flips(c: Claim) -> None:
    n = c.n_problems
    flips = {"improved": c.improved, "regressed": c.regressed}
    for name, f in flips.items():
        if f is None:
            continue
        if not c.paired:
            raise ClaimError(name, "flips need paired arms (the same problems); remove them or set paired: true")
        if not c.binary:
            raise ClaimError(name, f"flips need pass/fail per problem; {c.metric} from {c.samples_per_problem} samples")
        if f.n > n:
            raise ClaimError(name, f"{f.n} flipped problems is more than n_problems {n}")
    if c.improved is not None and c.regressed is not None:
        if c.improved.n + c.regressed.n > n:
            raise ClaimError("improved+regressed", f"{c.improved.n + c.regressed.n} flips exceed n_problems {n}")
        overlap = set(c.improved.ids) & set(c.regressed.ids)
        if overlap:
            raise ClaimError("regressed", f"{sorted(overlap)[0]} is listed as improved and regressed")
    if (c.improved is None) != (c.regressed is None):
        missing = "regressed" if c.regressed is None else "improved"
        raise ClaimError(missing, "give both improved and regressed (a count of 0 is fine)")
    b_pass, t_pass = c.baseline.passed, c.treatment.passed
    if c.flips_known and b_pass is not None and t_pass is not None:
        net = c.improved.n - c.regressed.n  # type: ignore[union-attr]
        if net != t_pass - b_pass:
            raise ClaimError(
                "improved/regressed",
                f"net flips {net:+d} disagree with treatment.passed - baseline.passed = {t_pass - b_pass:+d}",
            )
    cells = (c.improved, c.regressed, c.both_pass, c.both_fail)
    if all(x is not None for x in cells):
        total = c.improved.n + c.regressed.n + c.both_pass + c.both_fail  # type: ignore[union-attr,operator]
        if total != n:
            raise ClaimError(
                "improved+regressed+both_pass+both_fail", f"add up to {total}, not n_problems {n}; fix the counts"
            )
    if c.both_pass is not None and c.flips_known:
        for side, name, passed in (("baseline", "regressed", b_pass), ("treatment", "improved", t_pass)):
            got = c.both_pass + getattr(c, name).n
            if passed is not None and got != passed:
                raise ClaimError("both_pass", f"both_pass + {name} = {got}, but {side}.passed is {passed}")
