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
