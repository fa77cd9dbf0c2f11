"""A local stand-in for a hub chat model: the real profile's architecture (Qwen2, Qwen3 or Llama), random
weights, a BPE tokenizer with a chat template, saved to a folder, so the real-profile loading path runs
here through a local path. The template honours Qwen3's `enable_thinking` switch as Qwen3's own does
(an empty think block when it is off)."""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}"
)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ARCHS = {
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM"),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM"),
    "llama": ("LlamaConfig", "LlamaForCausalLM"),
    "starcoder2": ("Starcoder2Config", "Starcoder2ForCausalLM"),
}


def build_local_chat_model(path: Path, seed: int = 0, arch: str = "qwen2") -> Path:
    """Write a tiny random-weight causal LM of `arch` (qwen2, qwen3, llama) and a chat tokenizer to `path`
    (idempotent)."""
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if (path / "config.json").is_file():
        return path
    corpus = ["def f(x):\n    return x + 1\n", "Write a python function to add two numbers.", "assert f(1) == 2"] * 50
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=400, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config_cls, model_cls = ARCHS[arch]
    config = getattr(transformers, config_cls)(
        vocab_size=len(fast),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=1024,
        eos_token_id=fast.eos_token_id,
        bos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    getattr(transformers, model_cls)(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path
