"""A name -> entry lookup whose miss lists the valid names (lm-eval's Registry, in a few lines).

Trainer kinds (trainables/kinds) and reward functions (trainables/common/rewards.py) are registries;
the space schema, `--help` and every "did you mean" hint read them rather than a second list.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownName(LookupError):
    """A name not in a registry; the message lists the valid names."""


class Registry(Mapping[str, T], Generic[T]):
    """Read-only mapping of registered entries; `registry[name]` on a miss raises `UnknownName`."""

    def __init__(self, what: str, entries: dict[str, T]) -> None:
        self.what = what
        self._entries = dict(entries)

    def __getitem__(self, name: str) -> T:
        if name not in self._entries:
            raise UnknownName(self.miss(name))
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def miss(self, name: str) -> str:
        """'unknown <what> 'x'; did you mean 'y'? valid: a, b' (the hint only when one is close)."""
        close = difflib.get_close_matches(name, list(self._entries), n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"unknown {self.what} '{name}'; {hint}valid: {', '.join(self._entries)}"
