"""The tiny world's material for the four studies: distinct verified solutions, stdin/stdout problems,
lint-bearing corpus variants, the corpus's defects, and verified preference pairs."""

from __future__ import annotations

import random

import pytest

from executors import SandboxExecutor
from trainables.common.lint import findings
from trainables.common.pairs import pair_pool, pairs_for
from trainables.common.problems import tiny_problem
from trainables.common.prompting import job
from trainables.common.rollouts import Rollout
from trainables.tiny.corpus import build_corpus, family_rates
from trainables.tiny.families import ARG, all_families
from trainables.tiny.io_tasks import IO_SPLITS
from trainables.tiny.solutions import (
    LINT_RULES,
    LINT_SHARE,
    SHARES,
    alternates,
    clean_solutions,
    distinct,
    program,
    structure,
    with_print_habit,
)
from trainables.tiny.tasks import EOS, Task, generate_io_suites, generate_suites, split_keys


@pytest.fixture(scope="module")
def suites() -> dict[str, tuple[Task, ...]]:
    return generate_suites(seed=0, n_train=300, n_heldout=40, n_transfer=40)


@pytest.fixture(scope="module")
def io_suites() -> dict[str, tuple[Task, ...]]:
    return generate_io_suites(seed=0, n_train=120, n_val=30, n_test=30)


@pytest.fixture(scope="module")
def executor():
    with SandboxExecutor(workers=2) as ex:
        yield ex


def _verdicts(executor, tasks: tuple[Task, ...], programs: list[tuple[Task, str]]):
    jobs = [job(tiny_problem(t), code, f"j{i}") for i, (t, code) in enumerate(programs)]
    return executor.run(jobs)


def test_every_family_has_five_distinct_clean_solutions_per_instance():
    for family in all_families():
        params = split_keys(family)["train"][0]
        solutions = clean_solutions(family, params, "f")
        assert len(solutions) >= 5, family.name
        assert len({structure(s) for s in solutions}) == len(solutions), family.name


def test_structure_ignores_names_and_whitespace_but_not_shape():
    a = "def f(x):\n    return x + 3\n"
    renamed = "def g(y):\n\n    return y + 3  # same\n"
    temp = "def f(x):\n    result = x + 3\n    return result\n"
    assert structure(a) == structure(renamed)
    assert structure(a) != structure(temp)
    assert distinct([a, renamed, temp]) == (a, temp)


def test_train_solutions_pass_in_the_sandbox_and_the_misconception_fails(suites, executor):
    tasks = suites["train"][:80] + suites["transfer"][:20]
    right = [(t, s) for t in tasks for s in t.solutions]
    results = _verdicts(executor, tasks, right + [(t, t.wrong) for t in tasks])
    good, bad = results[: len(right)], results[len(right) :]
    assert all(len(t.solutions) >= 5 for t in tasks)
    assert [r.category for r in good if r.category != "pass"] == []
    assert all(r.category != "pass" for r in bad)


def test_io_suites_are_deterministic_disjoint_and_judged_by_exact_output(io_suites, executor):
    assert generate_io_suites(seed=0, n_train=120, n_val=30, n_test=30) == io_suites
    assert generate_io_suites(seed=1, n_train=120, n_val=30, n_test=30) != io_suites
    keys = {s: {(t.family, t.params) for t in io_suites[s]} for s in IO_SPLITS}
    assert not keys["io_train"] & keys["io_val"] and not keys["io_train"] & keys["io_test"]
    assert not keys["io_val"] & keys["io_test"]
    tasks = io_suites["io_train"][:30] + io_suites["io_test"][:10]
    assert all(t.style == "io" and len(t.io) >= 3 and not t.tests for t in tasks)
    assert all(len(t.solutions) >= 5 for t in tasks)
    right = [(t, s) for t in tasks for s in t.solutions]
    silent = [(t, t.solutions[0].rsplit("print(", 1)[0] + "\n") for t in tasks]  # computes, never prints
    results = _verdicts(executor, tasks, right + [(t, t.wrong) for t in tasks] + silent)
    good, rest = results[: len(right)], results[len(right) :]
    assert [r.category for r in good if r.category != "pass"] == []
    assert all(r.passed < r.total for r in rest)
    assert {r.total for r in good} == {len(tasks[0].io)}


