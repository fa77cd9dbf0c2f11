"""Profiles: named bundles of model, data, budget and resources, chosen with `--profile`.

Each profile is a YAML file in `profiles/`; its `params` are defaults for the trainable's typed
hyperparameters and `smoke` holds the reduced budget that `--smoke` applies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from study.errors import UserError
from study.yamlio import format_validation_error, load_yaml
from trainables.specs import DataSpec, LoraSpec, ModelSpec

PROFILES_DIR = Path(__file__).resolve().parent.parent / "profiles"


class Resources(BaseModel):
    """Per-trial Ray resources."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cpu: float = Field(1, gt=0)
    gpu: float = Field(0, ge=0, description="A fraction shares one GPU between trials.")
    torch_threads: int = Field(1, ge=1, description="torch intra-op threads inside a trial.")
    executor_workers: int = Field(1, ge=1, description="Sandbox worker processes per trial.")


class Smoke(BaseModel):
    """What `--smoke` shrinks: trainable params and problem counts."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    params: dict[str, Any] = Field(default_factory=dict)
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
    params: dict[str, Any] = Field(default_factory=dict)
    smoke: Smoke = Smoke()
    resources: Resources = Resources()


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_profile(name: str) -> Profile:
    """Load and validate `profiles/<name>.yaml` (or a YAML path)."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UserError(f"--profile: unknown profile '{name}'; available: {', '.join(available_profiles())}")
    raw = load_yaml(path)
    try:
        return Profile.model_validate(raw)
    except ValidationError as err:
        raise UserError(format_validation_error(path, err)) from None
