"""Ruff findings of programs: one pinned CLI call over a temporary folder, mapped back per program.

Ruff has no stable Python API, and its default rule set changes between releases, so the call is
always `--isolated` (no project config) with an explicit `--select`. One call for a whole batch costs
about as much as a few single-snippet calls (research note dpo-sft-gspo-ruff.md).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

#: Rules that flag sloppy but working code: unused imports and variables, comparisons to None/True,
#: bare excepts, lambda assignments. Fixed so that findings mean the same in every run.
DEFAULT_RULES = ("F401", "F841", "E711", "E712", "E722", "E731")

#: The broad selection of the ruff reward and of the Ruff profile of every evaluation: errors, pyflakes,
#: warnings, bugbear, comprehensions, complexity, simplify, performance, pylint, pyupgrade, bandit,
#: ruff's own, returns, unused arguments, builtins shadowing, naming. Fixed, so profiles compare.
RUFF_SELECT = ("E", "F", "W", "B", "C4", "C90", "SIM", "PERF", "PL", "UP", "S", "RUF", "RET", "ARG", "A", "N")
RUFF_IGNORE = ("PLR2004", "S101")  # magic-value comparisons and asserts fire on almost every small solution


def ruff_bin() -> str:
    """The ruff executable of the installed `ruff` package (one clear error if it is missing)."""
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError as err:
        raise RuntimeError("ruff is not installed; run `pip install -e .` (ruff is a dependency)") from err
    return os.fsdecode(find_ruff_bin())


SYNTAX = "invalid-syntax"
"""The code of a program Ruff cannot parse (its JSON gives no rule code for it)."""

CATEGORIES = (
    "correctness", "suspicious", "security", "complexity", "performance", "style", "pedantic", "formatting",
    "restriction",
)  # fmt: skip
"""Ruff's own rule categories (`ruff rule --all`), most to least serious."""


@functools.lru_cache(maxsize=1)
def rule_categories() -> dict[str, str]:
    """Rule code -> its category, from the installed ruff's own metadata (`ruff rule --all`); a syntax
    error is `correctness`."""
    out = subprocess.run(
        [ruff_bin(), "rule", "--all", "--output-format", "json"], capture_output=True, text=True, check=True
    )
    table = {r["code"]: r["category"] for r in json.loads(out.stdout) if r.get("category") in CATEGORIES}
    return {**table, SYNTAX: "correctness"}


def findings(
    programs: Sequence[str], rules: Sequence[str] = DEFAULT_RULES, threads: int = 1, ignore: Sequence[str] = ()
) -> list[list[str]]:
    """Per program, the codes of its Ruff findings under `rules` minus `ignore` (sorted; "invalid-syntax"
    for a program Ruff cannot parse), in input order."""
    if not programs:
        return []
    with tempfile.TemporaryDirectory(prefix="lint-") as tmp:
        root = Path(tmp)
        for i, source in enumerate(programs):
            (root / f"p{i:06d}.py").write_text(source, encoding="utf-8", errors="replace")
        command = [ruff_bin(), "check", "--isolated", "--no-cache", "--output-format", "json", "--exit-zero"]
        out = subprocess.run(
            [*command, "--select", ",".join(rules), *(["--ignore", ",".join(ignore)] if ignore else []), str(root)],
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            check=True,
            env={**os.environ, "RAYON_NUM_THREADS": str(threads)},
        )
        found: list[list[str]] = [[] for _ in programs]
        for item in json.loads(out.stdout or "[]"):
            index = int(Path(item["filename"]).stem[1:])
            found[index].append(item.get("code") or SYNTAX)
    return [sorted(codes) for codes in found]
