"""The fully resolved, frozen configuration of one trial: everything a trainable needs, nothing else.

Built by study/ from profile + space + condition + seed; logged whole with every run and hashed into
the trial key, so the same key always means the same experiment.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from trainables.common.specs import DataSpec, LoraSpec, ModelSpec
from trainables.kinds import TrialParams

LOCATIONS = ("trial_dir", "cache_dir", "mbpp_dir", "base_eval_dir")
"""Fields that say where things live, not what the experiment is: kept out of the hash and the params."""


class TrialConfig(BaseModel):
    """One condition x one seed, resolved."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    study: str
    condition: str
    seed: int
    profile: str
    params: TrialParams
    model: ModelSpec
    lora: LoraSpec
    data: DataSpec
    torch_threads: int = 1
    executor_workers: int = 1
    sandbox_mode: str = "strict"
    # Where things live; excluded from the hash so moving --out does not change the experiment.
    trial_dir: Path = Path(".")
    cache_dir: Path = Path(".")
    mbpp_dir: Path | None = None
    base_eval_dir: Path | None = None  # the study's shared iteration-0 evaluations (None: no sharing)

    def config_hash(self) -> str:
        """sha256 of the experiment-defining fields (not the paths)."""
        body = self.model_dump(mode="json", exclude=set(LOCATIONS))
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    @property
    def key(self) -> str:
        """Deterministic trial key: condition + seed + resolved config hash."""
        return f"{self.condition}__s{self.seed}__{self.config_hash()[:10]}"

    @property
    def trainable(self) -> str:
        """The trainer kind (a name in trainables.kinds.KINDS)."""
        return self.params.kind

    @property
    def run_name(self) -> str:
        return f"{self.study}__{self.condition}__s{self.seed}"
