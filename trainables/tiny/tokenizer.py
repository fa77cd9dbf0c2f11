"""A byte-level BPE tokenizer trained on the generated corpus, saved as a `PreTrainedTokenizerFast`.

It uses Qwen2's own normalizer and pre-tokenizer (digits split one by one, byte-level), because
`AutoTokenizer.from_pretrained` on a Qwen2 model directory rebuilds the tokenizer as
`Qwen2Tokenizer` from the saved vocab and merges: with any other pre-tokenizer the reloaded
tokenizer would split text differently from the one the model was trained with.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

from trainables.tiny.tasks import EOS, PAD


def train_tokenizer(texts: Iterable[str], vocab_size: int, max_len: int) -> PreTrainedTokenizerFast:
    """Train a BPE tokenizer with EOS and PAD specials; `max_len` becomes `model_max_length`."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOS, pad_token=PAD, model_max_length=max_len, padding_side="left"
    )
