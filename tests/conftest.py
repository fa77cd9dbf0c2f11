"""Shared test settings: MBPP through a path setting, a shared model cache, the repo root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MBPP_DIR = Path(os.environ.get("CODEABLATE_MBPP_DIR", REPO.parent / "shared" / "data" / "mbpp"))
CACHE_DIR = Path(os.environ.get("CODEABLATE_TEST_CACHE", Path.home() / ".cache" / "codeablate"))


@pytest.fixture
def mbpp_dir() -> Path:
    if not (MBPP_DIR / "sanitized-mbpp.json").is_file():
        pytest.skip(f"MBPP not found at {MBPP_DIR}; set CODEABLATE_MBPP_DIR")
    return MBPP_DIR


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """The real model cache, so the tiny model is built once per machine, not once per test."""
    return CACHE_DIR
