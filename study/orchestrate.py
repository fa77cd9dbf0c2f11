"""Ray Tune orchestration: the only module that imports ray.

One grid axis, `trial_key`, enumerates the study's (condition, seed) trials; the resolved config of
each travels with the trainable. FIFO scheduling; per-trial resources from the profile. Driver-side
events go to a plain `hooks` object (MLflow, progress), so nothing else in the project knows Ray.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Protocol

from study.layout import DONE_FILE, NODE_FILE, RESULTS_FILE
from study.summary import trial_results
from trainables.common import checkpoints
from trainables.common.checkpoints import Checkpoint
from trainables.common.config import TrialConfig
from trainables.kinds import KINDS

FAULT_ENV = "CODEABLATE_FAULT_TRIAL"
"""Fault injection for tests and drills: a trial whose key starts with this value raises at its start."""
NODE_ID = "ray_node_id"
HOST = "ray_host"


class Hooks(Protocol):
    """What the driver does on trial events (implemented in study/lifecycle.py)."""

    def started(self, key: str) -> None: ...
    def result(self, key: str, result: dict[str, Any]) -> None: ...
    def completed(self, key: str) -> None: ...
    def errored(self, key: str, message: str) -> None: ...
    def retrying(self, key: str, message: str, failures: int) -> None: ...


class TuneReporter:
    """The trainable's Reporter inside a Tune trial: a local results log plus `tune.report`."""

    def __init__(self, cfg: TrialConfig) -> None:
        self.cfg = cfg
        self.started = time.monotonic()
        self.node = record_node(cfg.trial_dir)

    def report(self, metrics: dict[str, float], checkpoint_dir: Path | None) -> None:
        from ray import tune

        metrics = {**metrics, "trial_s": time.monotonic() - self.started}
        self._append(metrics)
        ckpt = tune.Checkpoint.from_directory(str(checkpoint_dir)) if checkpoint_dir else None
        tune.report({**metrics, **self.node}, checkpoint=ckpt)  # the node rides along: the driver tags the run

    def _append(self, metrics: dict[str, float]) -> None:
        with (self.cfg.trial_dir / RESULTS_FILE).open("a") as fh:
            fh.write(json.dumps(metrics) + "\n")

    def restored_checkpoint(self) -> Checkpoint | None:
        """The newer of Ray's checkpoint (after a retry) and the newest one this trial saved on disk (after
        the driver died, or a kill between saving and reporting). An iteration that was checkpointed but
        never reported gets its results row now, so its metrics reach MLflow when the trial finishes."""
        from ray import tune

        found = [checkpoints.latest(self.cfg.trial_dir)]
        ray_ckpt = tune.get_checkpoint()
        if ray_ckpt is not None:
            found.append(checkpoints.read(_local_dir(ray_ckpt)))
        usable = [c for c in found if c is not None and c.trial_key == self.cfg.key]
        if not usable:
            return None
        best = max(usable, key=lambda c: c.iteration)
        if best.iteration not in {int(r["iteration"]) for r in trial_results(self.cfg.trial_dir)}:
            self._append({**best.metrics, "trial_s": 0.0})
        return best


def record_node(trial_dir: Path) -> dict[str, str]:
    """Where this attempt of the trial runs (Ray node id, host name, pid), appended to the trial folder's
    node.jsonl (one line per attempt: a retry may land on another node) and returned for the results."""
    import socket

    import ray

    node = {NODE_ID: ray.get_runtime_context().get_node_id(), HOST: socket.gethostname()}
    with (trial_dir / NODE_FILE).open("a") as fh:
        fh.write(json.dumps({**node, "pid": os.getpid(), "at": time.time()}) + "\n")
    return node


def _local_dir(ckpt: Any) -> Path:
    """Ray's checkpoint folder itself when storage is local (no copy); else a downloaded copy."""
    fs = getattr(ckpt, "filesystem", None)
    if fs is not None and getattr(fs, "type_name", "") == "local":
        return Path(ckpt.path)
    return Path(ckpt.to_directory())


