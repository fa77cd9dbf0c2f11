"""Token budgets of the tiny format, and the quick (unsandboxed) pass@1 helpers."""

from __future__ import annotations

import pytest

from trainables.tiny.evaluate_quick import program_with_tests, run_batch, run_program
from trainables.tiny.tasks import Task, completion_text, generate_suites
from trainables.tiny.tokenizer import train_tokenizer


@pytest.fixture(scope="module")
def suites() -> dict[str, tuple[Task, ...]]:
    return generate_suites(seed=0, n_train=800, n_heldout=60, n_transfer=60)


def test_completions_and_prompts_stay_short(suites):
    tokenizer = train_tokenizer((t.prompt + completion_text(t) for t in suites["train"]), 1024, 128)
    tasks = [t for v in suites.values() for t in v]
    completion_lengths = [len(tokenizer(completion_text(t))["input_ids"]) for t in tasks]
    prompt_lengths = sorted(len(tokenizer(t.prompt)["input_ids"]) for t in tasks)
    assert min(completion_lengths) >= 10 and max(completion_lengths) <= 60
    assert prompt_lengths[int(0.95 * len(prompt_lengths))] <= 64
    assert prompt_lengths[-1] + max(completion_lengths) <= 128


def test_quick_runner_tells_pass_fail_and_timeout():
    assert run_program("assert 1 + 1 == 2\n")
    assert not run_program("assert 1 + 1 == 3\n")
    assert not run_program("while True:\n    pass\n", timeout=1.0)
    assert run_batch(["pass\n", "raise SystemExit(1)\n"]) == [True, False]


def test_program_with_tests_uses_check_for_transfer_and_asserts_otherwise(suites):
    heldout, transfer = suites["heldout"][0], suites["transfer"][0]
    assert run_program(program_with_tests(heldout, heldout.canonical))
    assert run_program(program_with_tests(transfer, transfer.canonical))
    assert f"check({transfer.entry_point})" in program_with_tests(transfer, transfer.canonical)
    wrong = f"def {heldout.entry_point}(*args):\n    return None\n"
    assert not run_program(program_with_tests(heldout, wrong))
