"""The tiny profile's generated task suites: deterministic from a seed, disjoint train and held-out splits.

Format (plain text, no chat template). The prompt never contains the signature: the model writes the
whole function, and the program to execute is the completion itself (cut at the first EOS), see
`program_from_completion`. Two prompt styles:

- "mbpp" (train, heldout): a comment with the description and one of the test asserts::

      # Add 7 to x.
      # assert add_k(3) == 10

- "humaneval" (some train families, and the whole transfer suite): a module docstring with the
  signature, the description and a doctest::

      \"\"\"add_k(x)
      Add 7 to x.
      >>> add_k(3)
      10
      \"\"\"

The completion is `def add_k(x):\\n    return x + 7\\n` followed by EOS.

A share of the tasks (EXAMPLES_SHARE, in every split) is specified by two examples and no sentence
(`spec="examples"`): the model must infer the operation and its constant, which it rarely manages.
Described tasks mostly test copying constants into the right template. The mix sets the pass rate.

Splits are made on (family, parameters): per family, its parameter combinations are ranked by a
hash and the first ~15% go to heldout, the next ~15% to transfer, the rest to train; train and
held-out tasks therefore never share an expression. Test inputs are drawn until they tell the
function apart from a constant, from the identity and from the family's misconception (`Task.wrong`).
Each task carries its clean solutions of different structure (`Task.solutions`, solutions.py);
`generate_io_suites` draws the stdin/stdout suites (io_tasks.py) on the same partition.

The transfer suite (the HumanEval stand-in) is in the "humaneval" style, which train uses only for
the integer and string single-step families, so half of it asks for list and chained families in a
style the model never saw them in.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import random
from dataclasses import dataclass

from trainables.tiny.families import ARG, Family, all_families, is_trivial, returns_list, sample_input
from trainables.tiny.io_tasks import IO_SPLITS, clean_scripts, draw_cases, io_prompt, render_input, render_output
from trainables.tiny.solutions import clean_solutions, differs, program, wrap

EOS = "<|endoftext|>"
PAD = "<|pad|>"
SPLITS = ("train", "heldout", "transfer")
HELDOUT_SHARE = 0.15  # of each family's parameter combinations, for heldout and again for transfer
TRAIN_HUMANEVAL_GROUPS = ("int", "str")  # groups that train also shows in the "humaneval" style
TRAIN_HUMANEVAL_SHARE = 0.3
N_TESTS = 3
EXAMPLES_SHARE = 0.4  # tasks specified by examples alone: the hard part, which sets the pass rate


@dataclass(frozen=True)
class Task:
    """One generated problem, shaped like an MBPP/HumanEval record."""

    task_id: str  # e.g. "tiny/train/0042"
    family: str
    prompt: str  # the text the model is conditioned on; ends right where the code starts
    entry_point: str  # function name
    tests: tuple[str, ...]  # MBPP-style assert statements, e.g. "assert add_k(2) == 5"
    canonical: str  # a correct solution (full code, `def ...`)
    check: str | None = None  # HumanEval-style test code defining check(candidate), for the transfer suite
    params: tuple[str, ...] = ()  # the family's parameters, as source literals
    style: str = "mbpp"  # prompt style: "mbpp" or "humaneval"
    spec: str = "described"  # "described" (a sentence and one example) or "examples" (two examples only)
    solutions: tuple[str, ...] = ()  # correct lint-free programs of different structure, canonical first
    wrong: str = ""  # the family's misconception as a program: fails at least one test by construction
    io: tuple[tuple[str, str], ...] = ()  # stdin/stdout cases (input, expected output), style "io" only


def program_from_completion(task: Task, completion: str) -> str:
    """The program to execute for a completion: the completion itself, cut at the first EOS.

    The prompt never holds the signature, so nothing is prefixed; `task` is taken so that callers do
    not depend on that choice.
    """
    del task
    code = completion.split(EOS, 1)[0]
    return code if code.endswith("\n") else code + "\n"


def completion_text(task: Task) -> str:
    """The supervised target for a task: its canonical code followed by EOS."""
    return task.canonical + EOS


def _stable_rank(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


@functools.cache
def split_keys(family: Family) -> dict[str, tuple[tuple[str, ...], ...]]:
    """A family's parameter combinations by split: a fixed partition, independent of the seed."""
    keys = [k for k in itertools.product(*family.domains) if not is_trivial(family, k)]
    keys.sort(key=lambda p: _stable_rank(family.name, *p))
    n_out = max(1, round(HELDOUT_SHARE * len(keys)))
    return {
        "heldout": tuple(keys[:n_out]),
        "transfer": tuple(keys[n_out : 2 * n_out]),
        "train": tuple(keys[2 * n_out :]),
    }


