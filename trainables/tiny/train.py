"""Supervised training of the tiny Qwen2 model on its corpus: a plain torch loop on CPU.

Loss is on completion tokens only (prompt and padding are masked); data order and the completion
drawn at each visit come from a seeded torch.Generator, so one recipe always yields the same weights
on one machine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import torch
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

from trainables.tiny.corpus import CorpusItem

# Bump model.TRAINER_VERSION when a change here changes the trained weights (it is part of the model hash).
IGNORE = -100


Encoded = tuple[tuple[tuple[list[int], int], ...], tuple[float, ...]]


def encode(corpus: Sequence[CorpusItem], tokenizer: PreTrainedTokenizerFast, max_len: int) -> list[Encoded]:
    """Per corpus item: every completion as (token ids of prompt + completion cut to `max_len`, number
    of prompt tokens), and the completions' probabilities."""
    out = []
    for item in corpus:
        prompt = tokenizer(item.prompt)["input_ids"]
        completions = tokenizer(list(item.completions))["input_ids"]
        variants = tuple(((prompt + ids)[:max_len], len(prompt)) for ids in completions)
        out.append((variants, item.weights))
    return out


def collate(batch: Sequence[tuple[list[int], int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded input_ids, attention_mask and labels, all (batch, longest)."""
    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (ids, n_prompt) in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, n_prompt : len(ids)] = torch.tensor(ids[n_prompt:])
        mask[row, : len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def build_model(tokenizer: PreTrainedTokenizerFast, n_layer: int, hidden: int, n_head: int, max_len: int):
    """A freshly initialised Qwen2ForCausalLM sized for the tiny profile (tied embeddings)."""
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=4 * hidden,
        num_hidden_layers=n_layer,
        num_attention_heads=n_head,
        num_key_value_heads=n_head,
        max_position_embeddings=max_len,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def length_buckets(lengths: Sequence[int], batch_size: int, generator: torch.Generator) -> list[list[int]]:
    """One epoch of batches (lists of indices): shuffled, then grouped by length within windows of
    16 batches so that little compute goes to padding, then the batches shuffled."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    window = 16 * batch_size
    batches = []
    for lo in range(0, len(order), window):
        chunk = sorted(order[lo : lo + window], key=lambda i: lengths[i])
        batches += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def lr_at(step: int, steps: int, lr: float, warmup: int) -> float:
    """Linear warmup, then cosine decay to a tenth of `lr`."""
    if step < warmup:
        return lr * (step + 1) / warmup
    frac = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def _draw(item: Encoded, generator: torch.Generator) -> tuple[list[int], int]:
    variants, weights = item
    if len(variants) == 1:
        return variants[0]
    return variants[int(torch.multinomial(torch.tensor(weights), 1, generator=generator))]


def train(
    model: Qwen2ForCausalLM,
    data: Sequence[Encoded],
    pad_id: int,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
    progress: Callable[[str], None] | None = None,
    log_every: int = 50,
) -> list[float]:
    """Train in place for `steps` AdamW steps; returns the loss of every step. Each epoch draws one
    completion per item by its probability (from the same seeded generator)."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98))
    warmup = max(1, steps // 20)
    batches: list[list[int]] = []
    drawn: list[tuple[list[int], int]] = []
    losses: list[float] = []
    start = time.perf_counter()
    model.train()
    for step in range(steps):
        if not batches:  # a new epoch: draw every item's completion, then bucket by the drawn lengths
            drawn = [_draw(item, generator) for item in data]
            batches = length_buckets([len(ids) for ids, _ in drawn], batch_size, generator)
        batch = [drawn[i] for i in batches.pop()]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup)
        loss = model(**collate(batch, pad_id)).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if progress is not None and (step % log_every == 0 or step == steps - 1):
            recent = losses[-log_every:]
            progress(
                f"tiny model: step {step + 1}/{steps} loss {sum(recent) / len(recent):.4f} "
                f"elapsed {time.perf_counter() - start:.1f}s"
            )
    model.eval()
    return losses
