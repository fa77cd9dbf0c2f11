"""Profiles: named bundles of model, data, budget and resources, chosen with `--profile`.

Each profile is a YAML file in `profiles/`; `eval` holds defaults of the evaluation params every kind
shares, `params.<kind>` defaults of each trainer kind's own params, and `smoke` the reduced budget
that `--smoke` applies (the same two blocks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from study.errors import UserError
from study.yamlio import format_validation_error, load_yaml
from trainables.common.specs import DataSpec, LoraSpec, ModelSpec

PROFILES_DIR = Path(__file__).resolve().parent.parent / "profiles"


class Resources(BaseModel):
    """Per-trial Ray resources."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cpu: float = Field(1, gt=0)
    gpu: float = Field(0, ge=0, description="A fraction shares one GPU between trials.")
    torch_threads: int = Field(1, ge=1, description="torch intra-op threads inside a trial.")
    executor_workers: int = Field(1, ge=1, description="Sandbox worker processes per trial.")


class Smoke(BaseModel):
    """What `--smoke` shrinks: evaluation and kind params, and problem counts."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    eval: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    n_train: int = Field(4, ge=1)
    n_eval: int = Field(4, ge=1)


class Profile(BaseModel):
    """A named, frozen bundle of model, adapter, data, hyperparameter defaults and resources."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""
    model: ModelSpec
    lora: LoraSpec = LoraSpec()
    data: DataSpec
    eval: dict[str, Any] = Field(default_factory=dict, description="EvalParams defaults (every kind).")
    params: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Per kind: its params' defaults.")
    smoke: Smoke = Smoke()
    resources: Resources = Resources()

    def defaults(self, kind: str) -> dict[str, Any]:
        """This profile's parameter defaults for a kind: eval, then the kind's own."""
        return {**self.eval, **self.params.get(kind, {})}

    def smoke_overrides(self, kind: str) -> dict[str, Any]:
        """What `--smoke` sets for a kind, over the space's values."""
        return {**self.smoke.eval, **self.smoke.params.get(kind, {})}


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_profile(name: str) -> Profile:
    """Load and validate `profiles/<name>.yaml` (or a YAML path)."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UserError(f"--profile: unknown profile '{name}'; available: {', '.join(available_profiles())}")
    raw = load_yaml(path)
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as err:
        raise UserError(format_validation_error(path, err)) from None
    from trainables.kinds import KINDS

    for where, block in (("params", profile.params), ("smoke.params", profile.smoke.params)):
        for kind in block:
            if kind not in KINDS:
                raise UserError(f"{path}: {where}.{kind}: {KINDS.miss(kind)}")
    return profile
