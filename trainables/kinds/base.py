"""The base kind: the model as loaded, evaluated once (iteration 0), no training.

The untrained arm of a study (seed document 002's "Base 3B" rows, the base model of 000 and 003) as a
condition of its own, next to trained conditions of any kind: `Base: {trainable: base}`. Its params are
the shared evaluation params only (`eval_at_start` has no meaning here: iteration 0 is all it does).
With the same seed it samples exactly what a training kind's iteration-0 evaluation samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from trainables.common.params import KindParams

if TYPE_CHECKING:  # the registry imports this module for BaseParams; the config imports the registry
    from trainables.common.config import TrialConfig
    from trainables.common.reporting import Reporter


class BaseParams(KindParams):
    """Evaluation of the untrained model; nothing to train."""

    kind: Literal["base"] = "base"

    def final_iteration(self) -> int:
        return 0


def run(cfg: TrialConfig, reporter: Reporter, progress: Any = print) -> None:
    """Load, evaluate every suite at iteration 0, save the outcomes, report."""
    import torch
    from transformers import set_seed

    from executors import SandboxExecutor
    from trainables.common import base_eval
    from trainables.common.evaluation import evaluate
    from trainables.common.models import load_model, resolve_source
    from trainables.common.outcomes import write_outcomes
    from trainables.common.problems import load_suite

    torch.set_num_threads(cfg.torch_threads)
    set_seed(cfg.seed)
    model, tokenizer = load_model(cfg.model, resolve_source(cfg.model, cfg.cache_dir, progress))
    suites = {s.name: load_suite(s, cfg.data, cfg.mbpp_dir) for s in cfg.data.suites}
    with SandboxExecutor(workers=cfg.executor_workers, mode=cfg.sandbox_mode) as executor:

        def run_eval() -> base_eval.Evaluation:
            return evaluate(model, tokenizer, suites, cfg.params, cfg.model, executor,
                            condition=cfg.condition, seed=cfg.seed, iteration=0)  # fmt: skip

        (metrics, rows), _ = base_eval.shared(cfg, run_eval)  # shared with other base arms of this seed
    write_outcomes(cfg.trial_dir, 0, rows)
    reporter.report({"iteration": 0, **metrics}, None)
