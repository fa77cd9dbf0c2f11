"""Token budgets of the tiny format, and its tasks judged by the sandbox as the trials judge them."""

from __future__ import annotations

import pytest

from executors import SandboxExecutor
from trainables.common.problems import tiny_problem
from trainables.common.prompting import job
from trainables.common.rewards import exec_reward
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


def test_sandbox_passes_canonical_and_fails_wrong_code_in_both_test_styles(suites):
    heldout, transfer = tiny_problem(suites["heldout"][0]), tiny_problem(suites["transfer"][0])
    assert heldout.tests and heldout.check is None  # MBPP-style asserts
    assert transfer.check is not None and not transfer.tests  # HumanEval-style check(candidate)
    wrong = "def {}(*args):\n    return None\n"
    jobs = [
        job(heldout, heldout.canonical, "h-ok"),
        job(transfer, transfer.canonical, "t-ok"),
        job(heldout, wrong.format(heldout.entry_point), "h-bad"),
        job(transfer, wrong.format(transfer.entry_point), "t-bad"),
    ]
    with SandboxExecutor(workers=1) as ex:
        results = ex.run(jobs)
    assert [r.category for r in results[:2]] == ["pass", "pass"]
    assert all(exec_reward(r) < 1.0 and r.category != "pass" for r in results[2:])
