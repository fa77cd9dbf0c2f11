"""A study logged to a real MLflow tracking server on loopback, and its report rebuilt from MLflow alone."""

from __future__ import annotations

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


@pytest.fixture
def server(tmp_path: Path):
    port = _free_port()
    mlflow = Path(sys.executable).parent / "mlflow"
    proc = subprocess.Popen(
        [
            str(mlflow),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "art"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("mlflow server did not start within 120 s")
    yield url
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
    assert proc.stdout.strip().splitlines()[-1] == f"MLflow: mlflow ui --backend-store-uri {server}"
    assert not (out / "mlflow.db").exists()  # everything went to the server

    client = MlflowClient(server)
    exp = client.get_experiment_by_name("aux_kl")
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