def test_io_prompt_shows_the_input_format_and_an_example(io_suites):
    task = next(t for t in io_suites["io_test"] if t.spec == "described")
    assert task.prompt.startswith("# Input: one line")
    assert f"# Example input: {task.io[0][0].rstrip()}" in task.prompt
    assert task.io[1][1].rstrip() not in task.prompt.split("Example output:", 2)[-1] or len(task.io) > 2


def test_clean_solutions_have_no_lint_findings_and_each_lint_wrapper_exactly_its_rule(suites):
    tasks = suites["train"][:40]
    assert all(codes == [] for codes in findings([s for t in tasks for s in t.solutions]))
    corpus = build_corpus(tasks, {name: (0.0, 0.0) for name in family_rates(0, (0.1, 0.9), 0.3)})
    texts = [c.removesuffix(EOS) for item in corpus for c in item.completions]
    weights = [w for item in corpus for w in item.weights]
    found = findings(texts)
    assert {tuple(codes) for codes in found if codes} == {(rule,) for rule in LINT_RULES}
    share = sum(w for w, codes in zip(weights, found, strict=True) if codes) / len(corpus)
    assert share == pytest.approx(LINT_SHARE)


def test_corpus_carries_the_defects_at_the_family_rates(suites):
    rates = family_rates(0, (0.1, 0.9), 0.3)
    assert rates == family_rates(0, (0.1, 0.9), 0.3) and rates != family_rates(1, (0.1, 0.9), 0.3)
    assert all(0.1 <= h <= 0.9 and 0.0 <= b <= 0.3 for h, b in rates.values())
    habit_wrappers = SHARES["direct"] + SHARES["temp"] + SHARES["helper"] + 3 * LINT_SHARE / len(LINT_RULES)
    expression_wrappers = 1.0 - SHARES["alternates"]
    for task, item in zip(suites["train"][:40], build_corpus(suites["train"][:40], rates), strict=True):
        assert sum(item.weights) == pytest.approx(1.0)
        habit, bug = rates[task.family]
        pairs = list(zip(item.completions, item.weights, strict=True))
        family = next(f for f in all_families() if f.name == task.family)
        wrong = family.render(task.params, family.bug)
        assert sum(w for c, w in pairs if "print(" in c) == pytest.approx(habit * habit_wrappers)
        alts = {program(task.entry_point, ARG[family.kind], b) + EOS for b in alternates(family, task.params)}
        with_bug = sum(w for c, w in pairs if c not in alts and (f"{wrong}\n" in c or f"{wrong})\n" in c))
        assert with_bug == pytest.approx(bug * expression_wrappers), task.family


def test_print_habit_rewrites_only_the_last_return():
    body = "    def inner(x):\n        return x + 1\n\n    return inner(x)\n"
    assert with_print_habit(body) == "    def inner(x):\n        return x + 1\n\n    print(inner(x))\n"


def _roll(pid: str, completion: str, ok: bool) -> Rollout:
    return Rollout(pid, "# p\n", completion, ok, "pass" if ok else "wrong_answer", "")


def test_pairs_contrast_distinct_passing_and_failing_samples():
    group = [_roll("p", "a", True), _roll("p", "a", True), _roll("p", "b", True), _roll("p", "x", False)]
    pairs = pairs_for(group)
    assert [(p.chosen, p.rejected) for p in pairs] == [("a", "x"), ("b", "x")]
    assert pairs_for([_roll("q", "a", True)]) == []
    many = [[_roll("r", str(i), i < 4) for i in range(8)]]
    assert len(pair_pool(many, 100, seed=0)) == 16
    capped = pair_pool(many, 5, seed=0)
    assert len(capped) == 5 and capped == pair_pool(many, 5, seed=0)
    assert all(p.chosen != p.rejected for p in capped)


def test_rates_and_corpus_are_seeded_not_global():
    rng_state = random.getstate()
    assert family_rates(3, (0.1, 0.9), 0.3) == family_rates(3, (0.1, 0.9), 0.3)
    assert random.getstate() == rng_state


def test_pairs_leave_out_infrastructure_faults():
    fault = Rollout("p", "# p\n", "b", False, "sandbox_error", "")
    assert pairs_for([_roll("p", "a", True), fault, _roll("p", "b", True)]) == []
