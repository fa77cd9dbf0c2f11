"""Space + profile + flags -> the resolved study: built once, saved in study.json, read by everything after.

The resolved study holds the expanded conditions (each with its trainer kind and overrides), the
baseline, the comparisons, the metrics and every keyed trial (conditions x seeds). Grid points and
Optuna draws are expanded here and nowhere else, so the driver, the summary, the analysis and
`study.report` all see the same facts.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from analysis import iterations
from study.errors import UserError
from study.layout import BASE_EVAL_DIR, TRIALS_DIR
from study.profile import Profile
from study.space import LoadedSpace, MetricSpec, OptunaSpec, SearchSpace
from trainables.common.config import TrialConfig
from trainables.common.metrics import BASE_ARM
from trainables.common.specs import DataSpec
from trainables.kinds import KINDS


@dataclass(frozen=True)
class Options:
    """Flags that shape the trials (not where or how they are scheduled)."""

    seeds: int | None = None
    smoke: bool = False
    model: str | None = None
    mbpp_dir: Path | None = None
    train_path: Path | None = None  # overrides the profile's data.train_path (train_source jsonl)
    lcb_dir: Path | None = None  # overrides the path of every livecodebench suite
    sandbox_mode: str = "strict"


class ResolvedCondition(BaseModel):
    """One expanded condition: a named condition at one grid/Optuna point (point None: no grid)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    trainable: str
    overrides: dict[str, Any]
    point: str | None = None


class ResolvedStudy(BaseModel):
    """Everything a study is, resolved once from space x profile x flags."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""
    source: str = ""
    space_file: str
    space_sha256: str
    profile: str
    smoke: bool
    seeds: tuple[int, ...]
    conditions: tuple[ResolvedCondition, ...]
    baseline: str
    comparisons: tuple[tuple[str, str], ...]
    metrics: tuple[MetricSpec, ...]
    family: str
    select_on: str | None = None
    equivalence_margin_pp: float | None = None
    effect_of_interest_pp: float | None = None
    factors: tuple[tuple[str, tuple[str, ...]], ...] = ()  # a crossed design's factors and levels (space.factors)
    levels: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (condition, its level of each factor)
    trend: tuple[str, float, tuple[tuple[str, float], ...]] | None = None  # (level, per, (condition, value)...)
    trials: tuple[TrialConfig, ...]

    @property
    def primary_metric(self) -> MetricSpec:
        return self.metrics[0]

    @property
    def condition_names(self) -> list[str]:
        return [c.name for c in self.conditions]

    @property
    def trainables(self) -> list[str]:
        """The trainer kinds of the study, in condition order, each once."""
        return list(dict.fromkeys(c.trainable for c in self.conditions))

    def keys(self) -> list[str]:
        return [t.key for t in self.trials]

    def finals(self) -> tuple[tuple[str, int], ...]:
        """(condition, the iteration of its last evaluation): what the analysis compares by default."""
        first = {}
        for t in self.trials:
            first.setdefault(t.condition, t.params.final_iteration())
        return tuple(first.items())


def expand_conditions(loaded: LoadedSpace) -> tuple[ResolvedCondition, ...]:
    """Named conditions, each crossed with the grid or the Optuna draws (if any), in expansion order."""
    space = loaded.space
    if space.optuna is not None:
        points = {f"optuna-{i:03d}": p for i, p in enumerate(optuna_configs(space.optuna))}
    elif space.grid:
        keys = sorted(space.grid)
        points = {}
        for values in itertools.product(*(space.grid[k] for k in keys)):
            point = dict(zip(keys, values, strict=True))
            points[",".join(f"{k}={v}" for k, v in point.items())] = point
    else:
        return tuple(ResolvedCondition(name=n, trainable=space.kind_of(n), overrides=space.overrides_of(n))
                     for n in space.conditions)  # fmt: skip
    return tuple(
        ResolvedCondition(
            name=f"{name}[{label}]",
            trainable=space.kind_of(name),
            overrides={**space.overrides_of(name), **point},
            point=label,
        )
        for name in space.conditions
        for label, point in points.items()
    )


def _baseline_and_comparisons(
    loaded: LoadedSpace, conditions: tuple[ResolvedCondition, ...]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The expanded baseline (the baseline at the first grid/Optuna point) and (treatment, baseline)
    pairs: declared comparisons are made within each point; by default every other expanded condition
    is compared with the baseline."""
    space = loaded.space
    points = list(dict.fromkeys(c.point for c in conditions if c.point is not None))
    base = f"{space.baseline}[{points[0]}]" if points else space.baseline
    if space.comparisons and points:
        return base, tuple((_at(t, p), _at(b, p)) for p in points for t, b in space.comparisons)
    if space.comparisons:
        return base, space.comparisons
    return base, tuple((c.name, base) for c in conditions if c.name != base)


def _at(name: str, point: str) -> str:
    """A comparison's arm at one grid/Optuna point: C -> C[point], C@2 -> C[point]@2; the base model as is."""
    if name == BASE_ARM:
        return name
    parsed = iterations.parse(name)
    return f"{parsed[0]}[{point}]@{parsed[1]}" if parsed else f"{name}[{point}]"


