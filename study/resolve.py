"""Space + profile + flags -> the frozen list of trials (conditions x seeds), each with its key."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from study.errors import UserError
from study.profile import Profile
from study.space import LoadedSpace, OptunaSpec
from trainables.config import TrialConfig
from trainables.params import PARAMS_BY_KIND
from trainables.specs import DataSpec, SuiteSpec


@dataclass(frozen=True)
class Options:
    """Flags that shape the trials (not where or how they are scheduled)."""

    seeds: int | None = None
    smoke: bool = False
    model: str | None = None
    mbpp_dir: Path | None = None
    sandbox_mode: str = "strict"


def expand_conditions(loaded: LoadedSpace) -> dict[str, dict[str, Any]]:
    """Named conditions, each crossed with the grid (if any): name -> parameter overrides."""
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
        return {name: dict(over or {}) for name, over in space.conditions.items()}
    return {
        f"{name}[{label}]": {**(over or {}), **point}
        for name, over in space.conditions.items()
        for label, point in points.items()
    }


def _points(loaded: LoadedSpace) -> list[str]:
    """Grid or Optuna point labels in expansion order ([] for a plain conditions space)."""
    names = list(expand_conditions(loaded))
    base = loaded.space.baseline
    return [n[len(base) + 1 : -1] for n in names if n.startswith(base + "[")]


def resolved_baseline(loaded: LoadedSpace) -> str:
    """The baseline condition's name after expansion: the baseline at the first grid/Optuna point."""
    points = _points(loaded)
    return f"{loaded.space.baseline}[{points[0]}]" if points else loaded.space.baseline


def resolved_comparisons(loaded: LoadedSpace) -> tuple[tuple[str, str], ...]:
    """(treatment, baseline) pairs over expanded condition names.

    Declared comparisons are made within each grid/Optuna point; by default every other expanded
    condition is compared with the resolved baseline.
    """
    space = loaded.space
    points = _points(loaded)
    if space.comparisons and points:
        return tuple((f"{t}[{p}]", f"{b}[{p}]") for p in points for t, b in space.comparisons)
    if space.comparisons:
        return space.comparisons
    base = resolved_baseline(loaded)
    return tuple((c, base) for c in expand_conditions(loaded) if c != base)


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


def seeds_for(loaded: LoadedSpace, opts: Options) -> tuple[int, ...]:
    return tuple(range(opts.seeds)) if opts.seeds is not None else loaded.space.seed_list


def resolve_trials(
    loaded: LoadedSpace, profile: Profile, opts: Options, out_dir: Path, cache_dir: Path
) -> list[TrialConfig]:
    """Every (condition, seed) trial, fully resolved and validated."""
    space = loaded.space
    params_cls = PARAMS_BY_KIND[space.trainable]
    model = profile.model.model_copy(update={"source": opts.model}) if opts.model else profile.model
    data = _data(profile, opts.smoke)
    trials = []
    for cname, overrides in expand_conditions(loaded).items():
        merged = {**profile.params, **space.params, **overrides}
        if opts.smoke:
            merged.update(profile.smoke.params)
        try:
            params = params_cls.model_validate(merged)
        except ValidationError as err:
            first = err.errors()[0]
            key = ".".join(str(x) for x in first["loc"])
            raise UserError(f"{loaded.path}: conditions.{cname}.{key}: {first['msg']}; fix the value") from None
        for seed in seeds_for(loaded, opts):
            cfg = TrialConfig(
                study=space.name,
                condition=cname,
                seed=seed,
                trainable=space.trainable,
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
            )
            trials.append(cfg.model_copy(update={"trial_dir": out_dir / "trials" / cfg.key}))
    return trials


def _data(profile: Profile, smoke: bool) -> DataSpec:
    if not smoke:
        return profile.data
    suites = tuple(SuiteSpec(name=s.name, source=s.source, n=profile.smoke.n_eval) for s in profile.data.suites)
    return profile.data.model_copy(
        update={"n_train": profile.smoke.n_train, "n_heldout": max(profile.smoke.n_eval, 1), "suites": suites}
    )
