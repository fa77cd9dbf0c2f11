"""Search-space files: `search_spaces/<name>.yaml`, validated by a typed schema before Ray starts.

A study is named conditions (parameter overrides), optionally crossed with a grid or replaced by an
Optuna-sampled space, times seeds. Seeds are a replicate factor and never a search dimension.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from study.errors import UserError
from study.yamlio import format_validation_error, load_yaml
from trainables.metrics import is_known_metric
from trainables.params import PARAMS_BY_KIND, PLANNED_KINDS, TRL_NAMES

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


class SearchSpace(_Frozen):
    """A validated study definition."""

    name: str
    description: str = ""
    source: str = Field("", description="Where the ablation comes from, e.g. a seed document and table.")
    trainable: Literal["grpo", "dpo", "sft"]
    seeds: int | tuple[int, ...] = Field(3, description="A count (0..n-1) or an explicit list.")
    baseline: str
    params: dict[str, Any] = Field(default_factory=dict, description="Overrides shared by every condition.")
    conditions: dict[str, dict[str, Any]] = Field(min_length=1)
    grid: dict[str, tuple[Any, ...]] = Field(default_factory=dict)
    optuna: OptunaSpec | None = None
    metrics: tuple[MetricSpec, ...] = Field(min_length=1)
    comparisons: tuple[tuple[str, str], ...] | None = None
    family: Literal["declared", "exploratory"] = "declared"

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


def _check_semantics(path: Path, space: SearchSpace) -> None:
    if space.trainable not in PARAMS_BY_KIND:
        raise UserError(
            f"{path}: trainable: '{space.trainable}' is planned but has no trainable yet "
            f"(planned: {', '.join(PLANNED_KINDS)}); use one of: {', '.join(PARAMS_BY_KIND)}"
        )
    names = list(space.conditions)
    if space.baseline not in space.conditions:
        raise UserError(f"{path}: baseline: '{space.baseline}' is not a condition; use one of: {', '.join(names)}")
    for i, pair in enumerate(space.comparisons or ()):
        for side in pair:
            if side not in space.conditions:
                raise UserError(f"{path}: comparisons.{i}: '{side}' is not a condition; use one of: {', '.join(names)}")
        if pair[0] == pair[1]:
            raise UserError(f"{path}: comparisons.{i}: compares '{pair[0]}' with itself; name two conditions")
    if space.optuna is not None and space.grid:
        raise UserError(f"{path}: optuna: a space has either a grid or an optuna block, not both; remove one")
    known = set(PARAMS_BY_KIND[space.trainable].model_fields)
    _check_keys(path, "params", space.params, known, space.trainable)
    for cname, overrides in space.conditions.items():
        _check_keys(path, f"conditions.{cname}", overrides or {}, known, space.trainable)
    _check_keys(path, "grid", space.grid, known, space.trainable)
    if space.optuna is not None:
        _check_keys(path, "optuna.params", space.optuna.params, known, space.trainable)
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
                f"{path}: metrics.{i}.name: unknown metric '{metric.name}'; use eval/<suite>/pass_at_<k> "
                "or one of the train/ metrics listed in trainables/metrics.py"
            )


def _check_keys(path: Path, where: str, given: dict[str, Any], known: set[str], kind: str) -> None:
    for key in given:
        if key not in known:
            close = (
                [TRL_NAMES[key]]
                if TRL_NAMES.get(key) in known
                else difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.5)
            )
            hint = f"did you mean '{close[0]}'?" if close else f"see trainables/params.py for {kind} parameters"
            raise UserError(f"{path}: {where}.{key}: unknown parameter of {kind}; {hint}")
