"""SPARK mining and example formats on hand-built rollouts: exact pools, caps, A/B balance, targets."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from trainables.common.problems import Problem
from trainables.common.rollouts import Rollout
from trainables.common.specs import ModelSpec
from trainables.kinds.grpo_config import GRPOParams
from trainables.kinds.spark_mining import Preference, assign_sides, build_pool, mine
from trainables.kinds.spark_prompts import pairwise, pointwise, reflection, repair_prompt

PROBLEMS = (
    *(Problem(f"p{i}", "tiny", f"# task {i}\n", "f", canonical=f"def f():\n    return {i}\n") for i in range(1, 5)),
    Problem("p5", "tiny", "# task 5\n", "f"),  # no canonical
)


def roll(pid: str, completion: str, passed: bool, category: str | None = None, feedback: str = "") -> Rollout:
    category = category or ("pass" if passed else "wrong_answer")
    return Rollout(pid, f"# {pid}\n", completion, passed, category, feedback, 0)


ROLLOUTS = [
    roll("p1", "a1", True),
    roll("p1", "b1", False, feedback="AssertionError: f() == 1"),
    roll("p1", "a2", True),
    roll("p1", "b2", False, feedback="NameError: x"),
    roll("p1", "b1", False, feedback="AssertionError: f() == 1"),  # duplicate: counted once
    roll("p2", "c1", False, feedback="boom"),
    roll("p2", "c2", False, category="syntax_error"),  # no feedback text: the category stands in
    roll("p3", "d1", True),  # all pass: nothing to repair or contrast
    roll("p4", "e1", False, category="sandbox_error"),  # the sandbox failed, not the model: skipped
    roll("p5", "f1", False),  # no sibling, no canonical
]


def test_mine_yields_every_candidate_of_each_type():
    pool = mine(ROLLOUTS, PROBLEMS, "correct_or_canonical", random.Random(0))
    assert [(j.problem_id, j.completion, j.correct) for j in pool.pointwise] == [
        ("p1", "a1", True),
        ("p1", "a2", True),
        ("p1", "b1", False),
        ("p1", "b2", False),
        ("p2", "c1", False),
        ("p2", "c2", False),
        ("p3", "d1", True),
        ("p5", "f1", False),
    ]
    assert [(p.problem_id, p.failing) for p in pool.pairwise] == [("p1", "b1"), ("p1", "b2")]
    assert all(p.passing in ("a1", "a2") for p in pool.pairwise)
    assert [(r.problem_id, r.failing, r.target_source) for r in pool.reflection] == [
        ("p1", "b1", "sibling"),
        ("p1", "b2", "sibling"),
        ("p2", "c1", "canonical"),
        ("p2", "c2", "canonical"),
    ]


def test_reflection_targets_follow_the_target_mode():
    both = mine(ROLLOUTS, PROBLEMS, "correct_or_canonical", random.Random(0)).reflection
    assert [r.target for r in both if r.problem_id == "p2"] == [PROBLEMS[1].canonical] * 2
    assert all(r.target in ("a1", "a2") for r in both if r.problem_id == "p1")
    assert [r.feedback for r in both] == [
        "AssertionError: f() == 1",
        "NameError: x",
        "boom",
        "syntax_error",
    ]
    only_correct = mine(ROLLOUTS, PROBLEMS, "correct", random.Random(0)).reflection
    assert [(r.problem_id, r.target_source) for r in only_correct] == [("p1", "sibling"), ("p1", "sibling")]


def test_nothing_is_mined_from_a_problem_without_a_failing_rollout():
    pool = mine([roll("p3", "d1", True), roll("p3", "d2", True)], PROBLEMS, "correct_or_canonical", random.Random(0))
    assert len(pool.pointwise) == 2 and pool.pairwise == () and pool.reflection == ()


def test_unknown_problem_is_an_error():
    with pytest.raises(KeyError, match="p9"):
        mine([roll("p9", "x", False)], PROBLEMS, "correct", random.Random(0))


def test_caps_keep_a_seeded_subset_in_original_order():
    params = GRPOParams(aux_pool_pointwise=3, aux_pool_pairwise=1, aux_pool_reflection=2)
    pool, dropped = build_pool(ROLLOUTS, PROBLEMS, params, random.Random(7))
    assert pool.sizes() == {"pointwise": 3, "pairwise": 1, "reflection": 2} and dropped == 0
    full = mine(ROLLOUTS, PROBLEMS, "correct_or_canonical", random.Random(0))
    keys = [(j.problem_id, j.completion) for j in full.pointwise]
    kept = [keys.index((j.problem_id, j.completion)) for j in pool.pointwise]
    assert kept == sorted(kept)
    again, _ = build_pool(ROLLOUTS, PROBLEMS, params, random.Random(7))
    assert again == pool
    uncapped, _ = build_pool(ROLLOUTS, PROBLEMS, GRPOParams(), random.Random(7))
    assert uncapped.sizes() == {"pointwise": 8, "pairwise": 2, "reflection": 4}


def test_candidates_that_do_not_fit_are_dropped_and_counted_and_the_cap_refills():
    params = GRPOParams(aux_pool_pointwise=5, aux_pool_pairwise=0, aux_pool_reflection=0)
    pool, dropped = build_pool(
        ROLLOUTS, PROBLEMS, params, random.Random(1), fits=lambda kind, item: item.completion.startswith("b")
    )
    assert sorted(j.completion for j in pool.pointwise) == ["b1", "b2"]
    assert dropped == 6  # the cap was not reached, so every other candidate was looked at


def test_pairwise_sides_are_balanced_and_seeded():
    prefs = [Preference("p1", "a", f"b{i}") for i in range(9)]
    sides = assign_sides(prefs, random.Random(3))
    assert Counter(p.passing_is_a for p in sides) == {True: 5, False: 4}
    assert [p.failing for p in sides] == [p.failing for p in prefs]
    assert assign_sides(prefs, random.Random(3)) == sides
    draws = {tuple(p.passing_is_a for p in assign_sides(prefs, random.Random(s))) for s in range(10)}
    assert len(draws) > 1


def test_tiny_formats_put_code_after_the_task_and_answer_after_the_question():
    problem = PROBLEMS[0]
    spec = ModelSpec(source="tiny")
    prompt, target = pairwise(problem, Preference("p1", "good\n", "bad\n", passing_is_a=False), spec, None)
    assert prompt.startswith(problem.text) and prompt.index("bad") < prompt.index("good")
    assert prompt.endswith("# Answer:") and target == " B"
    _, target = pointwise(problem, mine(ROLLOUTS, PROBLEMS, "correct", random.Random(0)).pointwise[2], spec, None)
    assert target == " Incorrect"
    repair = mine(ROLLOUTS, PROBLEMS, "correct_or_canonical", random.Random(0)).reflection[2]
    prompt, target = reflection(PROBLEMS[1], repair, spec, None)
    assert prompt == "# task 2\nc1\n# Execution failed: boom\n# Fixed program:\n"
    assert target == PROBLEMS[1].canonical


class _ChatTokenizer:
    """apply_chat_template as a chat model's tokenizer does it, in a readable toy template."""

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
        body = "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in messages)
        return body + ("<assistant>" if add_generation_prompt else "")


def test_chat_formats_use_the_task_message_and_fence_the_code():
    problem = Problem(problem_id="mbpp/1", style="mbpp", text="Write f.", entry_point="f", tests=("assert f() == 1",))
    spec = ModelSpec(source="x", chat=True, system_prompt="SYS")
    judged = mine([roll("mbpp/1", "x = 1", True)], [problem], "correct", random.Random(0)).pointwise[0]
    prompt, target = pointwise(problem, judged, spec, _ChatTokenizer())
    assert prompt.startswith("<system>SYS</system><user>Write f.\nYour code should pass this test:\nassert f() == 1")
    assert "```python\nx = 1\n```" in prompt and prompt.endswith("<assistant>") and target == "Correct"
    fix = repair_prompt(problem, "```python\nx = 2\n```", "Traceback\nAssertionError", spec, _ChatTokenizer())
    assert "<assistant>```python\nx = 2\n```</assistant>" in fix
    assert "Running your code failed: AssertionError" in fix