def _prompt(style: str, spec: str, name: str, arg: str, description: str, examples: list[tuple[str, str]]) -> str:
    shown = examples[:1] if spec == "described" else examples[:2]
    if style == "mbpp":
        lines = [description] if spec == "described" else []
        lines += [f"assert {call} == {expected}" for call, expected in shown]
        return "".join(f"# {line}\n" for line in lines)
    lines = [f"{name}({arg})"] + ([description] if spec == "described" else [])
    lines += [line for call, expected in shown for line in (f">>> {call}", expected)]
    return '"""' + "\n".join(lines) + '\n"""\n'


def _compile(source: str, name: str):
    namespace: dict[str, object] = {}
    exec(source, namespace)  # our own generated code
    return namespace[name]


def _draw_tests(fn, bad, kind: str, params: tuple[str, ...], rng: random.Random, n: int = N_TESTS):
    """Distinct test inputs and their outputs, redrawn until the tests tell the function apart from
    a constant, from the identity and from the family's misconception `bad` (so none passes them)."""
    for _ in range(500):
        inputs = []
        while len(inputs) < n:
            value = sample_input(kind, params, rng)
            if value not in inputs:
                inputs.append(value)
        results = [fn(eval(v)) for v in inputs]  # literals we just generated
        varied = len({repr(r) for r in results}) > 1
        caught = any(differs(bad, eval(v), r) for v, r in zip(inputs, results, strict=True))
        if varied and caught and any(r != eval(v) for r, v in zip(results, inputs, strict=True)):
            return inputs, results
    raise ValueError(f"tiny tasks: no tests tell {params} apart from its misconception; change the family")


def make_task(task_id: str, family: Family, params: tuple[str, ...], style: str, spec: str, rng: random.Random) -> Task:
    """Instantiate one task: draw its name, phrasing and test inputs, and compute expected outputs."""
    name = rng.choice(family.names)
    arg = ARG[family.kind]
    description = family.render(params, rng.choice(family.phrasings))
    solutions = clean_solutions(family, params, name)
    wrong = program(name, arg, wrap("direct", arg, family.render(params, family.bug)))
    inputs, results = _draw_tests(_compile(solutions[0], name), _compile(wrong, name), family.kind, params, rng)
    outputs = [repr(r) for r in results]
    tests = tuple(f"assert {name}({v}) == {o}" for v, o in zip(inputs, outputs, strict=True))
    calls = [f"{name}({v})" for v in inputs]
    prompt = _prompt(style, spec, name, arg, description, list(zip(calls, outputs, strict=True)))
    check = None
    if style == "humaneval":
        lines = [f"    assert candidate({v}) == {o}" for v, o in zip(inputs, outputs, strict=True)]
        check = "def check(candidate):\n" + "\n".join(lines) + "\n"
    return Task(task_id, family.name, prompt, name, tests, solutions[0], check, params, style, spec, solutions, wrong)


