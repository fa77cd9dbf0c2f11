"""Statistics over the tidy per-problem outcomes table: seed-level and problem-level tests, the
hierarchical bootstrap, power, multiplicity, verdicts and the report. Pure: no MLflow, no Ray."""

from analysis.bootstrap import hierarchical_bootstrap, resample_counts, small_sample_interval
from analysis.core import analyze
from analysis.estimators import pass_at_k, t_interval, variance_components, wilson_interval
from analysis.multiplicity import adjust, benjamini_hochberg, holm
from analysis.power import mde_problems, mde_seeds, seeds_needed
from analysis.problemtests import best_case_exact_p, discordant_counts, mcnemar_exact_p, paired_bootstrap
from analysis.report_writer import write_report
from analysis.result import AnalysisResult
from analysis.seedtests import hedges_g, permutation_test, probability_of_improvement, welch_test
from analysis.spec import AnalysisSpec
from analysis.tables import AnalysisInputError, read_table
from analysis.verdict import EQUIVALENT, INCONCLUSIVE, SUPPORTED, verdict

__all__ = [
    "EQUIVALENT",
    "INCONCLUSIVE",
    "SUPPORTED",
    "AnalysisInputError",
    "AnalysisResult",
    "AnalysisSpec",
    "adjust",
    "analyze",
    "benjamini_hochberg",
    "best_case_exact_p",
    "discordant_counts",
    "hedges_g",
    "hierarchical_bootstrap",
    "holm",
    "mcnemar_exact_p",
    "mde_problems",
    "mde_seeds",
    "paired_bootstrap",
    "pass_at_k",
    "permutation_test",
    "probability_of_improvement",
    "read_table",
    "resample_counts",
    "seeds_needed",
    "small_sample_interval",
    "t_interval",
    "variance_components",
    "verdict",
    "welch_test",
    "wilson_interval",
    "write_report",
]
