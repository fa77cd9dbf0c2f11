"""Time the default study on the tiny profile against its sequential baseline.

    python benchmarks/bench_study.py [--space aux_kl] [--seeds 3] [--smoke] [-- extra study.run flags]

Runs `python -m study.run` in a fresh --out (the tiny model must be cached already: the first
`./dev.sh study` builds it), then prints the study's wall time beside the sum of its trials' own
durations (what running them one after another would cost), their ratio, and the targets
(wall <= 10 min; ratio <= 0.6).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--space", default="aux_kl")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--smoke", action="store_true")
    p.add_argument("extra", nargs="*", help="more study.run flags (after --)")
    args = p.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench_study_")) / args.space
    cmd = [sys.executable, "-m", "study.run", "--space", args.space, "--seeds", str(args.seeds), "--out", str(out)]
    cmd += ["--smoke"] * args.smoke + args.extra
    print("running:", " ".join(cmd), flush=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    wall = time.monotonic() - start
    durations = [json.loads(f.read_text())["duration_s"] for f in out.glob("trials/*/DONE.json")]
    seq = sum(durations)
    print("\n== bench_study", f"({os.cpu_count()} cores, {len(durations)} trials, exit {proc.returncode})")
    print(f"{'':34}{'seconds':>10}")
    print(f"{'study wall (this system)':34}{wall:10.1f}   target <= 600")
    print(f"{'sequential baseline (sum of trials)':34}{seq:10.1f}")
    print(f"{'mean trial':34}{seq / max(len(durations), 1):10.1f}")
    ratio = wall / seq if seq else float("nan")
    print(f"{'ratio wall / sequential':34}{ratio:10.3f}   target <= 0.600")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
