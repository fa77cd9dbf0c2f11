"""LiveCodeBench `code_generation_lite` as an evaluation suite: stdin/stdout problems judged by exact output.

The data set is a set of JSONL files (test.jsonl, test2.jsonl, ... one per release); each row has
question_title, question_content, platform, question_id, contest_id, contest_date (ISO), starter_code,
difficulty, public_test_cases (a JSON list of {input, output, testtype}), private_test_cases (the same,
either plain JSON or base64 of zlib of a pickled JSON string) and metadata (JSON). A suite reads them
from a local file or folder (the suite's `path`, else --lcb-dir / CODEABLATE_LCB_DIR) or downloads the
release's files from the hub, then keeps the problems of its platforms, difficulties and contest-date
window. Only stdin problems (AtCoder, Codeforces) are kept: LeetCode's functional tests call a method
of a class, which the sandbox's io mode does not judge, so those are left out.
"""

from __future__ import annotations

import base64
import io
import json
import os
import pickle
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

from trainables.common.problems import DataUnavailable, Problem
from trainables.common.specs import SuiteSpec

LCB_ENV = "CODEABLATE_LCB_DIR"
HUB_ID = "livecodebench/code_generation_lite"
FIELDS = ("question_id", "question_content", "platform", "contest_date", "public_test_cases", "private_test_cases")
FILES = ("test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl", "test6.jsonl")


def release_files(release: str) -> tuple[str, ...]:
    """The files of a version tag: release_vN is files 1..N (cumulative), vN file N alone."""
    tag = release.removeprefix("release_")
    if tag == "latest":
        return FILES
    if tag.startswith("v") and tag[1:].isdigit() and 1 <= int(tag[1:]) <= len(FILES):
        n = int(tag[1:])
        return FILES[:n] if release.startswith("release_") else (FILES[n - 1],)
    raise DataUnavailable(
        f"livecodebench: unknown release '{release}'; use release_v1..release_v{len(FILES)}, release_latest or vN"
    )


class _NoGlobals(pickle.Unpickler):
    """The private tests are a pickled str: refuse anything that names a class or function."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing {module}.{name}: private tests must be a pickled string")


def decode_tests(field: str) -> list[dict[str, str]]:
    """A test-case field as a list of {input, output, testtype}: plain JSON, or LCB's compressed form."""
    try:
        return json.loads(field)
    except json.JSONDecodeError:
        pass
    raw = _NoGlobals(io.BytesIO(zlib.decompress(base64.b64decode(field.encode("ascii"))))).load()
    return json.loads(raw)


def lcb_dir_from(flag: Path | None) -> Path | None:
    """The local LiveCodeBench folder or file from the flag, else the environment; None: the hub."""
    if flag is not None:
        return flag
    env = os.environ.get(LCB_ENV)
    return Path(env) if env else None


def load(spec: SuiteSpec) -> tuple[Problem, ...]:
    """The suite's problems, ordered by (contest date, question id), filtered by its spec."""
    problems = []
    for where, row in _rows(spec):  # filtered first: only the kept rows' tests are decoded
        if spec.platforms and row["platform"] not in spec.platforms:
            continue
        if spec.difficulties and row.get("difficulty") not in spec.difficulties:
            continue
        day = row["_day"]
        if (spec.date_from and day < spec.date_from) or (spec.date_to and day > spec.date_to):
            continue
        problem = _problem(row, where)
        if problem is not None:
            problems.append((day, problem))
    if not problems:
        raise DataUnavailable(
            f"livecodebench suite '{spec.name}': no stdin problems match platforms {list(spec.platforms) or 'all'}, "
            f"difficulties {list(spec.difficulties) or 'all'}, dates {spec.date_from}..{spec.date_to} in "
            f"{spec.release}; widen the window or check the files"
        )
    problems.sort(key=lambda dp: (dp[0], dp[1].problem_id))
    return tuple(p for _, p in problems)


def _rows(spec: SuiteSpec) -> list[tuple[str, dict[str, Any]]]:
    names = release_files(spec.release)
    where = Path(spec.path) if spec.path else None
    if where is None:
        return [row for name in names for row in _read(_hub_file(name, spec.name))]
    if where.is_file():
        return _read(where)
    if not where.is_dir():
        raise DataUnavailable(
            f"livecodebench suite '{spec.name}': {where} not found; point the suite's path, --lcb-dir or "
            f"{LCB_ENV} at a code_generation_lite file or a folder of its test*.jsonl files"
        )
    missing = [n for n in names if not (where / n).is_file()]
    if missing:
        raise DataUnavailable(
            f"livecodebench suite '{spec.name}': {where} lacks {', '.join(missing)} of {spec.release}; download "
            "them from the hub's livecodebench/code_generation_lite, or choose the release the folder holds"
        )
    return [row for n in names for row in _read(where / n)]


def _hub_file(name: str, suite: str) -> Path:
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(HUB_ID, name, repo_type="dataset"))
    except Exception as err:
        raise DataUnavailable(
            f"livecodebench suite '{suite}': not found locally and the hub is unreachable ({type(err).__name__}); "
            f"set --lcb-dir or {LCB_ENV} to a folder holding the code_generation_lite files"
        ) from None


def _read(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(file:line, row) with the row's contest day parsed; its tests are decoded later, if it is kept."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            missing = [f for f in FIELDS if f not in row]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            row["_day"] = datetime.fromisoformat(str(row["contest_date"])).date()
        except (ValueError, TypeError) as err:
            raise DataUnavailable(f"{path}:{n}: not a code_generation_lite row ({err}); check the file") from None
        rows.append((f"{path}:{n}", row))
    return rows


def _problem(row: dict[str, Any], where: str) -> Problem | None:
    """A stdin problem (public cases first, then private); None for a problem with functional tests."""
    try:
        tests = decode_tests(row["public_test_cases"]) + decode_tests(row["private_test_cases"])
        if not tests or any(t.get("testtype", "stdin") != "stdin" for t in tests):
            return None
        io = tuple((str(t["input"]), str(t["output"])) for t in tests)
    except Exception as err:  # corrupt compressed tests fail in many ways (zlib, pickle, struct, types)
        raise DataUnavailable(f"{where}: unreadable test cases ({type(err).__name__}); check the file") from None
    return Problem(problem_id=f"lcb/{row['question_id']}", style="lcb", text=str(row["question_content"]),
                   entry_point="", io=io, cluster=str(row.get("contest_id") or ""))  # fmt: skip
