"""Wall time of ``workbench demo`` (20,000 accounts, 40 agents, every notebook rendered), cold and warm.

Cold: a fresh, empty PyTensor compile directory (``PYTENSOR_FLAGS=base_compiledir=<tmp>``),
so every compiled model is built from scratch, as on a fresh clone. Warm: the same
directory again, now filled. Each run is a separate process, like a user typing the
command. Target (issue 5): under three minutes cold.

    .venv/bin/python benchmarks/bench_demo.py [--accounts 20000] [--agents 40]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_demo(out: Path, compiledir: Path, accounts: int, agents: int) -> float:
    """One ``workbench demo`` in a fresh process; seconds of wall time (raises on failure)."""
    env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={compiledir}")
    cmd = [
        sys.executable,
        "-m",
        "workbench",
        "demo",
        "--out",
        str(out / "data"),
        "--reports",
        str(out / "reports"),
        "--accounts",
        str(accounts),
        "--agents",
        str(agents),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"demo failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--agents", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        root = Path(tmp)
        compiledir = root / "pytensor"  # empty: the cold run compiles everything
        cold = timed_demo(root / "cold", compiledir, args.accounts, args.agents)
        warm = timed_demo(root / "warm", compiledir, args.accounts, args.agents)
    print(f"workbench demo, {args.accounts:,} accounts, {args.agents} agents, {os.cpu_count()} cores")
    print(f"cold (empty PyTensor compile dir): {cold:6.1f} s  {'OK' if cold < 180 else 'OVER'} the 180 s target")
    print(f"warm (compile dir filled):         {warm:6.1f} s")


if __name__ == "__main__":
    main()
