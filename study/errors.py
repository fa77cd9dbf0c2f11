"""User-facing errors: one line naming what is wrong, where, and the fix; exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import NoReturn, TypeVar

EXIT_USAGE = 2

F = TypeVar("F", bound=Callable[..., int | None])


class UserError(Exception):
    """A mistake in the user's input (space file, flag, profile, data path).

    The message is a single line: `where: what is wrong; how to fix it`.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


def fail(message: str) -> NoReturn:
    """Print a one-line error to stderr and exit with code 2."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def cli_errors(main: F) -> F:
    """Turn a UserError raised anywhere under `main` into a one-line message and exit code 2."""

    @wraps(main)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return main(*args, **kwargs)
        except UserError as err:
            fail(str(err))

    return wrapper  # type: ignore[return-value]
