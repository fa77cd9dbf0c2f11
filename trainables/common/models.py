"""Load the base policy (hub id, local path, or the embedded tiny model) and its LoRA spec.

4-bit NF4 with double quantisation is used only on CUDA unless a profile forces it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainables.common.specs import LoraSpec, ModelSpec


def resolve_source(spec: ModelSpec, cache_dir: Path, progress: Any = print) -> str:
    """A path or hub id that `from_pretrained` accepts; builds the tiny model on first use."""
    if spec.source == "tiny":
        from trainables.tiny.model import ensure_tiny_model

        return str(ensure_tiny_model(cache_dir / "tiny", progress=progress))
    return spec.source


def use_nf4(spec: ModelSpec) -> bool:
    import torch

    return spec.quantization == "nf4" or (spec.quantization == "auto" and torch.cuda.is_available())


def _dtype(spec: ModelSpec) -> Any:
    import torch

    return {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[spec.dtype]


def load_model(spec: ModelSpec, source: str) -> tuple[Any, Any]:
    """(model, tokenizer) with left padding for batched generation and a pad token set."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    kwargs: dict[str, Any] = {"dtype": _dtype(spec)}
    if use_nf4(spec):
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        kwargs["device_map"] = {"": 0} if torch.cuda.is_available() else "cpu"
    elif torch.cuda.is_available():
        kwargs["device_map"] = {"": 0}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except OSError as err:
        raise OSError(  # one line naming the fix, without the hub's traceback
            f"model '{source}' could not be loaded ({str(err).splitlines()[0][:160]}); "
            "pass --model with a local path holding the weights, or run where the hub is reachable"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return model, tokenizer


def lora_config(spec: LoraSpec) -> Any:
    """The PEFT LoraConfig of a profile's adapter spec."""
    from peft import LoraConfig

    return LoraConfig(
        r=spec.r,
        lora_alpha=spec.alpha,
        lora_dropout=spec.dropout,
        target_modules=list(spec.target_modules),
        task_type="CAUSAL_LM",
    )
