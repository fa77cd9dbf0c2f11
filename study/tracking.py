"""The MLflow run tree: study -> condition -> seed trial. The only module that writes to MLflow.

Runs are found again by deterministic tags (study id, condition, trial key), and a metric step is
logged at most once per run, so resuming a study never creates a second run or a duplicate point.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Any

STUDY_ID = "codeablate.study_id"
KIND = "codeablate.kind"
CONDITION = "codeablate.condition"
TRIAL_KEY = "codeablate.trial_key"
PARENT = "mlflow.parentRunId"
RUN_NAME = "mlflow.runName"
STEP_KEY = "iteration"
_PARAM_MAX = 6000


def default_tracking_uri(out_dir: Path) -> str:
    """A SQLite store under --out (MLflow 3.17 refuses the ./mlruns file store)."""
    return f"sqlite:///{(out_dir / 'mlflow.db').resolve()}"


def default_artifact_location(out_dir: Path) -> str:
    """Artifacts beside the SQLite store under --out (MLflow's own default is ./mlruns in the cwd)."""
    return (out_dir / "mlartifacts").resolve().as_uri()


UI_DEFAULT = "http://127.0.0.1:5000"  # where `mlflow ui` serves unless told otherwise
EXPERIMENT_KIND = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"


def ui_command(uri: str) -> str:
    return f"mlflow ui --backend-store-uri {uri}"


def runs_page(uri: str, experiment_id: str) -> str:
    """The experiment's runs table in the MLflow UI: the tracking server itself when `uri` is one, else
    what `mlflow ui` serves. MLflow 3.17's UI opens every experiment on its GenAI overview unless the
    page asks for the model-training view (`workflowType=machine_learning`)."""
    base = uri.rstrip("/") if uri.startswith(("http://", "https://")) else UI_DEFAULT
    return f"{base}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"


def flatten(prefix: str, value: Any) -> dict[str, str]:
    """Nested config -> flat `a.b.c` params with MLflow-sized string values."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(flatten(f"{prefix}.{k}" if prefix else str(k), v))
        return out
    text = json.dumps(value) if isinstance(value, list | tuple) else str(value)
    return {prefix: text[:_PARAM_MAX]}


class Tracker:
    """Creates or finds runs of one study in one MLflow experiment; picklable (client made lazily)."""

    def __init__(self, uri: str, experiment: str, study_id: str, artifact_location: str | None = None) -> None:
        """`artifact_location`: where a new experiment keeps artifacts (None: the store's default)."""
        self.uri = uri
        self.experiment = experiment
        self.study_id = study_id
        self.artifact_location = artifact_location
        self._client: Any = None
        self._exp_id: str | None = None
        self._steps: dict[str, set[int]] = {}
        self._trials: dict[str, str] | None = None  # trial key -> run id, read once (one driver per study)
        self._status: dict[str, str] = {}  # run id -> status, as this driver last saw or set it

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_client": None, "_exp_id": None, "_steps": {}, "_trials": None, "_status": {}}

    @property
    def client(self) -> Any:
        if self._client is None:
            import mlflow
            from mlflow.tracking import MlflowClient

            mlflow.set_tracking_uri(self.uri)
            client = MlflowClient(self.uri)
            exp = client.get_experiment_by_name(self.experiment)
            if exp is not None and exp.tags.get(EXPERIMENT_KIND) != MODEL_TRAINING:
                with contextlib.suppress(Exception):  # a read-only login may not tag: the UI link still works
                    client.set_experiment_tag(exp.experiment_id, EXPERIMENT_KIND, MODEL_TRAINING)
            self._exp_id = (
                exp.experiment_id
                if exp
                else client.create_experiment(
                    self.experiment,
                    artifact_location=self.artifact_location,
                    tags={EXPERIMENT_KIND: MODEL_TRAINING},  # model training, not GenAI (traces)
                )
            )
            self._client = client  # only once the experiment is known: a failure above is retried next call
        return self._client

    @property
    def experiment_id(self) -> str:
        _ = self.client
        assert self._exp_id is not None
        return self._exp_id

    def find(self, **tags: str) -> Any | None:
        """The one run of this study carrying these tags, if any."""
        terms = [f"tags.`{STUDY_ID}` = '{self.study_id}'"] + [f"tags.`{k}` = '{v}'" for k, v in tags.items()]
        runs = self.client.search_runs([self.experiment_id], filter_string=" and ".join(terms), max_results=2)
        return runs[0] if runs else None

    def _ensure(self, tags: dict[str, str], name: str, parent: str | None, params: dict[str, str]) -> str:
        found = self.find(**tags)
        if found is not None:
            return found.info.run_id
        return self._create(tags, name, parent, params)

    def _create(self, tags: dict[str, str], name: str, parent: str | None, params: dict[str, str]) -> str:
        all_tags = {STUDY_ID: self.study_id, RUN_NAME: name, **tags}
        if parent:
            all_tags[PARENT] = parent
        run = self.client.create_run(self.experiment_id, tags=all_tags, run_name=name)
        self._status[run.info.run_id] = run.info.status
        self._steps[run.info.run_id] = set()  # a new run has no history to read back
        if tags.get(KIND) == "trial" and self._trials is not None:
            self._trials[tags[TRIAL_KEY]] = run.info.run_id  # known before its params: a failure below reuses it
        self._log_params(run.info.run_id, params)
        return run.info.run_id

    def _trial_index(self) -> dict[str, str]:
        """Every trial run this study has in MLflow, read in one paged search (not one search per trial)."""
        if self._trials is None:
            found: dict[str, Any] = {}
            token = None
            terms = f"tags.`{STUDY_ID}` = '{self.study_id}' and tags.`{KIND}` = 'trial'"
            while True:  # kept only when every page arrived: a partial index would create duplicate runs
                page = self.client.search_runs([self.experiment_id], terms, max_results=1000, page_token=token)
                for run in page:
                    key, best = run.data.tags[TRIAL_KEY], found.get(run.data.tags[TRIAL_KEY])
                    if best is None or _rank(run) > _rank(best):  # a stray duplicate: the finished, then newest
                        found[key] = run
                token = page.token
                if not token:
                    break
            self._status.update({r.info.run_id: r.info.status for r in found.values()})
            self._trials = {k: r.info.run_id for k, r in found.items()}
        return self._trials

    def forget(self) -> None:
        """Drop what this driver believes about the server (after an outage a write may have landed without
        its reply): the trial index and step sets are read back on next use."""
        self._trials, self._steps = None, {}

    def _log_params(self, run_id: str, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in sorted(params.items())]
        for i in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[i : i + 100])

    def study_run(self, name: str, params: dict[str, str]) -> str:
        return self._ensure({KIND: "study"}, name, None, params)

    def condition_run(self, parent: str, study: str, condition: str, params: dict[str, str]) -> str:
        return self._ensure({KIND: "condition", CONDITION: condition}, f"{study}__{condition}", parent, params)

    def trial_run(self, parent: str, key: str, name: str, condition: str, params: dict[str, str]) -> str:
        index = self._trial_index()
        if key not in index:
            index[key] = self._create({KIND: "trial", TRIAL_KEY: key, CONDITION: condition}, name, parent, params)
        return index[key]

    def analysis_run(self, parent: str, name: str, tags: dict[str, str], params: dict[str, str]) -> str:
        return self._ensure({KIND: "analysis", **tags}, name, parent, params)

    def audit_run(self, parent: str, name: str, tags: dict[str, str], params: dict[str, str]) -> str:
        return self._ensure({**tags, KIND: "audit"}, name, parent, params)

    def is_finished(self, key: str) -> bool:
        run_id = self._trial_index().get(key)
        return run_id is not None and self._status.get(run_id) == "FINISHED"

    def log_result(self, run_id: str, metrics: dict[str, float], step: int) -> bool:
        """Log one iteration's metrics at `step`; a step already logged is skipped (resume). Steps are
        tracked as a set, not a maximum: a resumed trial may report an earlier step after a later one."""
        from mlflow.entities import Metric

        if run_id not in self._steps:
            history = self.client.get_metric_history(run_id, STEP_KEY)
            self._steps[run_id] = {int(m.step) for m in history}
        if step in self._steps[run_id]:
            return False
        ts = _now_ms()
        batch = [
            Metric(k, float(v), ts, step)
            for k, v in metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))
        ]
        # The step marker goes last, so a crash mid-batch re-logs the batch rather than losing it.
        batch = [m for m in batch if m.key != STEP_KEY] + [Metric(STEP_KEY, float(step), ts, step)]
        for i in range(0, len(batch), 500):
            self.client.log_batch(run_id, metrics=batch[i : i + 500])
        self._steps[run_id].add(step)
        return True

    def log_summary(self, run_id: str, metrics: dict[str, float]) -> None:
        """Summary metrics (step 0) on a condition, study or analysis run; a value the run already
        holds is not logged again, so a resumed study adds nothing when nothing changed."""
        from mlflow.entities import Metric

        ts = _now_ms()
        current = self.client.get_run(run_id).data.metrics
        batch = [
            Metric(k, float(v), ts, 0)
            for k, v in metrics.items()
            if math.isfinite(float(v)) and current.get(k) != float(v)
        ]
        for i in range(0, len(batch), 500):
            self.client.log_batch(run_id, metrics=batch[i : i + 500])

    def log_artifacts(self, run_id: str, paths: list[Path], subdir: str | None = None) -> None:
        for path in paths:
            self.client.log_artifact(run_id, str(path), artifact_path=subdir)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag

        if tags:  # one request for all of them
            self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def mark_running(self, run_id: str) -> None:
        """A trial (re)started, e.g. on --resume after it failed: its run is live again."""
        if self._status.get(run_id) != "RUNNING":
            self.client.update_run(run_id, status="RUNNING")
            self._status[run_id] = "RUNNING"

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status=status)
        self._status[run_id] = status


def _rank(run: Any) -> tuple[bool, int]:
    return run.info.status == "FINISHED", int(run.info.start_time or 0)


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
