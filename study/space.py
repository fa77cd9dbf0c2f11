"""Search-space files: `search_spaces/<name>.yaml`, validated by a typed schema before Ray starts.

A study is named conditions (parameter overrides), optionally crossed with a grid or replaced by an
Optuna-sampled space, times seeds. Seeds are a replicate factor and never a search dimension.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analysis import iterations
from study.errors import UserError
from study.yamlio import format_validation_error, load_yaml
from trainables.common.metrics import BASE_ARM, is_known_metric
from trainables.common.params import RESERVED
from trainables.kinds import KINDS, PLANNED

SPACES_DIR = Path(__file__).resolve().parent.parent / "search_spaces"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricSpec(_Frozen):
    """A metric of interest and the direction that is better."""

    name: str = Field(description="Metric key, e.g. eval/transfer/pass_at_1 or train/kl.")
    direction: Literal["max", "min"] = "max"


class OptunaParam(_Frozen):
    """One sampled dimension."""

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] | None = None


class OptunaSpec(_Frozen):
    """An Optuna-sampled space: `num_configs` configurations drawn up front, each run on every seed.

    Drawn deterministically from `seed` (so trial keys and --resume are stable) by Optuna's Sobol QMC or
    random sampler, and crossed with every named condition.
    """

    sampler: Literal["qmc", "random"] = "qmc"
    num_configs: int = Field(ge=1, description="Configurations to sample (each runs once per seed).")
    seed: int = 0
    params: dict[str, OptunaParam] = Field(min_length=1)


class TrendSpec(_Frozen):
    """A dose-response over conditions: each condition's value of a numeric level (analysis/trend.py)."""

    name: str = Field(description="What the level is, e.g. pairs.")
    per: float = Field(1.0, gt=0, description="The slope is reported in pp per this many units, e.g. 500.")
    values: dict[str, float] = Field(min_length=2, description="condition -> its level, e.g. {p0: 0, p120: 120}.")

    @field_validator("values")
    @classmethod
    def _distinct(cls, v: dict[str, float]) -> dict[str, float]:
        if len(set(v.values())) < 2:
            raise ValueError("a trend needs at least two distinct level values")
        return v


