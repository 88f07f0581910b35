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

CHILD = {
    "duckdb": """
from workbench.metrics.stats import compute_metrics
import duckdb, ibis, pandas
import ibis.backends.duckdb  # ibis imports a backend (and sqlglot's compilers) on first use: an import, not work
t0, c0 = time.perf_counter(), cpu()
s = compute_metrics({path!r})
out = s[["metric", "arm", "n", "mean"]]
""",
    "pandas": """
import pandas as pd
import pyarrow.parquet
from workbench.contract.config import load_config
from workbench.metrics.reference import reference_metrics
from workbench.contract.tables import TABLES
t0, c0 = time.perf_counter(), cpu()
p = {path!r}
cfg = load_config(p + "/pilot.yml")
tables = {{n: pd.read_parquet(f"{{p}}/{{n}}.parquet") for n in TABLES if __import__("os").path.exists(f"{{p}}/{{n}}.parquet")}}
out = reference_metrics(cfg, tables)[["metric", "arm", "n", "mean"]]
""",
}

WRAP = """
import json, resource, sys, time
cpu = lambda: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_SELF))
{body}
wall, cpu_s = time.perf_counter() - t0, cpu() - c0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"wall": wall, "cpu": cpu_s, "rss_mb": rss, "rows": out.to_dict("records")}}))
"""


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
    if not (path / "pilot.yml").exists():
        t0 = time.perf_counter()
        # In a child: on Linux a process's peak RSS survives exec, so the
        # simulator's memory must not be this process's.
        code = f"from workbench.simulate.pilot import simulate_pilot; simulate_pilot({str(path)!r}, accounts={a.accounts}, seed={a.seed})"
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
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
