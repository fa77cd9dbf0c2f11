"""Problems with several reference solutions from a local JSONL file (the SFT data source of real profiles).

One JSON object per line::

    {"problem_id": "p1", "prompt": "Write a function add(a, b) ...", "entry_point": "add",
     "solutions": ["def add(a, b):\\n    return a + b\\n", "def add(a, b):\\n    return sum((a, b))\\n"],
     "tests": ["assert add(1, 2) == 3"]}

or, for stdin/stdout problems, `"io": [{"input": "1 2\\n", "output": "3\\n"}, ...]` instead of `tests` (and
no entry point). `solutions` are full programs, distinct ones first; the sft kind verifies each in the
sandbox before it trains on it. Order in the file is the pool's order.
"""

from __future__ import annotations

import json
from pathlib import Path

from trainables.common.problems import DataUnavailable, Problem

FIELDS = ("problem_id", "prompt", "solutions")


def read_problems(path: str | Path | None) -> tuple[Problem, ...]:
    """Every problem of the file, in order; one clear error for a missing file or a bad line."""
    if path is None:
        raise DataUnavailable("train_source jsonl: set data.train_path to the JSONL file of problems and solutions")
    file = Path(path)
    if not file.is_file():
        raise DataUnavailable(f"train_source jsonl: {file} not found; point data.train_path at the JSONL file")
    out = []
    for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            missing = [f for f in FIELDS if f not in row]
            if missing or not (row.get("tests") or row.get("io")):
                need = ", ".join(missing) if missing else "`tests` or `io`"
                raise ValueError(f"missing {need}")
            io = tuple((str(c["input"]), str(c["output"])) for c in row.get("io", ()))
            solutions = tuple(str(s) for s in row["solutions"])
            out.append(Problem(
                problem_id=str(row["problem_id"]), style="mbpp", text=str(row["prompt"]),
                entry_point=str(row.get("entry_point", "")), tests=tuple(row.get("tests", ())),
                canonical=solutions[0] if solutions else "", io=io, solutions=solutions,
            ))  # fmt: skip
        except (ValueError, TypeError, KeyError) as err:
            raise DataUnavailable(f"{file}:{n}: {err}; each line needs {', '.join(FIELDS)} and tests or io") from None
    return tuple(out)
