"""The evaluation-format alarm on a deliberately broken format: the tiny model evaluated on held-out tasks
whose tests call an entry point the prompt never names (seed document 002's MBPP scored 0% through such a
mismatch). Every sample fails for want of the entry point, the suite's metrics carry the alarm, and the
analysis flags a broken evaluation instead of reporting 0%."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from analysis import AnalysisSpec, analyze
from executors import SandboxExecutor
from trainables.common.evaluation import evaluate
from trainables.common.models import load_model, resolve_source
from trainables.common.params import EvalParams
from trainables.common.problems import tiny_problem
from trainables.common.specs import ModelSpec
from trainables.tiny.tasks import generate_suites


def test_a_format_mismatch_is_flagged_not_reported_as_zero(cache_dir: Path) -> None:
    spec = ModelSpec(source="tiny", quantization="none", dtype="float32")
    model, tok = load_model(spec, resolve_source(spec, cache_dir, lambda m: None))
    held = [tiny_problem(t) for t in generate_suites(0, 8, 12, 4)["heldout"]]
    broken = [dataclasses.replace(p, entry_point="solve", tests=tuple(t.replace(f"{p.entry_point}(", "solve(")
                                                                        for t in p.tests)) for p in held]  # fmt: skip
    params = EvalParams(eval_samples=2, eval_max_new_tokens=48)
    with SandboxExecutor(workers=1) as ex:
        good, good_rows = evaluate(
            model, tok, {"ok": tuple(held)}, params, spec, ex, condition="A", seed=0, iteration=1
        )
        bad, bad_rows = evaluate(
            model, tok, {"ok": tuple(broken)}, params, spec, ex, condition="B", seed=0, iteration=1
        )
    assert bad["eval/ok/pass_at_1"] == 0.0 and bad["eval/ok/alarm_broken_eval"] == 1.0
    assert bad["eval/ok/format_failure_share"] > 0.5
    assert good["eval/ok/alarm_broken_eval"] == 0.0 and good["eval/ok/format_failure_share"] < 0.5
    res = analyze(pd.DataFrame(good_rows + bad_rows), AnalysisSpec(baseline="A", n_boot=50))
    assert list(res.broken_evaluations["condition"]) == ["B"]
    assert any(n.startswith("BROKEN EVALUATION? suite ok, B") for n in res.notes)
    assert res.mlflow_metrics()["alarm/broken_eval/B"] == 1.0
