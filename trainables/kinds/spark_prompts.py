"""SPARK example formats: (prompt, target) text for each auxiliary type, and token encoding.

Two renderings of the same three formats:
- raw text (the tiny profile, or a non-chat model): the task part is `render_prompt` (tiny: the comment
  or docstring the function follows), then the candidate code and a `#` comment asking the question;
- chat: the task part is the user message `render_prompt` uses, with the question appended (pointwise,
  pairwise) or a second user turn carrying the execution feedback (reflection).
A target always ends with the tokenizer's EOS, as a rollout does. The repair prompt doubles as the
prompt of the reflection fix-rate evaluation, so the skill trained is the skill measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trainables.common.problems import Problem
from trainables.common.prompting import extract_code, render_prompt, user_message
from trainables.common.specs import ModelSpec
from trainables.kinds.spark_mining import Judgment, Preference, Repair

FIX_REQUEST = "Return the whole corrected code in a ```python block."
FEEDBACK_CHARS = 160  # execution feedback shown in a repair prompt: the last line, clipped


@dataclass(frozen=True)
class Encoded:
    """One tokenised aux example: `ids` = prompt + target tokens; loss on ids[n_prompt:]."""

    kind: str
    ids: tuple[int, ...]
    n_prompt: int
    weight: float


def _chat(problem: Problem, spec: ModelSpec) -> bool:
    return problem.style != "tiny" and spec.chat


def _code(problem: Problem, text: str) -> str:
    """Code as the model writes it: raw for tiny, a fenced block otherwise."""
    if problem.style == "tiny":
        return text.rstrip("\n") + "\n"
    return f"```python\n{extract_code(text).strip()}\n```\n"


def _feedback(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "failed")[:FEEDBACK_CHARS]


def _raw_task(problem: Problem, spec: ModelSpec, tokenizer: Any) -> str:
    base = render_prompt(problem, spec, tokenizer)
    return base if base.endswith("\n") else base + "\n"


def _template(spec: ModelSpec, tokenizer: Any, turns: list[dict[str, str]]) -> str:
    messages = [{"role": "system", "content": spec.system_prompt}, *turns]
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, **spec.chat_template_kwargs
    )


def pointwise(problem: Problem, item: Judgment, spec: ModelSpec, tokenizer: Any) -> tuple[str, str]:
    code = _code(problem, item.completion)
    answer = "Correct" if item.correct else "Incorrect"
    if _chat(problem, spec):
        question = "Is this candidate correct? Answer Correct or Incorrect."
        ask = f"{user_message(problem)}\n\nCandidate solution:\n{code}\n{question}"
        return _template(spec, tokenizer, [{"role": "user", "content": ask}]), answer
    base = _raw_task(problem, spec, tokenizer)
    return f"{base}{code}# Is the code above correct? Answer Correct or Incorrect.\n# Answer:", f" {answer}"


def pairwise(problem: Problem, item: Preference, spec: ModelSpec, tokenizer: Any) -> tuple[str, str]:
    a, b = (item.passing, item.failing) if item.passing_is_a else (item.failing, item.passing)
    code_a, code_b = _code(problem, a), _code(problem, b)
    answer = "A" if item.passing_is_a else "B"
    if _chat(problem, spec):
        ask = (
            f"{user_message(problem)}\n\nCandidate A:\n{code_a}\nCandidate B:\n{code_b}\n"
            "Exactly one candidate is correct. Which one? Answer A or B."
        )
        return _template(spec, tokenizer, [{"role": "user", "content": ask}]), answer
    base = _raw_task(problem, spec, tokenizer)
    question = "# Exactly one candidate is correct. Which one? Answer A or B.\n# Answer:"
    return f"{base}# Candidate A:\n{code_a}# Candidate B:\n{code_b}{question}", f" {answer}"


def repair_prompt(problem: Problem, completion: str, feedback: str, spec: ModelSpec, tokenizer: Any) -> str:
    """Ask for a fix of `completion` given its execution feedback (training and the fix-rate evaluation)."""
    note = _feedback(feedback)
    if _chat(problem, spec):
        turns = [
            {"role": "user", "content": user_message(problem)},
            {"role": "assistant", "content": completion},
            {
                "role": "user",
                "content": f"Running your code failed: {note}\nFix it. {FIX_REQUEST}",
            },
        ]
        return _template(spec, tokenizer, turns)
    base = _raw_task(problem, spec, tokenizer)
    return f"{base}{_code(problem, completion)}# Execution failed: {note}\n# Fixed program:\n"


def reflection(problem: Problem, item: Repair, spec: ModelSpec, tokenizer: Any) -> tuple[str, str]:
    target = _code(problem, item.target)
    prompt = repair_prompt(problem, item.failing, item.feedback, spec, tokenizer)
    return prompt, target.rstrip("\n") if _chat(problem, spec) else target


RENDER = {"pointwise": pointwise, "pairwise": pairwise, "reflection": reflection}


def encode(prompt: str, target: str, tokenizer: Any) -> tuple[list[int], list[int]]:
    """(prompt ids, target ids + EOS), tokenised apart so the loss mask falls on a token boundary."""
    p = tokenizer(prompt, add_special_tokens=False, verbose=False)["input_ids"]
    t = tokenizer(target, add_special_tokens=False, verbose=False)["input_ids"] + [tokenizer.eos_token_id]
    return list(p), list(t)
