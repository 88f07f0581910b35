"""Spark on a small pilot: the session's start, then open + sufficient statistics, this tree vs another.

Usage::

    PYTHONPATH=src python benchmarks/bench_spark_small.py --before /tmp/main/src [--rounds 2] [--repeat 3] [--accounts 600]

The pilot (``simulate_pilot(root, accounts=600, seed=11, agents=8)``, the size the
test suite uses; ``--accounts N`` for another size) is simulated once into a temporary folder. Each round runs one
fresh child process per source tree (``--before`` first, then this one, so both
see the same load); a child starts a local Spark session (``spark_session()``,
timed), then ``--repeat`` times opens the pilot on Spark and computes
``sufficient_stats(..., by=["segment"])`` (what the tests' Spark computations
do), then once the statistics an analysis reads (by arm, segment, agent) on one
opened pilot. The first repeat of a child is the session's first computation
(the JVM's warm-up, every generated class compiled); the later ones are what
each further computation costs.

Each figure is wall seconds and CPU seconds of the child and its Spark JVM
(read from /proc, so Linux only), with the load average after it: the machine
may be shared, and CPU seconds are the steadier figure. The children's
statistics are compared (1e-9 relative): the trees must agree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

CHILD = r"""
import json, os, sys, time
from pathlib import Path

def tree_cpu(pid=None):
    # CPU seconds (user + system) of this process and every descendant (the Spark JVM), from /proc
    pid = pid or os.getpid()
    tick = os.sysconf("SC_CLK_TCK")
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            kids.setdefault(int(f[1]), []).append((int(d), (int(f[11]) + int(f[12])) / tick))
    total, todo = 0.0, [pid]
    own = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    total += (int(own[11]) + int(own[12])) / tick
    while todo:
        for child, cpu in kids.get(todo.pop(), []):
            total += cpu
            todo.append(child)
    return total

def timed(fn):
    w, c = time.perf_counter(), tree_cpu()
    out = fn()
    return out, {"wall": time.perf_counter() - w, "cpu": tree_cpu() - c, "load": os.getloadavg()[0]}

from workbench.metrics.engine import open_pilot, spark_session
from workbench.metrics.stats import sufficient_stats
root, repeat = Path(sys.argv[1]), int(sys.argv[2])
rows = []
_, r = timed(spark_session)
rows.append({"what": "session start", **r})
for i in range(repeat):
    def once():
        p = open_pilot(root, "pyspark")
        return sufficient_stats(p.tables, p.config, by=["segment"])
    stats, r = timed(once)
    rows.append({"what": f"open + stats by segment #{i + 1}", **r})
def analysis():
    p = open_pilot(root, "pyspark")
    return [sufficient_stats(p.tables, p.config, by=by) for by in ([], ["segment"], ["agent_id"])]
_, r = timed(analysis)
rows.append({"what": "open + stats by arm, segment, agent", **r})
print(json.dumps({"rows": rows, "stats": stats.to_json(orient="split", double_precision=15)}))
"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def child(src: Path, root: Path, repeat: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(repeat)], env=env, capture_output=True, text=True, check=False
    )
    if r.returncode != 0:
        raise SystemExit(f"child ({src}) exited {r.returncode}:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="another tree's src (e.g. main's, from git archive)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--accounts", type=int, default=600, help="the pilot's size (600: the size the suite uses)")
    args = ap.parse_args()
    sys.path.insert(0, str(SRC))
    import pandas as pd

    from workbench.simulate.pilot import simulate_pilot

    trees = {"before": args.before.resolve(), "after": SRC}
    with tempfile.TemporaryDirectory() as tmp:
        root = simulate_pilot(Path(tmp) / "pilot", accounts=args.accounts, seed=11, agents=8)
        size = sum(f.stat().st_size for f in root.iterdir() if f.suffix == ".parquet")
        print(
            f"pilot: {args.accounts} accounts, {size / 2**20:.1f} MiB of Parquet; load {load()}; uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}"
        )
        stats = {}
        for k in range(args.rounds):
            for name, src in trees.items():
                out = child(src, root, args.repeat)
                stats[name] = pd.read_json(__import__("io").StringIO(out["stats"]), orient="split")
                for row in out["rows"]:
                    print(
                        f"round {k + 1} {name:6s} {row['what']:38s} wall {row['wall']:6.1f} s  cpu {row['cpu']:6.1f} s"
                        f"  load {row['load']:.2f}",
                        flush=True,
                    )
        pd.testing.assert_frame_equal(stats["before"], stats["after"], rtol=1e-9)
        print(f"statistics of both trees equal (1e-9 relative); load {load()}")


if __name__ == "__main__":
    main()
