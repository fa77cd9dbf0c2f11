"""The tiny profile's model: built on first use from a recipe, cached under the recipe's content hash.

`ensure_tiny_model` trains only when `<cache_root>/<hash>/` lacks its completion marker. A build
happens in a temporary directory renamed into place at the end (so an interrupted build never leaves
a half model), under an exclusive file lock (so two processes asking at once train once).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from trainables.tiny.corpus import CorpusItem, build_corpus, family_rates
from trainables.tiny.families import GENERATOR_VERSION
from trainables.tiny.tasks import Task, generate_io_suites, generate_suites

MARKER = ".complete"
TRAINER_VERSION = "tiny-train-4"  # bump when train.py changes what it builds (part of the recipe hash)
# One thread: on a shared 2-core box two OpenMP threads spin against other jobs and ran 5x slower
# per step (5.7 s vs 0.87 s, measured), and a fixed count keeps the weights bit-identical everywhere.
BUILD_THREADS = 1


@dataclass(frozen=True)
class TinyRecipe:
    """Every knob that decides the tiny model (and the task suites it goes with)."""

    seed: int = 0  # task generation seed
    n_train: int = 4000  # train tasks: the supervised corpus (and RL's prompt pool)
    n_heldout: int = 200  # MBPP-held-out stand-in
    n_transfer: int = 164  # HumanEval stand-in
    n_io_train: int = 600  # stdin/stdout train tasks in the corpus (the LiveCodeBench stand-in's train split)
    habit_min: float = 0.1  # per-family rate of the print-instead-of-return habit, drawn in [min, max]
    habit_max: float = 0.9
    bug_max: float = 0.3  # per-family rate of the family's misconception, drawn in [0, max]
    vocab_size: int = 1024  # BPE vocabulary, special tokens included
    n_layer: int = 3
    hidden: int = 128
    n_head: int = 4
    max_len: int = 128  # tokens of prompt + completion; the model's max positions
    steps: int = 900  # AdamW steps
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.01
    torch_seed: int = 0  # weight init and data order

    def content_hash(self) -> str:
        """Hash of the recipe and of the versions of the task generator and trainer (16 hex digits)."""
        payload = json.dumps(
            {"recipe": dataclasses.asdict(self), "generator": GENERATOR_VERSION, "trainer": TRAINER_VERSION},
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def suites(self) -> dict[str, tuple[Task, ...]]:
        """The function-task suites this recipe's model is trained on (train) and evaluated on."""
        return generate_suites(self.seed, self.n_train, self.n_heldout, self.n_transfer)

    def rates(self) -> dict[str, tuple[float, float]]:
        """{family: (print-habit rate, misconception rate)} of the corpus."""
        return family_rates(self.seed, (self.habit_min, self.habit_max), self.bug_max)

    def corpus(self) -> tuple[CorpusItem, ...]:
        """The base model's training corpus: function train tasks, then io train tasks."""
        io_train = generate_io_suites(self.seed, self.n_io_train, 0, 0)["io_train"]
        return build_corpus(self.suites()["train"] + io_train, self.rates())


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(recipe: TinyRecipe, out: Path, progress: Callable[[str], None] | None) -> dict[str, object]:
    """Train tokenizer and model into `out` on BUILD_THREADS threads; returns build facts for the marker."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(BUILD_THREADS)
    try:
        return _train_into(recipe, out, progress)
    finally:
        torch.set_num_threads(threads)


def _train_into(recipe: TinyRecipe, out: Path, progress: Callable[[str], None] | None) -> dict[str, object]:
    import torch
    from transformers import AutoTokenizer

    from trainables.tiny.tokenizer import train_tokenizer
    from trainables.tiny.train import build_model, encode, train

    start = time.perf_counter()
    torch.manual_seed(recipe.torch_seed)
    corpus = recipe.corpus()
    texts = (item.prompt + text for item in corpus for text in item.completions)
    tokenizer = train_tokenizer(texts, recipe.vocab_size, recipe.max_len)
    if progress is not None:
        progress(f"tiny model: tokenizer trained ({len(tokenizer)} tokens) in {time.perf_counter() - start:.1f}s")
    model = build_model(tokenizer, recipe.n_layer, recipe.hidden, recipe.n_head, recipe.max_len)
    tokenizer.save_pretrained(out)
    model.config.save_pretrained(out)
    # Encode with the tokenizer exactly as consumers will load it (AutoTokenizer on the model dir).
    tokenizer = AutoTokenizer.from_pretrained(out)
    losses = train(
        model,
        encode(corpus, tokenizer, recipe.max_len),
        tokenizer.pad_token_id,
        steps=recipe.steps,
        batch_size=recipe.batch_size,
        lr=recipe.lr,
        weight_decay=recipe.weight_decay,
        seed=recipe.torch_seed,
        progress=progress,
    )
    model.save_pretrained(out)
    return {
        "build_seconds": round(time.perf_counter() - start, 2),
        "n_params": sum(p.numel() for p in model.parameters()),
        "final_loss": sum(losses[-20:]) / len(losses[-20:]),
        "torch": torch.__version__,
    }


def ensure_tiny_model(
    cache_root: Path,
    recipe: TinyRecipe = TinyRecipe(),
    progress: Callable[[str], None] | None = print,
) -> Path:
    """The recipe's model directory (for AutoModelForCausalLM/AutoTokenizer), trained first if missing."""
    cache_root = Path(cache_root)
    digest = recipe.content_hash()
    final = cache_root / digest
    if (final / MARKER).exists():
        return final
    cache_root.mkdir(parents=True, exist_ok=True)
    with _locked(cache_root / f"{digest}.lock"):
        if (final / MARKER).exists():  # another process built it while we waited
            return final
        for stale in cache_root.glob(f".tmp-{digest}-*"):  # left by a killed build; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        if progress is not None:
            progress(f"tiny model: building {digest} in {cache_root}")
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{digest}-", dir=cache_root))
        try:
            facts = _build(recipe, tmp, progress)
            (tmp / "recipe.json").write_text(json.dumps(dataclasses.asdict(recipe), indent=2, sort_keys=True))
            (tmp / MARKER).write_text(json.dumps({"hash": digest, **facts}, indent=2))
            if final.exists():  # an unmarked leftover from an older layout
                shutil.rmtree(final)
            tmp.rename(final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if progress is not None:
        progress(f"tiny model: ready at {final}")
    return final


def build_facts(model_dir: Path) -> dict[str, object]:
    """What the build recorded in its completion marker (build time, parameter count, final loss)."""
    return json.loads((Path(model_dir) / MARKER).read_text())
