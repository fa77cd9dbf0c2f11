"""Trainer kind -> trial function, imported lazily (no torch/TRL import until a trial runs)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

RUNNERS = {"grpo": "trainables.grpo:run"}


def runner(kind: str) -> Callable[..., Any]:
    module, name = RUNNERS[kind].split(":")
    return getattr(importlib.import_module(module), name)