def optuna_configs(spec: OptunaSpec) -> list[dict[str, Any]]:
    """`num_configs` parameter sets drawn by an Optuna sampler, deterministic given `spec.seed`."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if spec.sampler == "qmc":
        sampler: optuna.samplers.BaseSampler = optuna.samplers.QMCSampler(qmc_type="sobol", seed=spec.seed)
    else:
        sampler = optuna.samplers.RandomSampler(seed=spec.seed)
    dists: dict[str, optuna.distributions.BaseDistribution] = {}
    for name, p in sorted(spec.params.items()):
        if p.type == "categorical":
            dists[name] = optuna.distributions.CategoricalDistribution(list(p.choices or ()))
        elif p.type == "int":
            dists[name] = optuna.distributions.IntDistribution(int(p.low), int(p.high), log=p.log)  # type: ignore[arg-type]
        else:
            dists[name] = optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)  # type: ignore[arg-type]
    study = optuna.create_study(sampler=sampler)
    configs = []
    for _ in range(spec.num_configs):
        trial = study.ask(dists)
        configs.append(dict(trial.params))
        study.tell(trial, 0.0)  # no feedback: every configuration runs on every seed regardless
    return configs


def resolve_study(
    loaded: LoadedSpace, profile: Profile, opts: Options, out_dir: Path, cache_dir: Path
) -> ResolvedStudy:
    """The study, fully resolved and validated: every (condition, seed) trial with its key."""
    space = loaded.space
    conditions = expand_conditions(loaded)
    baseline, comparisons = _baseline_and_comparisons(loaded, conditions)
    seeds = tuple(range(opts.seeds)) if opts.seeds is not None else space.seed_list
    model = profile.model.model_copy(update={"source": opts.model}) if opts.model else profile.model
    data = _data(profile, opts)
    trials = []
    for cond in conditions:
        own = {**space.params, **cond.overrides}
        implied = KINDS[cond.trainable].params.condition_defaults({**profile.defaults(cond.trainable), **own})
        merged = {**profile.defaults(cond.trainable), **implied, **own}
        if opts.smoke:  # the smoke budget wins over the space's own budget
            merged.update(profile.smoke_overrides(cond.trainable))
        try:
            params = KINDS[cond.trainable].params.model_validate({**merged, "kind": cond.trainable})
        except ValidationError as err:
            first = err.errors()[0]
            key = ".".join(str(x) for x in first["loc"])
            raise UserError(f"{loaded.path}: conditions.{cond.name}.{key}: {first['msg']}; fix the value") from None
        for seed in seeds:
            cfg = TrialConfig(
                study=space.name,
                condition=cond.name,
                seed=seed,
                profile=profile.name,
                params=params,
                model=model,
                lora=profile.lora,
                data=data,
                torch_threads=profile.resources.torch_threads,
                executor_workers=profile.resources.executor_workers,
                sandbox_mode=opts.sandbox_mode,
                cache_dir=cache_dir,
                mbpp_dir=opts.mbpp_dir,
                base_eval_dir=out_dir / BASE_EVAL_DIR,
            )
            trials.append(cfg.model_copy(update={"trial_dir": out_dir / TRIALS_DIR / cfg.key}))
    return ResolvedStudy(
        name=space.name,
        description=space.description,
        source=space.source,
        space_file=str(loaded.path),
        space_sha256=loaded.sha256,
        profile=profile.name,
        smoke=opts.smoke,
        seeds=seeds,
        conditions=conditions,
        baseline=baseline,
        comparisons=comparisons,
        metrics=space.metrics,
        family=space.family,
        select_on=space.select_on,
        equivalence_margin_pp=space.equivalence_margin_pp,
        effect_of_interest_pp=space.effect_of_interest_pp,
        **_design(space, conditions),
        trend=(space.trend.name, space.trend.per, tuple(space.trend.values.items())) if space.trend else None,
        trials=tuple(trials),
    )


def _design(space: SearchSpace, conditions: tuple[ResolvedCondition, ...]) -> dict[str, Any]:
    """The factorial design of the expanded conditions; a grid or Optuna point is one more factor."""
    own = space.levels_of()
    if not own:
        return {}
    factors = space.factor_levels
    points = tuple(dict.fromkeys(c.point for c in conditions if c.point is not None))
    if points:
        factors = (*factors, ("point", points))
    levels = []
    for c in conditions:
        base = c.name.split("[", 1)[0] if c.point is not None else c.name
        if base in own:
            levels.append((c.name, own[base] + ((c.point,) if c.point is not None else ())))
    return {"factors": factors, "levels": tuple(levels)}


def _data(profile: Profile, opts: Options) -> DataSpec:
    """The profile's data with the flags' paths, shrunk under --smoke."""
    data = profile.data
    if opts.train_path is not None:
        data = data.model_copy(update={"train_path": str(opts.train_path)})
    suites = tuple(
        s.model_copy(update={"path": str(opts.lcb_dir)}) if opts.lcb_dir and s.source == "livecodebench" else s
        for s in data.suites
    )
    if opts.smoke:
        suites = tuple(s.model_copy(update={"n": profile.smoke.n_eval}) for s in suites)
        n_train, n_heldout = profile.smoke.n_train, max(profile.smoke.n_eval, 1)
        return data.model_copy(update={"n_train": n_train, "n_heldout": n_heldout, "suites": suites})
    return data.model_copy(update={"suites": suites})
