"""Trial checkpoints: everything the next iteration depends on, so a resumed trial is the same trial.

A checkpoint `<trial_dir>/checkpoints/iter_NNN/` holds the LoRA adapter (PEFT's files), the
optimizer state that carries across iterations, the RNG states of python, numpy and torch (and CUDA),
whatever the kind keeps between iterations (`kind_state`, JSON), and the iteration's reported metrics.
It is written into a temporary folder and renamed, so a kill leaves either the whole checkpoint or
none. The newest two checkpoints are complete; older ones keep their adapter only (AdamW's state is
twice the adapter's size: for a 3B model's LoRA, kept at every iteration of every trial, gigabytes).
Every kind and the driver use this module; nobody else knows the layout. No learning-rate scheduler
is stored: transformers rebuilds it at every `train()` call, so at an iteration boundary its state is
its initial state.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DIR = "checkpoints"
_NAME = re.compile(r"^iter_([0-9]+)$")
STATE = "trial_state.json"
TRAIN_STATE = "train_state.pt"
ADAPTER = "adapter_model.safetensors"


@dataclass(frozen=True)
class Checkpoint:
    """A saved iteration: where it is, which iteration, the kind's state and the reported metrics."""

    path: Path
    iteration: int
    trial_key: str
    kind_state: dict[str, Any]
    metrics: dict[str, float]


def rng_state() -> dict[str, Any]:
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(
    trial_dir: Path,
    trial_key: str,
    iteration: int,
    model: Any,
    *,
    optimizer: Any = None,
    kind_state: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
) -> Path:
    """Write iteration `iteration`'s checkpoint atomically; returns its folder."""
    import torch

    final = trial_dir / DIR / f"iter_{iteration:03d}"
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(str(tmp))
    train_state = {"rng": rng_state(), "optimizer": optimizer.state_dict() if optimizer is not None else None}
    torch.save(train_state, tmp / TRAIN_STATE)
    body = {"iteration": iteration, "trial_key": trial_key, "kind_state": kind_state or {}, "metrics": metrics or {}}
    (tmp / STATE).write_text(json.dumps(body, sort_keys=True))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for number, older in _folders(trial_dir):
        if number < iteration - 1:
            (older / TRAIN_STATE).unlink(missing_ok=True)  # adapter only from now on: not a resume point
    return final


def read(path: Path) -> Checkpoint | None:
    """The checkpoint in `path` (a folder save() wrote, or Ray's copy of it); None if it is not one."""
    state = path / STATE
    if not state.is_file() or not (path / TRAIN_STATE).is_file():
        return None
    body = json.loads(state.read_text())
    return Checkpoint(path, int(body["iteration"]), body["trial_key"], body["kind_state"], body["metrics"])


def latest(trial_dir: Path) -> Checkpoint | None:
    """The newest complete checkpoint a trial wrote, if any."""
    found = [c for c in (read(p) for _, p in _folders(trial_dir)) if c]
    return found[-1] if found else None


def _folders(trial_dir: Path) -> list[tuple[int, Path]]:
    """(iteration, folder) of every checkpoint folder, by iteration (temporary folders excluded)."""
    found = [(int(m.group(1)), p) for p in (trial_dir / DIR).glob("iter_*") if (m := _NAME.match(p.name))]
    return sorted(found)


def restore(ckpt: Checkpoint, model: Any, optimizer: Any = None) -> None:
    """Load the adapter into `model` (a PeftModel), the optimizer state into `optimizer`, and the RNG states."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(model, load_file(str(ckpt.path / ADAPTER)))
    train_state = torch.load(ckpt.path / TRAIN_STATE, weights_only=False)
    if optimizer is not None and train_state["optimizer"] is not None:
        optimizer.load_state_dict(train_state["optimizer"])
    set_rng_state(train_state["rng"])
