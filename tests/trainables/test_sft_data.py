"""The sft kind's data and schedule: equal example budgets, verified solutions only, evenly spaced points."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pydantic import ValidationError

from executors import SandboxExecutor
from trainables.common.jsonl_source import read_problems
from trainables.common.problems import DataUnavailable, tiny_problem
from trainables.kinds.sft import eval_steps
from trainables.kinds.sft_config import SFTParams
from trainables.kinds.sft_data import build
from trainables.tiny.solutions import structure
from trainables.tiny.tasks import generate_suites


@pytest.fixture(scope="module")
def pool():
    return tuple(tiny_problem(t) for t in generate_suites(seed=0, n_train=40, n_heldout=4, n_transfer=4)["train"])


@pytest.fixture(scope="module")
def executor():
    with SandboxExecutor(workers=2) as ex:
        yield ex


def test_eval_points_are_evenly_spaced_and_end_at_the_last_step():
    assert eval_steps(50, 8) == [6, 12, 19, 25, 31, 38, 44, 50]
    assert eval_steps(3, 8) == [1, 2, 3]
    assert eval_steps(1, 1) == [1]


def test_the_example_budget_must_be_met():
    assert SFTParams(n_problems=200, solutions_per_problem=1, examples=200).final_iteration() == 8
    SFTParams(n_problems=40, solutions_per_problem=5, examples=200)
    with pytest.raises(ValidationError, match="the product equals the budget"):
        SFTParams(n_problems=40, solutions_per_problem=4, examples=200)


def test_deep_diverse_and_duplicate_data_share_a_budget_and_the_pool_front(pool, executor):
    prompts = [p.text for p in pool]
    deep = build(pool, prompts, 20, 1, False, executor)
    diverse = build(pool, prompts, 4, 5, False, executor)
    dup = build(pool, prompts, 4, 5, True, executor)
    assert len(deep.examples) == len(diverse.examples) == len(dup.examples) == 20
    assert [e.problem_id for e in deep.examples] == [p.problem_id for p in pool[:20]]
    assert {e.problem_id for e in diverse.examples} == {p.problem_id for p in pool[:4]}
    for pid in {e.problem_id for e in diverse.examples}:
        mine = [e.completion for e in diverse.examples if e.problem_id == pid]
        assert len({structure(c) for c in mine}) == 5  # distinct structures
        copies = [e.completion for e in dup.examples if e.problem_id == pid]
        assert len(copies) == 5 and len(set(copies)) == 1
    assert len({deep.sha256, diverse.sha256, dup.sha256}) == 3
    assert build(pool, prompts, 4, 5, False, executor).sha256 == diverse.sha256


def test_only_verified_solutions_are_trained_on(pool, executor):
    wrong = "def nope(x):\n    return None\n"
    broken = dataclasses.replace(pool[0], solutions=(wrong, *pool[0].solutions[1:]))
    short = dataclasses.replace(pool[1], solutions=(wrong, wrong, *pool[1].solutions[:4]))
    tampered = (broken, short, *pool[2:])
    data = build(tampered, [p.text for p in tampered], 3, 5, False, executor)
    assert wrong not in {e.completion for e in data.examples}
    assert data.unverified == 3 and data.skipped_problems == 1  # `short` has four verified solutions
    assert [e.problem_id for e in data.examples][::5] == [pool[0].problem_id, pool[2].problem_id, pool[3].problem_id]
    with pytest.raises(DataUnavailable, match="lower n_problems or solutions_per_problem"):
        build(pool[:3], [p.text for p in pool[:3]], 4, 5, False, executor)


FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "sft_solutions.jsonl"


def test_a_jsonl_source_gives_problems_with_several_solutions_verified_before_use(executor, tmp_path):
    problems = read_problems(FIXTURE)
    assert [p.problem_id for p in problems] == ["add", "double", "neg"]
    assert problems[1].io and not problems[1].tests and len(problems[0].solutions) == 3
    data = build(problems, [p.text for p in problems], 2, 2, False, executor)
    assert [e.problem_id for e in data.examples] == ["add", "add", "double", "double"]
    assert "return a - b" not in "".join(e.completion for e in data.examples)
    assert data.unverified == 1 and data.n_problems == 2
    with pytest.raises(DataUnavailable, match="lower n_problems"):
        build(problems, [p.text for p in problems], 3, 2, False, executor)  # neg has one verified solution
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"problem_id": "x", "prompt": "p", "solutions": []}\n')
    with pytest.raises(DataUnavailable, match=r"bad.jsonl:1: missing `tests` or `io`"):
        read_problems(bad)
    with pytest.raises(DataUnavailable, match=r"not found; point data\.train_path"):
        read_problems(tmp_path / "none.jsonl")
