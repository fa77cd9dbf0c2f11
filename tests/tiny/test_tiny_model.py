"""The tiny model cache: keyed by recipe hash, built once, atomic, and loadable by the Auto classes."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from trainables.tiny.model import MARKER, TinyRecipe, build_facts, ensure_tiny_model
from trainables.tiny.tasks import EOS, PAD, completion_text

# Seconds to build: enough to exercise every stage, not to learn anything.
MINI = TinyRecipe(n_train=200, n_heldout=20, n_transfer=20, vocab_size=320, n_layer=1, hidden=32, n_head=2, steps=4)


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    cache = tmp_path_factory.mktemp("tiny-cache")
    messages: list[str] = []
    return cache, ensure_tiny_model(cache, MINI, progress=messages.append), messages


def test_recipe_hash_changes_when_any_knob_changes():
    base = TinyRecipe()
    assert base.content_hash() == TinyRecipe().content_hash()
    for field in dataclasses.fields(TinyRecipe):
        value = getattr(base, field.name)
        changed = dataclasses.replace(base, **{field.name: value * 2 if value else 1})
        assert changed.content_hash() != base.content_hash(), field.name


def test_build_reports_progress_and_writes_the_marker(built):
    cache, model_dir, messages = built
    assert model_dir == cache / MINI.content_hash()
    assert (model_dir / MARKER).exists()
    assert any("step 4/4 loss" in m and "elapsed" in m for m in messages)
    assert build_facts(model_dir)["n_params"] > 0
    assert not list(cache.glob(".tmp-*"))


def test_second_call_returns_the_cache_without_retraining(built):
    cache, model_dir, _ = built
    messages: list[str] = []
    assert ensure_tiny_model(cache, MINI, progress=messages.append) == model_dir
    assert messages == []


def test_model_dir_loads_with_the_auto_classes(built):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

    _, model_dir, _ = built
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert type(model).__name__ == "Qwen2ForCausalLM"
    assert tokenizer.is_fast
    assert (tokenizer.eos_token, tokenizer.pad_token) == (EOS, PAD)
    assert tokenizer.model_max_length == MINI.max_len
    assert model.config.eos_token_id == tokenizer.eos_token_id
    # However it is loaded, the tokenizer splits text as it did in training.
    plain = PreTrainedTokenizerFast.from_pretrained(model_dir)
    for task in MINI.suites()["heldout"]:
        text = task.prompt + completion_text(task)
        assert tokenizer(text)["input_ids"] == plain(text)["input_ids"]
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    enc = tokenizer(["# Add 3 to x.\n"], return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=4, do_sample=False)
    assert out.shape[1] <= enc["input_ids"].shape[1] + 4


def test_interrupted_build_leaves_no_marker(tmp_path):
    recipe = dataclasses.replace(MINI, torch_seed=7)

    def interrupt(message: str) -> None:
        if "step" in message:
            raise Interrupted(message)

    with pytest.raises(Interrupted):
        ensure_tiny_model(tmp_path, recipe, progress=interrupt)
    assert not (tmp_path / recipe.content_hash()).exists()
    assert not list(tmp_path.glob(".tmp-*"))
    assert (ensure_tiny_model(tmp_path, recipe, progress=None) / MARKER).exists()


def test_concurrent_callers_build_once(tmp_path):
    recipe = dataclasses.replace(MINI, torch_seed=8)
    messages: list[str] = []
    paths: list[Path] = []
    threads = [
        threading.Thread(target=lambda: paths.append(ensure_tiny_model(tmp_path, recipe, messages.append)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(paths) == 2 and paths[0] == paths[1]
    assert sum("building" in m for m in messages) == 1


def test_same_recipe_gives_the_same_weights(built, tmp_path):
    from safetensors.torch import load_file

    _, model_dir, _ = built
    again = ensure_tiny_model(tmp_path, MINI, progress=None)
    first, second = load_file(model_dir / "model.safetensors"), load_file(again / "model.safetensors")
    assert first.keys() == second.keys()
    assert all(first[k].equal(second[k]) for k in first)
    assert (model_dir / "tokenizer.json").read_text() == (again / "tokenizer.json").read_text()
