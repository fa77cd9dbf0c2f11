"""`study.run --until-resolved`: seeds run in batches, and only where a declared comparison is still open.

The study is resolved once with ``--max-seeds`` seeds, so every trial a look could ask for has its key
from the start (study.json, ``--resume``). Look 1 runs the first ``--seeds`` seeds of every condition;
after each look the analysis's per-seed scores on the primary metric decide every open comparison
(analysis/sequential.py: O'Brien-Fleming spending, repeated confidence intervals), and only the
conditions of comparisons still open run ``--batch`` more seeds (analysis/adaptive.py). The decisions
are a function of finished trials' outcomes, seeds in order, so ``--resume`` after a kill replays the same
looks over the trials on disk and runs only what is missing. Every look is written to ``adaptive.csv``
and logged on the study run (metrics ``adaptive/<comparison>/...`` at step = look; the table and the
paths' plot as artifacts).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis.adaptive import AdaptiveDesign, Ledger, allocate, look, reached
from analysis.result import safe_key
from analysis.tables import AnalysisInputError
from study.errors import UserError
from study.lifecycle import combined_outcomes, is_done
from study.progress import Progress
from study.resolve import ResolvedStudy
from trainables.common.config import TrialConfig

ADAPTIVE_FILE = "adaptive.csv"
LOGGED = ("delta_pp", "rci_low_pp", "rci_high_pp", "p", "nominal_p", "n_baseline", "n_treatment")


def design_of(study: ResolvedStudy, start: int, batch: int, max_seeds: int) -> AdaptiveDesign:
    """The adaptive design: the flags' seeds and the space's effect of interest and equivalence margin."""
    return AdaptiveDesign(start, batch, max_seeds, effect_pp=study.effect_of_interest_pp,
                          margin_pp=study.equivalence_margin_pp)  # fmt: skip


def check_comparisons(study: ResolvedStudy) -> None:
    """Refuse, before anything is written, a comparison no sequential design corrects: a picked iteration."""
    picked = [x for pair in study.comparisons for x in pair if x.endswith("@best")]
    if picked:
        raise UserError(f"--until-resolved: {picked[0]} re-picks its iteration at every look, which no sequential "
                        "design corrects; name the iteration (C@3) or drop --until-resolved")  # fmt: skip


def seed_scores(study: ResolvedStudy, done: list[TrialConfig]) -> pd.DataFrame:
    """(condition, seed, score): every arm's per-seed score on the primary metric's suite, as the analysis
    computes it (its finals, the base model, iteration arms)."""
    from analysis import analyze
    from study.analysis_run import study_spec

    outcomes = combined_outcomes(done)
    result = analyze(outcomes, study_spec(study, outcomes, n_boot=200, power_sims=0))
    rows = result.seeds[result.seeds["suite"] == result.primary_suite]
    return rows[["condition", "seed", "score"]]


def run_adaptive(
    study: ResolvedStudy,
    design: AdaptiveDesign,
    run_pending: Callable[[list[TrialConfig], int], None],
    progress: Progress,
    out_dir: Path,
    log_look: Callable[[int, dict[str, float]], None],
) -> tuple[list[TrialConfig], Ledger]:
    """Run looks until every comparison is decided or no open one can get more seeds; returns the trials
    that ran (the study's trials for the report) and the ledger of decisions."""
    order = sorted(study.seeds)
    by_key = {(t.condition, t.seed): t for t in study.trials}
    seeds_now = {c: design.start for c in study.condition_names}
    ledger = Ledger()
    active: list[TrialConfig] = []
    for n_look in range(1, design.max_seeds + 1):
        active = [by_key[(c, s)] for c, n in seeds_now.items() for s in order[:n]]
        progress.total = len(active)
        todo = sum(not is_done(t) for t in active)
        print(f"look {n_look}: seeds per condition {_counts(seeds_now)}; {todo} trials to run", flush=True)
        run_pending(active, n_look)
        done = [t for t in active if is_done(t)]
        if len(done) < len(active):
            print(f"look {n_look}: {len(active) - len(done)} trials did not finish; no decision is taken", flush=True)
            break
        before = len(ledger.records)
        at_max = lambda p, now=seeds_now: reached(p, now, design.max_seeds)  # noqa: E731
        try:
            scores = _by_arm(seed_scores(study, done))
        except AnalysisInputError as err:
            raise UserError(
                f"--until-resolved: look {n_look} cannot be analysed ({err}); fix it, then --resume"
            ) from None
        still = look(scores, study.comparisons, design, ledger, at_max, n_look)
        new = ledger.records[before:]
        for r in new:
            print(f"look {n_look}: {r['comparison']} {r['n_treatment']} vs {r['n_baseline']} seeds, delta "
                  f"{r['delta_pp']:+.2f} pp, repeated interval [{r['rci_low_pp']:+.2f}, {r['rci_high_pp']:+.2f}], "
                  f"p {r['p']:.3g} against {r['nominal_p']:.3g}: {r['decision']}", flush=True)  # fmt: skip
        log_look(n_look, {f"adaptive/{safe_key(r['comparison'])}/{k}": float(r[k]) for r in new for k in LOGGED})
        pd.DataFrame(ledger.records).to_csv(out_dir / ADAPTIVE_FILE, index=False)
        if not still:
            break
        seeds_now = allocate(still, seeds_now, design)
    print("\n== Adaptive decisions (error-controlled over looks and comparisons; the analysis below is the fixed-"
          "sample description of the seeds that ran)")  # fmt: skip
    for pair in study.comparisons:
        last = [r for r in ledger.records if r["comparison"] == f"{pair[0]}_vs_{pair[1]}"][-1:]
        if last:
            r = last[0]
            interval = f"[{r['rci_low_pp']:+.2f}, {r['rci_high_pp']:+.2f}] pp"
            print(f"  {r['comparison']}: {r['decision']} at {r['n_treatment']} vs {r['n_baseline']} seeds "
                  f"(look {r['study_look']}), repeated interval {interval}")  # fmt: skip
    return active, ledger


def _by_arm(scores: pd.DataFrame) -> dict[str, pd.Series]:
    return {str(c): g.set_index("seed")["score"].sort_index() for c, g in scores.groupby("condition")}


def _counts(seeds_now: dict[str, int]) -> str:
    return ", ".join(f"{c} {n}" for c, n in seeds_now.items())
