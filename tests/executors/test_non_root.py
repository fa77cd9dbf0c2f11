"""Strict isolation for an ordinary user: the fork server enters a user namespace, where only the user's
own uid is mapped. Run here as root, the test re-runs the executor as `nobody` with a Python that user
can execute; run as a normal user, the rest of the suite already covers this path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534
SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from executors import Job, Limits, SandboxExecutor
jobs = [
    Job("ok", "def f(x):\\n    return x + 1\\n", ("assert f(1) == 2",)),
    Job("home", "import os\\ndef f(x):\\n    return os.listdir('/home')\\n", ("assert f(1) == 2",)),
    Job("net", "import socket\\ndef f(x):\\n    socket.socket()\\n    return 2\\n", ("assert f(1) == 2",)),
]
with SandboxExecutor(workers=1, limits=Limits(per_test_s=2.0, program_s=4.0)) as ex:
    out = {"features": ex.features, "results": [r.to_json() for r in ex.run(jobs)]}
print(json.dumps(out))
"""


def _python_for_nobody() -> str | None:
    """An interpreter of this Python version that uid `nobody` can run (this one, or the system's)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for cand in (os.path.realpath(sys.executable), shutil.which(version, path="/usr/local/bin:/usr/bin:/bin") or ""):
        if not cand:
            continue
        try:
            probe = subprocess.run(
                [cand, "-I", "-c", "import ctypes, json"], user=NOBODY, group=NOBODY, extra_groups=[],
                capture_output=True, cwd="/", timeout=30,
            )  # fmt: skip
        except OSError:  # not executable by that user (e.g. under /root)
            continue
        if probe.returncode == 0:
            return cand
    return None


@pytest.mark.skipif(os.geteuid() != 0, reason="as a normal user the whole suite runs this path")
def test_strict_isolation_works_for_an_unprivileged_user():
    python = _python_for_nobody()
    if python is None:
        pytest.skip(f"no python{sys.version_info.major}.{sys.version_info.minor} that uid {NOBODY} can run")
    root = tempfile.mkdtemp(prefix="codeablate-nonroot-")
    try:
        shutil.copytree(REPO / "executors", Path(root) / "executors", ignore=shutil.ignore_patterns("__pycache__"))
        (Path(root) / "run.py").write_text(SCRIPT)
        for d, _, files in os.walk(root):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o644)
        proc = subprocess.run(
            [python, "-I", "-B", f"{root}/run.py", root], user=NOBODY, group=NOBODY, extra_groups=[],
            capture_output=True, text=True, cwd="/", timeout=120, env={},
        )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["features"]["namespaces"] == "user" and out["features"]["privileges"] == "no capabilities"
    res = {r["id"]: r for r in out["results"]}
    assert all(r["isolation"] == "strict" for r in res.values())
    assert res["ok"]["category"] == "pass"
    assert res["home"]["category"] == "runtime_error:PermissionError"
    assert res["net"]["category"] == "runtime_error:PermissionError"
