"""argparse with one-line errors (exit 2), shared by the study commands."""

from __future__ import annotations

import argparse
from typing import NoReturn

from study.errors import fail


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line naming the fix."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message}; see `python -m {self.prog} --help`")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def trial_gpus(text: str) -> float:
    """A GPU count per trial as Ray takes it: a fraction below 1 (trials share a GPU) or a whole number."""
    value = _number(text)
    if value < 0 or (value > 1 and not value.is_integer()):
        raise argparse.ArgumentTypeError(f"{text}: give a fraction of one GPU (e.g. 0.5) or a whole number of GPUs")
    return value


def positive_number(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value
