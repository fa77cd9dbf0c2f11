"""Prompts for the model and programs for the executor, one place for every source and model kind."""

from __future__ import annotations

import re
from typing import Any

from executors import ExecResult, IOCase, Job
from trainables.common.problems import Problem
from trainables.common.specs import ModelSpec

_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.DOTALL)


def user_message(problem: Problem) -> str:
    if problem.style == "humaneval":
        return (
            "Complete the following Python function. Return the whole function in a ```python block.\n"
            f"```python\n{problem.text}```"
        )
    if problem.io:  # stdin/stdout (LiveCodeBench, AtCoder): a whole program, judged by what it prints
        return (
            f"{problem.text}\n\nWrite a Python program that reads the input from standard input and prints the "
            "answer to standard output. Return the whole program in a ```python block."
        )
    shown = f"\nYour code should pass this test:\n{problem.tests[0]}" if problem.tests else ""
    return f"{problem.text}{shown}\nReturn the code in a ```python block."


def render_prompt(problem: Problem, model: ModelSpec, tokenizer: Any) -> str:
    """The text the policy is conditioned on (a chat template for chat models, raw text for tiny)."""
    if problem.style == "tiny" or not model.chat:
        return problem.text if problem.style == "tiny" else user_message(problem)
    messages = [
        {"role": "system", "content": model.system_prompt},
        {"role": "user", "content": user_message(problem)},
    ]
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, **model.chat_template_kwargs
    )


def target(problem: Problem, solution: str, model: ModelSpec) -> str:
    """A reference solution as the completion a supervised example trains on: for a chat model, in the
    ```python block its prompt asks for (what `program` takes back out); the bare program otherwise."""
    if problem.style == "tiny" or not model.chat:
        return solution
    return f"```python\n{solution.rstrip()}\n```"


def extract_code(completion: str) -> str:
    """The first fenced Python block of a completion, else the completion itself."""
    match = _FENCE.search(completion)
    return match.group(1) if match else completion


def program(problem: Problem, completion: str) -> str:
    """The program the executor runs for one completion."""
    if problem.style == "tiny":
        return completion  # tiny prompts hold no signature: the completion is the whole program
    code = extract_code(completion)
    if problem.style == "humaneval" and f"def {problem.entry_point}" not in code:
        return problem.text + code
    return code


def job(problem: Problem, completion: str, job_id: str) -> Job:
    """An executor job: MBPP-style asserts, a HumanEval-style check(), or stdin/stdout cases."""
    if problem.io:
        return Job(id=job_id, program=program(problem, completion), io=tuple(IOCase(i, o) for i, o in problem.io))
    if problem.check is not None:
        return Job(
            id=job_id,
            program=program(problem, completion),
            test=problem.check,
            entry_point=problem.entry_point,
            setup=problem.setup,
            # HumanEval prompts define helpers (e.g. poly) that check() relies on: the judge keeps its own copy
            helpers=problem.text if problem.style == "humaneval" else "",
        )
    return Job(id=job_id, program=program(problem, completion), tests=problem.tests, setup=problem.setup)


def feedback(result: ExecResult) -> str:
    """The execution feedback a repair prompt shows: the first failing test's error or status."""
    return next((t.error or t.status for t in result.tests if t.status != "pass"), result.category)
