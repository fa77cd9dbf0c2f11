"""A study logged to a real MLflow tracking server on loopback, and its report rebuilt from MLflow alone."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(port: int, store: Path) -> subprocess.Popen:
    """`mlflow server` on loopback over a SQLite store in `store` (the same store after a restart)."""
    mlflow = Path(sys.executable).parent / "mlflow"
    proc = subprocess.Popen(
        [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{store / 'server.db'}", "--artifacts-destination", str(store / "art")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail("mlflow server did not start within 120 s")


@pytest.fixture
def server(tmp_path: Path):
    port = _free_port()
    proc = _start_server(port, tmp_path)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def test_study_logs_to_server_and_report_rebuilds_from_it(server: str, tmp_path: Path, cache_dir: Path) -> None:
    out = tmp_path / "study"
    cmd = [
        sys.executable,
        "-m",
        "study.run",
        "--space",
        "aux_kl",
        "--smoke",
        "--seeds",
        "2",
        "--out",
        str(out),
        "--cache-dir",
        str(cache_dir),
        "--tracking-uri",
        server,
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not (out / "mlflow.db").exists()  # everything went to the server

    client = MlflowClient(server)
    exp = client.get_experiment_by_name("aux_kl")
    page = f"{server}/#/experiments/{exp.experiment_id}/runs?workflowType=machine_learning"
    assert proc.stdout.strip().splitlines()[-1] == f"MLflow: {page}"  # the server's own runs page
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    runs = client.search_runs([exp.experiment_id], max_results=100)
    kinds = sorted(r.data.tags.get("codeablate.kind") for r in runs)
    assert kinds == ["analysis"] + ["condition"] * 3 + ["study"] + ["trial"] * 6
    trial = next(r for r in runs if r.data.tags["codeablate.kind"] == "trial")
    assert "outcomes.csv" in {a.path for a in client.list_artifacts(trial.info.run_id)}
    analysis = next(r for r in runs if r.data.tags["codeablate.kind"] == "analysis")
    assert any(k.startswith("cmp/C-light_vs_A/") for k in analysis.data.metrics)
    assert "report" in {a.path for a in client.list_artifacts(analysis.info.run_id)}

    report = tmp_path / "report"
    rebuilt = subprocess.run(
        [sys.executable, "-m", "study.report", "--study", "aux_kl", "--tracking-uri", server, "--out", str(report)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert (report / "report.html").is_file() and (report / "report.md").is_file()
    assert "C-light_vs_A" in (report / "report.md").read_text()


OUTAGE_S = float(os.environ.get("CODEABLATE_OUTAGE_S", "300"))


def test_a_tracking_server_outage_is_ridden_out(tmp_path: Path, cache_dir: Path) -> None:
    """The server stopped after the first result and restarted 5 minutes later: the trials run on meanwhile,
    the progress line says MLflow is away, and every metric reaches the server once when it is back."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    srv = _start_server(port, tmp_path)
    out = tmp_path / "study"
    cmd = [sys.executable, "-m", "study.run", "--space", "aux_kl", "--smoke", "--seeds", "2", "--out", str(out),
           "--cache-dir", str(cache_dir), "--tracking-uri", url]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while not any(f.read_text().strip() for f in out.glob("trials/*/results.jsonl")):
            assert proc.poll() is None and time.monotonic() < deadline, "no trial reported"
            time.sleep(0.2)
        srv.terminate()
        srv.wait(timeout=30)
        down = time.time()
        time.sleep(OUTAGE_S)
        up = time.time()
        srv = _start_server(port, tmp_path)
        printed, _ = proc.communicate(timeout=900)
        _check_outage_study(out, url, printed, proc.returncode, down, up)
    finally:
        if proc.poll() is None:  # the driver and the Ray processes it started
            os.killpg(proc.pid, signal.SIGKILL)
        srv.terminate()
        srv.wait(timeout=30)


def _check_outage_study(out: Path, url: str, printed: str, code: int, down: float, up: float) -> None:
    assert code == 0, printed[-3000:]
    assert "MLflow unreachable at" in printed and "MLflow back after" in printed, printed[-3000:]
    assert re.search(r"MLflow down \d+s, \d+ trials buffered on disk", printed)  # the progress line says so
    finished = [json.loads(f.read_text())["finished_at"] for f in out.glob("trials/*/DONE.json")]
    assert len(finished) == 6 and sum(down < t < up for t in finished) >= 3  # trials went on meanwhile
    client = MlflowClient(url)
    exp = client.get_experiment_by_name("aux_kl")
    runs = client.search_runs([exp.experiment_id], max_results=100)
    trials = [r for r in runs if r.data.tags.get("codeablate.kind") == "trial"]
    assert len(trials) == 6 and {r.info.status for r in trials} == {"FINISHED"}
    for t in trials:
        steps = [m.step for m in client.get_metric_history(t.info.run_id, "eval/transfer/pass_at_1")]
        assert sorted(steps) == [0, 1, 2], steps  # every point, once
        assert "codeablate.ray_node_id" in t.data.tags
        assert "outcomes.csv" in {a.path for a in client.list_artifacts(t.info.run_id)}
    conditions = [r for r in runs if r.data.tags.get("codeablate.kind") == "condition"]
    assert len(conditions) == 3 and all(r.data.metrics.get("n_seeds") == 2 for r in conditions)
