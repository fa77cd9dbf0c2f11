"""Beyond one Ray node, on loopback as Ray's own multi-node tests do (`ray.cluster_utils.Cluster`: a head
and further nodes, each with its own raylet and resources): a smoke study joined with --address runs its
trials on both nodes, each trial's node recorded in MLflow and its folder; fractional GPUs declared on CPU
nodes let two trials share one GPU slot, and trials land only on the node whose resources fit them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _study(out: Path, cache: Path, address: str, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "study.run", "--space", "aux_kl", "--smoke", "--seeds", "2", "--out", str(out),
           "--cache-dir", str(cache), "--address", address, *extra]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _trial_nodes(out: Path) -> dict[str, str]:
    """trial key -> the Ray node id its MLflow run is tagged with (checked against its folder's record)."""
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("aux_kl")
    runs = client.search_runs([exp.experiment_id], "tags.`codeablate.kind` = 'trial'")
    assert len(runs) == 6 and {r.info.status for r in runs} == {"FINISHED"}
    nodes = {}
    for r in runs:
        key = r.data.tags["codeablate.trial_key"]
        attempts = [json.loads(ln) for ln in (out / "trials" / key / "node.jsonl").read_text().splitlines()]
        assert r.data.tags["codeablate.ray_node_id"] == attempts[-1]["ray_node_id"]
        assert r.data.tags["codeablate.ray_host"] == attempts[-1]["ray_host"]
        nodes[key] = attempts[-1]["ray_node_id"]
    return nodes


def test_a_study_joined_by_address_runs_on_both_nodes(cluster, tmp_path: Path, cache_dir: Path) -> None:
    second = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    out = tmp_path / "aux_kl"
    _study(out, cache_dir, cluster.address)
    nodes = _trial_nodes(out)
    assert set(nodes.values()) == {cluster.head_node.node_id, second.node_id}  # both nodes ran trials
    assert len(list(out.glob("trials/*/DONE.json"))) == 6


def test_fractional_gpus_share_a_slot_on_the_node_that_fits(cluster, tmp_path: Path, cache_dir: Path) -> None:
    gpu_node = cluster.add_node(num_cpus=2, num_gpus=1)  # a GPU declared on a CPU node (ray start --num-gpus 1)
    cluster.wait_for_nodes()
    out = tmp_path / "aux_kl"
    _study(out, cache_dir, cluster.address, "--gpus-per-trial", "0.5")
    nodes = _trial_nodes(out)
    assert set(nodes.values()) == {gpu_node.node_id}  # never on the head: it has no GPU
    spans = []
    for key in nodes:
        done = json.loads((out / "trials" / key / "DONE.json").read_text())
        spans.append((done["finished_at"] - done["duration_s"], done["finished_at"]))
    overlapping = any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1 :])
    assert overlapping  # two trials held half the GPU each at the same time

    whole = subprocess.run(
        [sys.executable, "-m", "study.run", "--space", "aux_kl", "--smoke", "--out", str(tmp_path / "x"),
         "--address", cluster.address, "--gpus-per-trial", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert whole.returncode == 2 and "a trial needs 1 CPU and 2 GPU" in whole.stderr  # no node could hold it
    assert not (tmp_path / "x").exists()
