"""LiveCodeBench code_generation_lite as a suite: the hub's file layout and encodings, the contest-date
window and filters, clear errors, and its problems judged by exact output in the real sandbox."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from executors import SandboxExecutor
from tests.fixtures.lcb import compress, write_lcb
from trainables.common.livecodebench import FILES, decode_tests, load, release_files
from trainables.common.problems import DataUnavailable
from trainables.common.prompting import job, user_message
from trainables.common.specs import SuiteSpec


@pytest.fixture(scope="module")
def lcb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lcb(tmp_path_factory.mktemp("lcb"))


def suite(path: Path, **kw: object) -> SuiteSpec:
    return SuiteSpec(name="io_test", source="livecodebench", path=str(path), **kw)


def test_both_test_encodings_decode_and_a_pickled_object_is_refused():
    cases = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    assert decode_tests(json.dumps(cases)) == decode_tests(compress(cases)) == cases
    hostile = base64.b64encode(zlib.compress(pickle.dumps(Path("/etc")))).decode()
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        decode_tests(hostile)


def test_release_tags_map_to_the_hub_files():
    assert release_files("release_v1") == ("test.jsonl",)
    assert release_files("release_v6") == FILES and release_files("release_latest") == FILES
    assert release_files("v6") == ("test6.jsonl",)
    with pytest.raises(DataUnavailable, match="unknown release 'v9'"):
        release_files("v9")


def test_window_platform_and_difficulty_choose_the_problems(lcb: Path):
    seed_window = suite(lcb, platforms=["atcoder"], difficulties=["easy"], date_from="2024-08-01", date_to="2025-02-28")
    got = load(seed_window)
    assert [p.problem_id for p in got] == ["lcb/abc901_a", "lcb/abc902_a"]  # by contest date
    assert got[0].style == "lcb" and len(got[0].io) == 3  # public case first, then the private ones
    assert got[0].io[0] == ("3\n1 5 2\n", "5\n")
    everything = {p.problem_id for p in load(suite(lcb))}
    assert "lcb/two-sum" not in everything and len(everything) == 6  # functional (LeetCode) tests left out
    assert [p.problem_id for p in load(suite(lcb, release="v1"))] == ["lcb/abc900_a", "lcb/abc901_a", "lcb/abc902_a"]


def test_problems_are_judged_by_exact_output_in_the_sandbox(lcb: Path):
    (problem,) = load(suite(lcb, date_to="2024-03-31"))
    assert "standard input" in user_message(problem)
    right = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    wrong = "```python\na, b = map(int, input().split())\nprint(a - b)\n```"
    with SandboxExecutor(workers=1) as ex:
        results = ex.run([job(problem, right, "right"), job(problem, wrong, "wrong")])
    assert [r.category for r in results] == ["pass", "wrong_answer"]
    assert len(results[0].tests) == 4  # every case, public and private


def test_bad_input_gets_one_line_errors(lcb: Path, tmp_path: Path):
    with pytest.raises(DataUnavailable, match="not found; point the suite's path, --lcb-dir"):
        load(suite(tmp_path / "nowhere"))
    (tmp_path / "part").mkdir()
    (tmp_path / "part" / "test.jsonl").write_text("")
    with pytest.raises(DataUnavailable, match=r"lacks test2.jsonl, .* of release_v6"):
        load(suite(tmp_path / "part"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question_id": "x"}) + "\n")
    with pytest.raises(DataUnavailable, match=r"bad.jsonl:1: not a code_generation_lite row \(missing"):
        load(suite(bad))
    row = json.loads((lcb / "test.jsonl").read_text().splitlines()[0])
    (tmp_path / "corrupt.jsonl").write_text(json.dumps({**row, "private_test_cases": "eJzLSM3JyQcABiwCFQ=="}) + "\n")
    with pytest.raises(DataUnavailable, match=r"corrupt.jsonl:1: unreadable test cases"):
        load(suite(tmp_path / "corrupt.jsonl"))
    (tmp_path / "date.jsonl").write_text(json.dumps({**row, "contest_date": "last spring"}) + "\n")
    with pytest.raises(DataUnavailable, match=r"date.jsonl:1: not a code_generation_lite row"):
        load(suite(tmp_path / "date.jsonl"))
    with pytest.raises(DataUnavailable, match="no stdin problems match"):
        load(suite(lcb, date_from="2030-01-01"))
    with pytest.raises(ValidationError, match="only a livecodebench suite takes these"):
        SuiteSpec(name="h", source="humaneval", date_from="2024-01-01")
    with pytest.raises(ValidationError, match="is after date_to"):
        suite(lcb, date_from="2025-01-01", date_to="2024-01-01")


def test_a_chat_models_sft_target_is_the_fenced_block_its_prompt_asks_for(lcb: Path):
    from trainables.common.prompting import program, target
    from trainables.common.specs import ModelSpec

    (problem,) = load(suite(lcb, date_to="2024-03-31"))
    code = "print(sum(map(int, input().split())))\n"
    fenced = target(problem, code, ModelSpec(source="x", chat=True))
    assert fenced.startswith("```python\n") and fenced.endswith("\n```")
    assert program(problem, fenced).strip() == code.strip()
    assert target(problem, code, ModelSpec(source="x", chat=False)) == code


def test_a_suite_that_declares_clusters_keeps_each_problems_contest(lcb: Path):
    from trainables.common.problems import load_suite
    from trainables.common.specs import DataSpec

    data = DataSpec(train_source="tiny", n_train=4, n_heldout=4, suites=(suite(lcb),))
    clustered = load_suite(suite(lcb, clusters=True, release="v1"), data)
    assert [p.cluster for p in clustered] == ["abc900", "abc901", "abc902"]
    assert {p.cluster for p in load_suite(suite(lcb, release="v1"), data)} == {""}  # not declared: none
