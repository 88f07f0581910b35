"""Benchmark the pilot simulator: wall time, peak RSS, rows per table, contacts per second.

Run: ``.venv/bin/python benchmarks/bench_simulate.py [accounts ...]`` (default 100000 1000000).
Each size runs in a fresh subprocess so that peak RSS is its own. The truth
(two 200k-account worlds, cached per process) is timed separately once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, tempfile, time
from workbench.simulate.pilot import simulate_tables
from workbench.contract.io import write_pilot
n = int(sys.argv[1])
t0 = time.perf_counter()
cfg, tables, _ = simulate_tables(n, seed=1, preset="realistic", with_truth=False)
t1 = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    write_pilot(d, cfg, tables, "parquet")
t2 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"accounts": n, "simulate_s": t1 - t0, "write_parquet_s": t2 - t1, "peak_rss_mb": rss,
                  "rows": {k: len(v) for k, v in tables.items()}}))
"""

TRUTH = r"""
import json, time
from workbench.contract.config import Windows
from workbench.simulate.truth import compute_truth
t = time.perf_counter(); compute_truth("realistic", Windows()); print(json.dumps({"truth_s": time.perf_counter() - t}))
"""


def main(sizes: list[int]) -> None:
    import os

    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    for n in sizes:
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        contacts = r["rows"]["contacts"]
        print(
            f"{n:>9,} accounts: simulate {r['simulate_s']:.1f} s + parquet {r['write_parquet_s']:.1f} s "
            f"(process {time.perf_counter() - t:.1f} s), peak RSS {r['peak_rss_mb']:,.0f} MB, "
            f"{contacts / r['simulate_s']:,.0f} contacts/s"
        )
        print("           rows: " + ", ".join(f"{k} {v:,}" for k, v in r["rows"].items()))
    out = subprocess.run([sys.executable, "-c", TRUTH], capture_output=True, text=True, check=True)
    print(f"truth (realistic, 2 worlds x 200,000 accounts + reference metrics): {json.loads(out.stdout)['truth_s']:.1f} s")


if __name__ == "__main__":
    main([int(x) for x in sys.argv[1:]] or [100_000, 1_000_000])
