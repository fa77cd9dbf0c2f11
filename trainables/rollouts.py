"""The one sampler: n completions per prompt, used by evaluation, mining and repair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Samples:
    """completions[i][j]: sample j of prompt i; lengths in generated tokens (up to EOS)."""

    completions: list[list[str]]
    lengths: list[list[int]]


@torch.no_grad()
def sample(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    n: int,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    seed: int,
    batch_prompts: int = 16,
) -> Samples:
    """Sample n completions per prompt at (temperature, top_p); deterministic given `seed` on CPU."""
    torch.manual_seed(seed)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    completions: list[list[str]] = []
    lengths: list[list[int]] = []
    for start in range(0, len(prompts), batch_prompts):
        chunk = prompts[start : start + batch_prompts]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        out = model.generate(
            **enc,
            do_sample=True,
            temperature=temperature,
            top_p=top_p,
            max_new_tokens=max_new_tokens,
            num_return_sequences=n,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        new = out[:, enc["input_ids"].shape[1] :]
        texts = tokenizer.batch_decode(new, skip_special_tokens=True)
        stop = (new == tokenizer.eos_token_id) | (new == tokenizer.pad_token_id)
        has_stop = stop.any(dim=1)
        lens = torch.where(
            has_stop, stop.int().argmax(dim=1), torch.full_like(has_stop, new.shape[1], dtype=torch.long)
        )
        for i in range(len(chunk)):
            completions.append(texts[i * n : (i + 1) * n])
            lengths.append([int(x) for x in lens[i * n : (i + 1) * n]])
    if was_training:
        model.train()
    return Samples(completions, lengths)
