"""Typed model, adapter and data specifications that a profile hands to every trainable."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Spec):
    """Which base model to load and how."""

    source: str = Field(description="'tiny' (embedded, trained on first use), a hub id, or a local path.")
    quantization: Literal["auto", "nf4", "none"] = Field(
        "auto", description="auto = 4-bit NF4 with double quantisation only when CUDA is available."
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field("auto", description="Weights dtype.")
    chat: bool = Field(False, description="Wrap prompts in the tokenizer's chat template.")
    system_prompt: str = Field(
        "You are an expert Python programmer. Return only correct Python code.",
        description="System message when chat is on.",
    )
    chat_template_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra arguments of the chat template, e.g. {enable_thinking: false} for Qwen3.",
    )


class LoraSpec(_Spec):
    """PEFT LoRA adapter; the checkpoint of every trial is this adapter only."""

    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: tuple[str, ...] = (
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    )


class SuiteSpec(_Spec):
    """One named evaluation suite."""

    name: str = Field(description="Suite name in metrics and outcome tables, e.g. heldout, humaneval.")
    source: Literal[
        "tiny-heldout", "tiny-transfer", "tiny-io-val", "tiny-io-test", "mbpp-heldout", "humaneval", "livecodebench"
    ] = Field(
        description="tiny-io-val / tiny-io-test: the tiny stdin/stdout problems (judged by exact output); "
        "livecodebench: LiveCodeBench code_generation_lite stdin/stdout problems (trainables/common/livecodebench.py)."
    )
    n: int | None = Field(None, ge=1, description="Use the first n problems (None = all).")
    clusters: bool = Field(
        False, description="Declare the suite's problem clusters (tiny: task family; livecodebench: contest): "
        "outcomes carry them and the analysis resamples whole clusters. Sources without clusters ignore it.",
    )  # fmt: skip
    # livecodebench only: where the files are and which problems make the suite
    path: str | None = Field(
        None, description="A code_generation_lite JSONL file or a folder of its test*.jsonl files (None: "
        "--lcb-dir / CODEABLATE_LCB_DIR, else the hub).",
    )  # fmt: skip
    release: str = Field("release_v6", description="Version tag: release_vN (files 1..N) or vN (file N only).")
    platforms: tuple[Literal["atcoder", "codeforces", "leetcode"], ...] = Field(
        (), description="Keep these platforms (empty: all)."
    )
    difficulties: tuple[Literal["easy", "medium", "hard"], ...] = Field((), description="Keep these (empty: all).")
    date_from: date | None = Field(None, description="First contest date kept (inclusive).")
    date_to: date | None = Field(None, description="Last contest date kept (inclusive).")

    @model_validator(mode="after")
    def _lcb_fields(self) -> SuiteSpec:
        if self.source != "livecodebench":
            given = [f for f in LCB_FIELDS if getattr(self, f) != type(self).model_fields[f].default]
            if given:
                raise ValueError(f"{', '.join(given)}: only a livecodebench suite takes these; drop them")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}; swap them")
        return self


LCB_FIELDS = ("path", "release", "platforms", "difficulties", "date_from", "date_to")


class DataSpec(_Spec):
    """Training pool and evaluation suites."""

    train_source: Literal["tiny", "tiny-io", "mbpp", "jsonl"] = Field(
        description="tiny: generated function tasks; tiny-io: generated stdin/stdout tasks; mbpp: MBPP-sanitized; "
        "jsonl: a local file of problems with several reference solutions each (`train_path`, format in "
        "trainables/common/jsonl_source.py)."
    )
    train_path: str | None = Field(None, description="The JSONL file of train_source jsonl.")
    n_train: int = Field(ge=1, description="Training problems.")
    n_heldout: int = Field(ge=1, description="Held-out problems drawn disjoint from training.")
    seed: int = Field(0, description="Seed of the task generator / pool split (data, not training, seed).")
    suites: tuple[SuiteSpec, ...] = Field(min_length=1)
