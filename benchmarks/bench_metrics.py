"""DuckDB metrics against plain pandas on a large simulated pilot: wall time and peak memory.

    .venv/bin/python benchmarks/bench_metrics.py [--accounts 200000] [--seed 1] [--dir data/bench]

Each engine runs in a fresh child process, so its peak resident memory
(``ru_maxrss``, DuckDB's native memory included; Python and the libraries
count too) and its CPU time (user + system, all threads: the work done,
whatever else the machine runs) are its own; wall time starts after the imports (ibis's DuckDB
backend and pyarrow.parquet included, which load lazily otherwise). The pilot is
simulated once (in another child) and reused. pandas reads the Parquet files whole and runs
``workbench.metrics.reference.reference_metrics``; DuckDB reads them in place and runs
``workbench.metrics.stats.sufficient_stats`` (every metric, every statistic). Both
results are compared on n and mean before the ratios are printed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from pilots import METRICS_CHILD, REFERENCE_CHILD, WRAP, ensure_pilot

CHILD = {"duckdb": METRICS_CHILD, "pandas": REFERENCE_CHILD}


def run(engine: str, path: Path) -> dict:
    code = WRAP.format(body=CHILD[engine].format(path=str(path)))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=Path("data/bench"))
    a = ap.parse_args()
    path = a.dir / f"pilot_{a.accounts}_{a.seed}"
    t0 = time.perf_counter()
    if ensure_pilot(path, a.accounts, a.seed):
        print(f"simulated {a.accounts:,} accounts in {time.perf_counter() - t0:.1f}s -> {path}")
    size = sum(f.stat().st_size for f in path.glob("*.parquet")) / 2**20
    rows = {}
    res = {e: run(e, path) for e in ("duckdb", "pandas")}
    for e, r in res.items():
        rows[e] = {(x["metric"], x["arm"]): (x["n"], x["mean"]) for x in r["rows"]}
    agree = all(
        rows["duckdb"][k][0] == v[0] and (abs(rows["duckdb"][k][1] - v[1]) <= 1e-9 * max(1, abs(v[1])) or v[1] != v[1])
        for k, v in rows["pandas"].items()
    )
    d, p = res["duckdb"], res["pandas"]
    print(f"pilot: {a.accounts:,} accounts, {size:.1f} MiB of Parquet; results agree: {agree}")
    print(f"{'engine':8} {'wall s':>8} {'cpu s':>7} {'peak MiB':>9}")
    for e, r in res.items():
        print(f"{e:8} {r['wall']:8.2f} {r['cpu']:7.2f} {r['rss_mb']:9.0f}")
    print(
        f"ratio pandas/duckdb: wall {p['wall'] / d['wall']:.2f}x, cpu {p['cpu'] / d['cpu']:.2f}x, "
        f"peak memory {p['rss_mb'] / d['rss_mb']:.2f}x"
    )


if __name__ == "__main__":
    main()
