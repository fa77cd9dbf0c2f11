"""Where a study keeps its files under --out (one place, so every module agrees)."""

from __future__ import annotations

STUDY_FILE = "study.json"  # study id, space, profile, flags, trial keys: what --resume checks
TRIALS_DIR = "trials"  # trials/<trial key>/ : results, outcomes, checkpoints, DONE marker
BASE_EVAL_DIR = "base_eval"  # base_eval/<key>/ : an iteration-0 evaluation shared by a seed's conditions
RESULTS_FILE = "results.jsonl"  # one reported result per line (per iteration)
NODE_FILE = "node.jsonl"  # one line per attempt: Ray node id, host name, pid
DONE_FILE = "DONE.json"  # written last by a trial that ran to completion
RAY_DIR = "ray"  # Ray Tune storage_path
# mlflow.db and mlartifacts/ (the default MLflow store) are named in study/tracking.py
OUTCOMES_FILE = "outcomes.csv"  # the study's tidy per-problem table
SUMMARY_CSV = "summary.csv"
SUMMARY_TXT = "summary.txt"
ANALYSIS_DIR = "analysis"  # report.md / report.html, tables and plots of the study's analysis