class SearchSpace(_Frozen):
    """A validated study definition."""

    name: str
    description: str = ""
    source: str = Field("", description="Where the ablation comes from, e.g. a seed document and table.")
    trainable: str = Field(
        description="Default trainer kind of the conditions (trainables/kinds); a condition "
        "may name its own with `trainable:`."
    )
    seeds: int | tuple[int, ...] = Field(3, description="A count (0..n-1) or an explicit list.")
    profile: str | None = Field(
        None, description="The profile the study runs on when --profile is not given (default: tiny)."
    )
    baseline: str
    params: dict[str, Any] = Field(default_factory=dict, description="Overrides shared by every condition.")
    conditions: dict[str, dict[str, Any]] = Field(
        min_length=1, description="name -> parameter overrides (and optionally `trainable: <kind>`)."
    )
    factors: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="A crossed design: factor -> level -> overrides (and optionally "
        "`trainable:`); every combination becomes a condition named by its levels joined with '-' (e.g. "
        "tests-grpo), beside the named conditions, and the analysis adds main effects and interactions.",
    )  # fmt: skip
    grid: dict[str, tuple[Any, ...]] = Field(default_factory=dict)
    optuna: OptunaSpec | None = None
    trend: TrendSpec | None = Field(None, description="A dose-response over conditions; the analysis adds its slope.")
    metrics: tuple[MetricSpec, ...] = Field(min_length=1)
    comparisons: tuple[tuple[str, str], ...] | None = None
    family: Literal["declared", "exploratory"] = "declared"
    equivalence_margin_pp: float | None = Field(
        None, gt=0, description="E of the 'equivalent within +/-E pp' verdict (TOST), declared before the study; "
        "without it no comparison is called equivalent.",
    )  # fmt: skip
    effect_of_interest_pp: float | None = Field(
        None, gt=0, description="The smallest delta (pp) worth detecting: seeds needed are solved for it.",
    )  # fmt: skip
    select_on: str | None = Field(
        None, description="A validation suite: each seed's checkpoint (iteration >= 1) is the one that "
        "scores best on it, and every other suite is reported at that checkpoint (never picked on the test set).",
    )  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _cross_factors(cls, raw: Any) -> Any:
        """Add one condition per combination of the factors' levels (see `factors`)."""
        if not isinstance(raw, dict) or not raw.get("factors"):
            return raw
        factors = raw["factors"]
        if not isinstance(factors, dict) or not all(isinstance(v, dict) and v for v in factors.values()):
            raise ValueError("factors: each factor maps level names to overrides, e.g. {grpo: {optimizer: grpo}}")
        conditions = dict(raw.get("conditions") or {})
        for combo in itertools.product(*(list(levels.items()) for levels in factors.values())):
            name = "-".join(level for level, _ in combo)
            if name in conditions:
                raise ValueError(f"factors: the combination '{name}' is also a named condition; rename one")
            merged: dict[str, Any] = {}
            for level, overrides in combo:
                clash = sorted(set(merged) & set(overrides or {}))
                if clash:
                    raise ValueError(f"factors: level '{level}' sets {', '.join(clash)}, which another factor sets")
                merged.update(overrides or {})
            conditions[name] = merged
        return {**raw, "conditions": conditions}

    @property
    def factor_levels(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(factor, its levels in order; the first is the reference)."""
        return tuple((f, tuple(levels)) for f, levels in self.factors.items())

    def levels_of(self) -> dict[str, tuple[str, ...]]:
        """condition -> its level of each factor, for the conditions the factors generated."""
        combos = itertools.product(*(list(levels) for levels in self.factors.values()))
        return {"-".join(c): tuple(c) for c in combos} if self.factors else {}

    @field_validator("seeds")
    @classmethod
    def _seeds_ok(cls, v: int | tuple[int, ...]) -> int | tuple[int, ...]:
        if isinstance(v, int) and v < 1:
            raise ValueError("seed count must be at least 1")
        if isinstance(v, tuple) and len(set(v)) != len(v):
            raise ValueError("seeds must be distinct")
        return v

    @property
    def seed_list(self) -> tuple[int, ...]:
        return tuple(range(self.seeds)) if isinstance(self.seeds, int) else self.seeds

    @property
    def primary_metric(self) -> MetricSpec:
        return self.metrics[0]

    def kind_of(self, condition: str) -> str:
        """The trainer kind of a condition: its own `trainable:` or the space's."""
        return str((self.conditions[condition] or {}).get("trainable", self.trainable))

    def overrides_of(self, condition: str) -> dict[str, Any]:
        """A condition's parameter overrides (without its `trainable:`)."""
        return {k: v for k, v in (self.conditions[condition] or {}).items() if k != "trainable"}


class LoadedSpace(BaseModel):
    """A validated space with where it came from."""

    model_config = ConfigDict(frozen=True)
    space: SearchSpace
    path: Path
    sha256: str


def available_spaces() -> list[str]:
    return sorted(p.stem for p in SPACES_DIR.glob("*.yaml"))


def resolve_space_path(name: str) -> Path:
    path = Path(name) if name.endswith((".yaml", ".yml")) or "/" in name else SPACES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UserError(f"--space: no space file '{name}'; available: {', '.join(available_spaces())}")
    return path


def load_space(name: str) -> LoadedSpace:
    """Load, validate and cross-check a space file; every mistake is a one-line UserError."""
    path = resolve_space_path(name)
    raw = load_yaml(path)
    try:
        space = SearchSpace.model_validate(raw)
    except ValidationError as err:
        raise UserError(format_validation_error(path, err)) from None
    _check_semantics(path, space)
    return LoadedSpace(space=space, path=path, sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def _check_kind(path: Path, where: str, kind: str) -> None:
    if kind in KINDS:
        return
    if kind in PLANNED:
        raise UserError(
            f"{path}: {where}: '{kind}' is planned but has no trainable yet (planned: {', '.join(PLANNED)}); "
            f"use one of: {', '.join(KINDS)}"
        )
    raise UserError(f"{path}: {where}: {KINDS.miss(kind)}")


def _check_semantics(path: Path, space: SearchSpace) -> None:
    _check_kind(path, "trainable", space.trainable)
    for cname in space.conditions:
        if "trainable" in (space.conditions[cname] or {}):
            _check_kind(path, f"conditions.{cname}.trainable", space.kind_of(cname))
    names = list(space.conditions)
    if space.baseline not in space.conditions:
        raise UserError(f"{path}: baseline: '{space.baseline}' is not a condition; use one of: {', '.join(names)}")
    for i, pair in enumerate(space.comparisons or ()):
        if pair[0] == BASE_ARM:
            raise UserError(f"{path}: comparisons.{i}: '{BASE_ARM}' is a baseline; write [{pair[1]}, {BASE_ARM}]")
        if (iterations.parse(pair[1]) or ("", 0))[1] == iterations.BEST:
            raise UserError(f"{path}: comparisons.{i}: '{pair[1]}' is picked, so it is a treatment; put it first")
        for side in pair:
            if iterations.condition_of(side) not in space.conditions and side != BASE_ARM:
                raise UserError(
                    f"{path}: comparisons.{i}: '{side}' is not a condition; use one of: {', '.join(names)}"
                    f" (or '{BASE_ARM}', the base model at iteration 0; C@2: C at iteration 2; C@best: C's best"
                    " iteration, corrected for the pick)"
                )
        if pair[0] == pair[1]:
            raise UserError(f"{path}: comparisons.{i}: compares '{pair[0]}' with itself; name two conditions")
    for cname in space.trend.values if space.trend else {}:
        if cname not in space.conditions:
            raise UserError(f"{path}: trend.values.{cname}: not a condition; use one of: {', '.join(names)}")
    if space.trend is not None and (space.grid or space.optuna is not None):
        raise UserError(f"{path}: trend: not with a grid or optuna block (conditions are expanded); remove one")
    if space.optuna is not None and space.grid:
        raise UserError(f"{path}: optuna: a space has either a grid or an optuna block, not both; remove one")
    kinds = sorted({space.kind_of(c) for c in names})  # shared keys must suit every condition's kind
    for kind in kinds:
        _check_keys(path, "params", space.params, kind)
        _check_keys(path, "grid", space.grid, kind)
        if space.optuna is not None:
            _check_keys(path, "optuna.params", space.optuna.params, kind)
    for cname in names:
        _check_keys(path, f"conditions.{cname}", space.overrides_of(cname), space.kind_of(cname))
    if space.optuna is not None:
        for pname, p in space.optuna.params.items():
            if p.type == "categorical" and not p.choices:
                raise UserError(f"{path}: optuna.params.{pname}.choices: missing; list the categories")
            if p.type != "categorical" and (p.low is None or p.high is None or p.low >= p.high):
                raise UserError(f"{path}: optuna.params.{pname}: needs low < high; set both bounds")
    for key, values in space.grid.items():
        if not values:
            raise UserError(f"{path}: grid.{key}: empty list; give at least one value")
    for i, metric in enumerate(space.metrics):
        if not is_known_metric(metric.name):
            raise UserError(
                f"{path}: metrics.{i}.name: unknown metric '{metric.name}'; use eval/<suite>/pass_at_<k>, "
                "train/reward/<reward>, or a train/ metric of a kind (trainables/kinds/__init__.py)"
            )


def _check_keys(path: Path, where: str, given: dict[str, Any], kind: str) -> None:
    spec = KINDS[kind]
    known = spec.user_params()
    for key in given:
        if key in RESERVED or key not in known:
            trl = spec.trl_names.get(key)
            close = [trl] if trl in known else difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else f"see {spec.params.__module__} for {kind} parameters"
            raise UserError(f"{path}: {where}.{key}: unknown parameter of {kind}; {hint}")
