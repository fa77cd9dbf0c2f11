"""Quick pass@1 of a tiny model on a task suite, for calibrating the tiny profile while developing.

NOT A SECURITY SANDBOX: programs run in a plain `python -I` subprocess with a timeout and nothing
else. Only run it on models trained here on generated tasks. The project's real evaluation uses the
sandbox in `executors/`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from trainables.tiny.tasks import Task, program_from_completion


def program_with_tests(task: Task, program: str) -> str:
    """The program followed by the task's tests: HumanEval-style check() when present, else the asserts."""
    if task.check is not None:
        return f"{program}\n{task.check}\ncheck({task.entry_point})\n"
    return program + "\n" + "\n".join(task.tests) + "\n"


def run_program(source: str, timeout: float = 5.0) -> bool:
    """True when `source` exits 0 within `timeout` seconds in a fresh isolated interpreter."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prog.py"
        path.write_text(source)
        try:
            result = subprocess.run(
                [sys.executable, "-I", str(path)], cwd=tmp, capture_output=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return False
    return result.returncode == 0


def run_batch(sources: Sequence[str], timeout: float = 5.0, workers: int = 4) -> list[bool]:
    """`run_program` over many sources, a few at a time."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda s: run_program(s, timeout), sources))


def sample_completions(
    model_dir: Path,
    tasks: Sequence[Task],
    n: int = 5,
    temperature: float = 0.2,
    top_p: float = 0.95,
    max_new_tokens: int = 64,
    batch_size: int = 32,
    seed: int = 0,
) -> list[list[str]]:
    """`n` sampled completions per task, shape (len(tasks), n), decoded without special tokens."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(1)  # see model.BUILD_THREADS
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    out: list[list[str]] = []
    for lo in range(0, len(tasks), batch_size):
        chunk = tasks[lo : lo + batch_size]
        enc = tokenizer([t.prompt for t in chunk], return_tensors="pt", padding=True)
        with torch.no_grad():
            gen = model.generate(
                **enc,
                do_sample=True,
                temperature=temperature,
                top_p=top_p,
                num_return_sequences=n,
                max_new_tokens=max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        texts = tokenizer.batch_decode(gen[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        out += [texts[i * n : (i + 1) * n] for i in range(len(chunk))]
    return out


def pass_at_1(model_dir: Path, tasks: Sequence[Task], n: int = 5, **sampling: float) -> tuple[float, list[float]]:
    """Mean over tasks of the fraction of `n` samples passing all tests; also the per-task fractions."""
    completions = sample_completions(model_dir, tasks, n=n, **sampling)
    sources = [
        program_with_tests(t, program_from_completion(t, c))
        for t, cs in zip(tasks, completions, strict=True)
        for c in cs
    ]
    passed = run_batch(sources)
    per_task = [sum(passed[i * n : (i + 1) * n]) / n for i in range(len(tasks))]
    return sum(per_task) / max(1, len(per_task)), per_task
