"""The fixed cost of small pilots: validation of the test pilot, the statistics of an analysis of 600 accounts.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_overhead.py [--repeat 5] [--dir /tmp/bench-overhead]
    # before/after in one go: the same script with another tree's package
    PYTHONPATH=/work/main/src .venv/bin/python benchmarks/bench_overhead.py

On pilots of a few accounts the engine's work is milliseconds: what a verb
costs is building ibis expressions and compiling them to SQL. Printed, each
the median of ``--repeat`` warm calls (after one call that compiles and loads
everything once), with the 1-minute load average before and after (the
machine is shared: a high load stretches these times):

- ``validate``: ``workbench.contract.validate.open_and_validate`` on the
  test suite's pilot (``tests/pilot_factory.make_pilot``: four accounts, every
  table), opening it again each time as a verb does;
- ``stats``: ``workbench.metrics.stats.sufficient_stats`` on a simulated
  pilot of 600 accounts (seed 11, 8 agents), opened once;
- ``analyze stats``: the statistics queries of ``analyze`` on that pilot
  (plain, by agent, by segment, the survival table), on a newly opened pilot
  each time, as one analysis reads them.

The pilots are written under ``--dir`` once (they are reused; the 600
accounts are simulated by the package being measured, so both trees read the
same files only when they simulate alike: compare the statistics' figures,
not their values).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pilot_factory import make_pilot

from workbench.contract.validate import open_and_validate
from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import sufficient_stats, survival_table
from workbench.simulate.pilot import simulate_pilot


def warm(f, repeat: int) -> float:
    """Median seconds of ``repeat`` calls of ``f`` after one call that warms it."""
    f()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/bench-overhead"))
    a = ap.parse_args()
    tiny, p600 = a.dir / "tiny", a.dir / "p600"
    if not (tiny / "pilot.yml").exists():
        make_pilot(tiny)
    if not (p600 / "pilot.yml").exists():
        simulate_pilot(p600, accounts=600, seed=11, agents=8)
    import workbench

    load0 = os.getloadavg()[0]
    print(f"package: {Path(workbench.__file__).parent}")

    def validate() -> None:
        assert open_and_validate(tiny).ok

    p = open_pilot(p600)

    def stats() -> None:
        sufficient_stats(p.tables, p.config)

    def analyze_stats() -> None:
        q = open_pilot(p600)
        for by in ([], ["agent_id"], ["segment"]):
            sufficient_stats(q.tables, q.config, by=by)
        survival_table(q.tables, q.config)

    rows = [
        ("validate (factory pilot)", warm(validate, a.repeat)),
        ("stats (600 accounts)", warm(stats, a.repeat)),
        ("analyze stats (600 accounts)", warm(analyze_stats, a.repeat)),
    ]
    load1 = os.getloadavg()[0]
    for name, s in rows:
        print(f"{name:30} {s:7.3f} s  (median of {a.repeat} warm calls)")
    print(f"load average (1 min): {load0:.2f} at the start, {load1:.2f} at the end, on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