def trial_function(config: dict[str, Any], trials: dict[str, str]) -> None:
    """The Tune function trainable: resolve the trial's config, run its trainer kind, mark it done."""
    cfg = TrialConfig.model_validate_json(trials[config["trial_key"]])
    cfg.trial_dir.mkdir(parents=True, exist_ok=True)
    fault = os.environ.get(FAULT_ENV)
    if fault and cfg.key.startswith(fault):
        raise RuntimeError(f"injected fault: {FAULT_ENV}={fault} matches this trial")
    started = time.monotonic()
    KINDS[cfg.trainable].run_function()(cfg, TuneReporter(cfg))
    done = {"trial_key": cfg.key, "duration_s": time.monotonic() - started, "finished_at": time.time()}
    tmp = cfg.trial_dir / (DONE_FILE + ".tmp")
    tmp.write_text(json.dumps(done))
    os.replace(tmp, cfg.trial_dir / DONE_FILE)


def _callback(hooks: Hooks) -> Any:
    from ray import tune

    class StudyCallback(tune.Callback):
        """Forwards trial events to the study's hooks (runs on the driver)."""

        def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            hooks.started(trial.config["trial_key"])

        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
            hooks.result(trial.config["trial_key"], result)

        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            hooks.completed(trial.config["trial_key"])

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            hooks.errored(trial.config["trial_key"], _error_line(trial))

        def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            failures = int(getattr(trial.run_metadata, "num_failures", 0))
            hooks.retrying(trial.config["trial_key"], _error_line(trial), failures)

    return StudyCallback()


def _error_line(trial: Any) -> str:
    path = trial.error_file
    if path and Path(path).is_file():
        lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip()]
        last = lines[-1].strip() if lines else "unknown error"
        return f"{last[:300]} (traceback: {path})"
    return "unknown error"


def run_trials(
    trials: list[TrialConfig],
    hooks: Hooks,
    *,
    storage: Path,
    name: str,
    cpu: float,
    gpu: float,
    max_concurrent: int | None,
    address: str | None,
    max_failures: int,
) -> None:
    """Schedule the trials on Ray Tune (a new local cluster, or the one at `address`) and wait."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # our progress lines replace Ray's tables
    import ray
    from ray import tune

    logging.getLogger("ray.tune").setLevel(logging.CRITICAL)  # a failed trial is reported by hooks.errored
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
            num_cpus=None if address else os.cpu_count(),
            num_gpus=None if address else _local_gpus(),
        )
    payload = {t.key: t.model_dump_json() for t in trials}
    trainable = tune.with_resources(tune.with_parameters(trial_function, trials=payload), {"cpu": cpu, "gpu": gpu})
    tuner = tune.Tuner(
        trainable,
        param_space={"trial_key": tune.grid_search([t.key for t in trials])},
        tune_config=tune.TuneConfig(
            max_concurrent_trials=max_concurrent,
            reuse_actors=True,  # a finished trial's worker runs the next one: torch/TRL imported once
            trial_name_creator=lambda t: t.config["trial_key"],
            trial_dirname_creator=lambda t: t.config["trial_key"],
        ),
        run_config=tune.RunConfig(
            name=name,
            storage_path=str(storage.resolve()),
            callbacks=[_callback(hooks)],
            failure_config=tune.FailureConfig(max_failures=max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
            verbose=0,
        ),
    )
    try:
        tuner.fit()
    finally:
        if started_here:
            ray.shutdown()


def node_resources(address: str | None) -> list[dict[str, float]]:
    """Each node's total resources: this machine's when Ray will start here, else the live nodes of the
    cluster at `address` (connects, reads, disconnects)."""
    if address is None:
        return [{"CPU": float(os.cpu_count() or 1), "GPU": float(_local_gpus())}]
    _reachable(address)
    import ray

    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    except ConnectionError as err:
        if os.environ.get("RAY_AUTH_MODE") == "token" or "://" in address or ":" not in address:
            raise
        raise ConnectionError(  # the port answered, Ray did not: most often the cluster wants its token
            f"{err}; the port answers, so the cluster may use token authentication (`ray start --head` turns "
            "it on): set RAY_AUTH_MODE=token with the cluster's token in ~/.ray/auth_token, RAY_AUTH_TOKEN or "
            f"RAY_AUTH_TOKEN_PATH; and the driver's Ray ({ray.__version__}) must match the cluster's"
        ) from None
    try:
        return [dict(n["Resources"]) for n in ray.nodes() if n.get("Alive")]
    finally:
        ray.shutdown()


def _reachable(address: str) -> None:
    """A HOST:PORT address must accept a TCP connection within 5 s (ray.init would wait minutes);
    ConnectionError otherwise. `auto` and ray:// addresses are left to Ray."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except OSError as err:
        raise ConnectionError(f"{host}:{port}: {err.strerror or err}") from None


def _local_gpus() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except ImportError:
        return 0
