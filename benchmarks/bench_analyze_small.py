"""``analyze`` and ``claims`` on a small simulated pilot, in-process: wall and CPU seconds.

Usage::

    PYTHONPATH=src python benchmarks/bench_analyze_small.py [--accounts 600] [--repeat 2] [--keep DIR]

The pilot (``simulate_pilot(root, accounts=600, seed=11, agents=8)``, the size the
test suite uses) is simulated once into a temporary folder; each verb then runs
through Typer's ``CliRunner`` on ``workbench.cli.main.app`` in this process, as
the tests run it. The first repeat includes the one-off costs of a fresh
process (imports on first use, DuckDB's first query). The machine's load
average is printed before and after, since the machine may be shared. Run it
with ``PYTHONPATH`` set to another source tree (e.g. main's) for a before figure;
``--keep DIR`` writes each verb's JSON there so two trees' outputs can be diffed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(runner, app, args: list[str]) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    r = runner.invoke(app, args, catch_exceptions=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if r.exit_code != 0:
        raise SystemExit(f"{args[0]} exited {r.exit_code}:\n{r.output[-2000:]}")
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=600)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--agents", type=int, default=8)
    ap.add_argument("--draws", type=int, default=500, help="analyze --draws")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="write analyze.json and claims.json here")
    a = ap.parse_args()

    from typer.testing import CliRunner

    import workbench
    from workbench.cli.main import app
    from workbench.simulate.pilot import simulate_pilot

    print(f"workbench from {Path(workbench.__file__).parent}")
    print(f"load before: {load()}  (cores: {os.cpu_count()})")
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pilot"
        t0 = time.perf_counter()
        simulate_pilot(root, accounts=a.accounts, seed=a.seed, agents=a.agents)
        print(f"simulate   {time.perf_counter() - t0:6.2f} s wall  ({a.accounts} accounts, seed {a.seed}, {a.agents} agents)")
        out = a.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        verbs = {
            "analyze": ["analyze", str(root), "--draws", str(a.draws), "--out", str(out / "analyze.json")],
            "claims": ["claims", str(root), "--out", str(out / "claims.json")],
        }
        for i in range(a.repeat):
            for name, args in verbs.items():
                wall, cpu = timed(runner, app, args)
                print(f"{name:10} {wall:6.2f} s wall  {cpu:6.2f} s CPU   (repeat {i + 1})")
    print(f"load after:  {load()}")


if __name__ == "__main__":
    main()
