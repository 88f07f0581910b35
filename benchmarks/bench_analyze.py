"""End to end at scale: simulate, validate and analyze a large pilot; seconds and peak memory.

Usage::

    python benchmarks/bench_analyze.py --accounts 1000000

Each step runs in a fresh child process so that its peak resident memory
(``ru_maxrss`` of the child) is its own. The simulated pilot is cached under
``benchmarks/.cache/`` (git-ignored) and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path(__file__).parent / ".cache"


def step(name: str, code: str) -> dict:
    t0 = time.perf_counter()
    # The child reports its own peak (KiB on Linux) as its last line.
    code += "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    secs = time.perf_counter() - t0
    if r.returncode != 0:
        print(r.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"{name} failed")
    lines = r.stdout.strip().splitlines()
    return {
        "step": name,
        "seconds": round(secs, 1),
        "peak_rss_mib": round(int(lines[-1]) / 1024),
        "out": " ".join(lines[:-1])[-300:],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    CACHE.mkdir(exist_ok=True)
    pilot = CACHE / f"pilot-{a.accounts}-{a.seed}"
    rows = []
    if not (pilot / "pilot.yml").exists():
        rows.append(
            step(
                "simulate",
                f"from workbench.simulate.pilot import simulate_pilot; simulate_pilot({str(pilot)!r}, accounts={a.accounts}, seed={a.seed})",
            )
        )
    rows.append(
        step(
            "validate",
            f"from workbench.contract.validate import validate_pilot; r = validate_pilot({str(pilot)!r}); print(r.ok, len(r.errors))",
        )
    )
    rows.append(
        step("metrics", f"from workbench.metrics.stats import compute_metrics; print(len(compute_metrics({str(pilot)!r})))")
    )
    rows.append(
        step(
            "analyze",
            f"from workbench.effects.analyze import analyze_pilot, to_json; d = analyze_pilot({str(pilot)!r}); print(len(d['metrics']))",
        )
    )
    try:
        import pyarrow.parquet as pq

        contacts = pq.ParquetFile(pilot / "contacts.parquet").metadata.num_rows
    except Exception:
        contacts = None
    print(json.dumps({"accounts": a.accounts, "contacts": contacts}, indent=None))
    for r in rows:
        print(f"{r['step']:10} {r['seconds']:8.1f} s   peak RSS {r['peak_rss_mib']:,} MiB   {r['out'][:80]}")


if __name__ == "__main__":
    main()
