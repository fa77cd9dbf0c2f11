"""A 100-trial smoke study against an MLflow server on loopback: wall time, per-trial overhead, driver peak
memory, MLflow write volume, and a check that no run or metric point is lost or duplicated.

    python benchmarks/bench_scale.py [--conditions 4] [--seeds 25] [--skip-peer]

The study: `--conditions` base-model arms (evaluation only, the cheapest real trial: load the tiny
model, sample and judge every suite in the sandbox) x `--seeds` seeds, `--smoke`. The peer: the same
trials through the same Ray Tune setup with no tracking and no progress (`study.orchestrate.run_trials`
with hooks that do nothing), i.e. what Ray Tune itself costs; the difference is our driver's share.
Per-trial overhead = (trial phase x concurrency - sum of the trials' own durations) / trials, the trial
phase running from the first trial's start to the last one's end (the whole command adds start-up
checks and the analysis).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPERATURES = (0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6)


def space(path: Path, n_conditions: int, seeds: int) -> Path:
    conds = "\n".join(f"  T{t:g}: {{eval_temperature: {t}}}" for t in TEMPERATURES[:n_conditions])
    path.write_text(
        f"name: bench_scale\ntrainable: base\nseeds: {seeds}\nbaseline: T{TEMPERATURES[0]:g}\n"
        f"conditions:\n{conds}\nmetrics:\n  - {{name: eval/heldout/pass_at_1, direction: max}}\n"
    )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--backend-store-uri", f"sqlite:///{store / 'server.db'}",
         "--artifacts-destination", str(store / "art")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import urllib.request

    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.5)
    raise SystemExit("mlflow server did not start")


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a live process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_ours(space_file: Path, out: Path, uri: str) -> dict:
    cmd = [sys.executable, "-m", "study.run", "--space", str(space_file), "--smoke", "--out", str(out),
           "--tracking-uri", uri]  # fmt: skip
    log = out.parent / "study.log"
    start = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
        peak = 0.0
        while proc.poll() is None:
            with contextlib.suppress(OSError):
                peak = max(peak, peak_rss_mb(proc.pid))
            time.sleep(0.5)
    wall = time.monotonic() - start
    if proc.returncode:
        raise SystemExit(f"study.run exited {proc.returncode}; log {log}")
    return {"wall_s": wall, "driver_peak_mb": peak, **trial_sums(out)}


PEER = """
import json, sys, time, resource
from pathlib import Path
from study.profile import load_profile
from study.resolve import Options, resolve_study
from study.space import load_space
from study.orchestrate import run_trials

class Quiet:
    def started(self, key): pass
    def result(self, key, result): pass
    def completed(self, key): pass
    def errored(self, key, message): print("FAILED", key, message, flush=True)
    def retrying(self, key, message, failures): pass

out = Path(sys.argv[2])
study = resolve_study(load_space(sys.argv[1]), load_profile("tiny"), Options(smoke=True), out, Path(sys.argv[3]))
start = time.monotonic()
run_trials(list(study.trials), Quiet(), storage=out / "ray", name="peer", cpu=1, gpu=0, max_concurrent=None,
           address=None, max_failures=1)