def _draw(split: str, keys: str, n: int, rng: random.Random, unique: bool, make) -> tuple[Task, ...]:
    """n tasks of `split`: family group first, then family, then parameters from the `keys` partition;
    `unique`: each (family, parameters) at most once. make(task_id, family, params, rng) -> Task."""
    families = all_families()
    groups = sorted({f.group for f in families})
    by_group = {g: [f for f in families if f.group == g] for g in groups}
    pools = {f.name: split_keys(f)[keys] for f in families}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    tasks: list[Task] = []
    for _ in range(200 * max(n, 1)):
        if len(tasks) == n:
            break
        family = rng.choice(by_group[rng.choice(groups)])
        params = rng.choice(pools[family.name])
        if unique and (family.name, params) in seen:
            continue  # held-out suites hold each combination once
        seen.add((family.name, params))
        tasks.append(make(f"tiny/{split}/{len(tasks):04d}", family, params, rng))
    if len(tasks) < n:
        raise ValueError(f"tiny tasks: cannot draw {n} distinct {split} tasks; ask for fewer")
    return tuple(tasks)


def _draw_split(split: str, n: int, rng: random.Random) -> tuple[Task, ...]:
    def make(task_id: str, family: Family, params: tuple[str, ...], rng: random.Random) -> Task:
        if split == "transfer":
            style = "humaneval"
        elif split == "train" and family.group in TRAIN_HUMANEVAL_GROUPS:
            style = "humaneval" if rng.random() < TRAIN_HUMANEVAL_SHARE else "mbpp"
        else:
            style = "mbpp"
        spec = "examples" if rng.random() < EXAMPLES_SHARE else "described"
        return make_task(task_id, family, params, style, spec, rng)

    return _draw(split, split, n, rng, split != "train", make)


def generate_suites(seed: int, n_train: int, n_heldout: int, n_transfer: int) -> dict[str, tuple[Task, ...]]:
    """Draw the three suites {"train", "heldout", "transfer"}; the same arguments give the same tasks.

    Each split has its own RNG stream (derived from `seed` and the split name), so changing one count
    leaves the other suites unchanged.
    """
    counts = {"train": n_train, "heldout": n_heldout, "transfer": n_transfer}
    return {s: _draw_split(s, counts[s], random.Random(_stable_rank(seed, s))) for s in SPLITS}


def make_io_task(task_id: str, family: Family, params: tuple[str, ...], spec: str, rng: random.Random) -> Task:
    """Instantiate one stdin/stdout task: its cases, prompt, clean scripts and the misconception."""
    arg = ARG[family.kind]
    description = family.render(params, rng.choice(family.phrasings))
    fn = _compile(program("f", arg, wrap("direct", arg, family.render(params, family.body))), "f")
    bad = _compile(program("f", arg, wrap("direct", arg, family.render(params, family.bug))), "f")
    cases = draw_cases(fn, bad, family.kind, params, rng)
    is_list = returns_list(family)
    io = tuple((render_input(v), render_output(r)) for v, r in cases)
    scripts = clean_scripts(family, params, is_list)
    wrong = clean_scripts(dataclasses.replace(family, body=family.bug), params, is_list)[0]
    prompt = io_prompt(family.kind, description, spec, list(io))
    return Task(task_id, family.name, prompt, "", (), scripts[0], None, params, "io", spec, scripts, wrong, io)


def _draw_io_split(split: str, n: int, rng: random.Random) -> tuple[Task, ...]:
    def make(task_id: str, family: Family, params: tuple[str, ...], rng: random.Random) -> Task:
        spec = "examples" if rng.random() < EXAMPLES_SHARE else "described"
        return make_io_task(task_id, family, params, spec, rng)

    return _draw(split, IO_SPLITS[split], n, rng, split != "io_train", make)


def generate_io_suites(seed: int, n_train: int, n_val: int, n_test: int) -> dict[str, tuple[Task, ...]]:
    """Draw the stdin/stdout suites {"io_train", "io_val", "io_test"}; one RNG stream per split."""
    counts = {"io_train": n_train, "io_val": n_val, "io_test": n_test}
    return {s: _draw_io_split(s, counts[s], random.Random(_stable_rank(seed, s))) for s in IO_SPLITS}
