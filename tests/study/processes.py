"""The processes a study leaves behind: Ray's (GCS, raylet, workers, agents) and the sandbox's workers,
found by their command lines, so a test can assert a stopped study left none running."""

from __future__ import annotations

import os
import time
from pathlib import Path

MARKERS = ("gcs_server", "raylet", "ray::", "ray/_private", "default_worker.py", "executors/worker.py", "sandbox-child")


def study_processes() -> dict[int, str]:
    """pid -> command line of every live Ray or sandbox process on this machine (zombies excluded)."""
    found = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
            name = (d / "comm").read_text().strip()
        except OSError:
            continue
        if state != "Z" and any(m in cmd or m == name for m in MARKERS):
            found[int(d.name)] = cmd[:200]
    return found


def leftovers(before: dict[int, str], grace_s: float = 20.0) -> dict[int, str]:
    """Processes of that kind started since `before` and still alive after `grace_s`."""
    deadline = time.monotonic() + grace_s
    while True:
        new = {p: c for p, c in study_processes().items() if p not in before}
        if not new or time.monotonic() > deadline:
            return new
        time.sleep(0.5)


def trial_workers(out: Path) -> list[int]:
    """PIDs of the Ray workers running a study's trials: Tune runs each in a working folder named by the
    trial key, so a worker is a process whose working directory ends with one of out/trials/<key>."""
    keys = {p.name for p in (out / "trials").iterdir()} if (out / "trials").is_dir() else set()
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cwd = Path(os.readlink(d / "cwd"))
            except OSError:
                continue
            if cwd.name in keys and cwd.parent.name == "working_dirs":
                pids.append(int(d.name))
    return pids