print(json.dumps({"wall_s": time.monotonic() - start,
                  "driver_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_peer(space_file: Path, out: Path) -> dict:
    cache = Path.home() / ".cache" / "codeablate"
    proc = subprocess.run([sys.executable, "-c", PEER, str(space_file), str(out), str(cache)], cwd=REPO,
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode:
        raise SystemExit(f"peer failed:\n{proc.stderr[-3000:]}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), **trial_sums(out)}


def trial_sums(out: Path) -> dict:
    """Trials finished, the sum of their own durations, and the span from the first start to the last end."""
    done = [json.loads(f.read_text()) for f in out.glob("trials/*/DONE.json")]
    starts = [d["finished_at"] - d["duration_s"] for d in done]
    span = max(d["finished_at"] for d in done) - min(starts) if done else 0.0
    return {"trials": len(done), "trials_sum_s": sum(d["duration_s"] for d in done), "span_s": span}


def mlflow_volume(store: Path, expected_trials: int) -> dict:
    """Rows the server stored, artifact bytes, and the integrity checks (no run or point lost or twice)."""
    db = sqlite3.connect(store / "server.db")
    q = lambda sql: db.execute(sql).fetchall()  # noqa: E731
    kinds = dict(q("SELECT value, COUNT(*) FROM tags WHERE key = 'codeablate.kind' GROUP BY value"))
    dup = q("SELECT COUNT(*) FROM (SELECT run_uuid, key, step FROM metrics GROUP BY run_uuid, key, step "
            "HAVING COUNT(*) > 1)")[0][0]  # fmt: skip
    keys = q("SELECT COUNT(DISTINCT r.run_uuid) FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid "
             "JOIN metrics m ON m.run_uuid = r.run_uuid AND m.key = 'eval/heldout/pass_at_1' "
             "WHERE t.key = 'codeablate.kind' AND t.value = 'trial' AND r.status = 'FINISHED'")[0][0]  # fmt: skip
    art = sum(f.stat().st_size for f in (store / "art").rglob("*") if f.is_file())
    return {
        "runs": q("SELECT COUNT(*) FROM runs")[0][0], "kinds": kinds,
        "metric_points": q("SELECT COUNT(*) FROM metrics")[0][0], "params": q("SELECT COUNT(*) FROM params")[0][0],
        "tags": q("SELECT COUNT(*) FROM tags")[0][0], "artifact_mb": art / 2**20,
        "db_mb": (store / "server.db").stat().st_size / 2**20, "duplicate_points": dup,
        "trials_complete": keys, "ok": dup == 0 and keys == expected_trials == kinds.get("trial"),
    }  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--conditions", type=int, default=4, choices=range(2, len(TEMPERATURES) + 1))
    p.add_argument("--seeds", type=int, default=25)
    p.add_argument("--skip-peer", action="store_true")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    sfile = space(work / "bench_scale.yaml", args.conditions, args.seeds)
    n = args.conditions * args.seeds
    conc = os.cpu_count() or 1
    server, uri = start_server(work)
    try:
        print(f"ours: {n} trials -> {uri} (study folder {work / 'ours'})", flush=True)
        ours = run_ours(sfile, work / "ours", uri)
    finally:
        server.terminate()
        server.wait(timeout=60)
    volume = mlflow_volume(work, n)
    peer = None if args.skip_peer else run_peer(sfile, work / "peer")
    print(f"\n== bench_scale ({conc} cores, {n} trials = {args.conditions} conditions x {args.seeds} seeds, smoke)")
    print(f"{'':42}{'ours':>12}{'peer: bare Tune':>18}")
    rows = [("wall, whole command (s)", "wall_s", ".1f"), ("trial phase: first start to last end (s)", "span_s", ".1f"),
            ("sum of trials' own time (s)", "trials_sum_s", ".1f"),
            ("driver peak RSS (MiB)", "driver_peak_mb", ".0f"), ("trials finished", "trials", "d")]  # fmt: skip
    for label, key, fmt in rows:
        theirs = format(peer[key], fmt) if peer else "-"
        print(f"{label:42}{format(ours[key], fmt):>12}{theirs:>18}")
    over = lambda r: (r["span_s"] * conc - r["trials_sum_s"]) / max(r["trials"], 1)  # noqa: E731
    theirs = format(over(peer), ".2f") if peer else "-"
    print(f"{'per-trial overhead in the phase (s)':42}{over(ours):12.2f}{theirs:>18}")
    print(f"\nMLflow: {volume['runs']} runs {volume['kinds']}, {volume['metric_points']} metric points, "
          f"{volume['params']} params, {volume['tags']} tags, artifacts {volume['artifact_mb']:.1f} MiB, "
          f"store {volume['db_mb']:.1f} MiB")  # fmt: skip
    print(
        f"integrity: {volume['trials_complete']}/{n} trial runs FINISHED with their metrics, "
        f"{volume['duplicate_points']} duplicated points -> {'OK' if volume['ok'] else 'FAILED'}"
    )
    return 0 if volume["ok"] and ours["trials"] == n else 1


if __name__ == "__main__":
    raise SystemExit(main())
