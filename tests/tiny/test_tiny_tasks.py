"""The tiny profile's generated suites: deterministic, disjoint, and self-consistent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trainables.tiny.families import all_families
from trainables.tiny.tasks import EOS, Task, generate_suites, program_from_completion, split_keys

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def suites() -> dict[str, tuple[Task, ...]]:
    return generate_suites(seed=0, n_train=600, n_heldout=120, n_transfer=100)


def test_generation_is_deterministic_for_a_seed(suites):
    assert generate_suites(seed=0, n_train=600, n_heldout=120, n_transfer=100) == suites
    assert generate_suites(seed=1, n_train=600, n_heldout=120, n_transfer=100)["train"] != suites["train"]


def test_generation_ignores_the_interpreter_hash_seed(suites):
    code = (
        "import json; from trainables.tiny.tasks import generate_suites; "
        "s = generate_suites(0, 600, 120, 100); print(json.dumps([t.prompt for v in s.values() for t in v]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [t.prompt for v in suites.values() for t in v]


def test_changing_one_count_leaves_the_other_suites_unchanged(suites):
    other = generate_suites(seed=0, n_train=300, n_heldout=120, n_transfer=100)
    assert other["heldout"] == suites["heldout"]
    assert other["transfer"] == suites["transfer"]


def test_suites_have_the_requested_sizes_ids_and_styles(suites):
    assert {k: len(v) for k, v in suites.items()} == {"train": 600, "heldout": 120, "transfer": 100}
    for split, tasks in suites.items():
        assert [t.task_id for t in tasks] == [f"tiny/{split}/{i:04d}" for i in range(len(tasks))]
    assert {t.style for t in suites["heldout"]} == {"mbpp"}
    assert {t.style for t in suites["transfer"]} == {"humaneval"}
    assert all(t.check is not None for t in suites["transfer"])
    assert all(t.check is None for t in suites["heldout"])


def test_splits_are_disjoint_by_content(suites):
    def content(tasks):
        return {(t.family, t.params) for t in tasks}, {t.canonical.split("\n", 1)[1] for t in tasks}

    train, heldout, transfer = (content(suites[s]) for s in ("train", "heldout", "transfer"))
    for i in range(2):
        assert not train[i] & heldout[i]
        assert not train[i] & transfer[i]
        assert not heldout[i] & transfer[i]
    assert len(content(suites["heldout"])[0]) == len(suites["heldout"])  # each combination once


def test_split_keys_partition_every_family():
    for family in all_families():
        keys = split_keys(family)
        flat = [k for split in keys.values() for k in split]
        assert len(flat) == len(set(flat))
        assert keys["heldout"] and keys["transfer"] and keys["train"]


def _run_all(programs: list[str]) -> list[str]:
    """Run each program in its own namespace inside one subprocess; returns the failures' errors."""
    runner = (
        "import json, sys\nfails = []\n"
        "for src in json.load(sys.stdin):\n"
        "    try:\n        exec(src, {})\n"
        "    except Exception as e:\n        fails.append(repr(e) + ' in ' + src)\n"
        "print(json.dumps(fails))\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", runner], input=json.dumps(programs), capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_every_canonical_solution_passes_its_tests_and_check(suites):
    tasks = [t for v in suites.values() for t in v]
    programs = [t.canonical + "\n".join(t.tests) for t in tasks]
    programs += [f"{t.canonical}\n{t.check}\ncheck({t.entry_point})" for t in tasks if t.check]
    assert _run_all(programs) == []


def test_tests_reject_a_constant_and_the_identity(suites):
    tasks = suites["heldout"] + suites["transfer"]
    programs = [f"def {t.entry_point}(a):\n    return a\n" + "\n".join(t.tests) for t in tasks]
    programs += [
        f"def {t.entry_point}(a):\n    return {t.tests[0].split(' == ', 1)[1]}\n" + "\n".join(t.tests) for t in tasks
    ]
    assert len(_run_all(programs)) == len(programs)


def test_prompts_end_where_the_code_starts(suites):
    for task in suites["train"][:50] + suites["transfer"][:50]:
        assert task.prompt.endswith("\n")
        assert task.entry_point in task.prompt
        assert task.canonical.startswith(f"def {task.entry_point}(")


def test_program_from_completion_cuts_at_eos(suites):
    task = suites["heldout"][0]
    assert program_from_completion(task, task.canonical + EOS + "junk") == task.canonical
    assert program_from_completion(task, "def f(x):\n    return x") == "def f(x):\n    return x\n"
