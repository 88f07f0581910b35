"""``analyze`` and ``claims`` on a small simulated pilot, in-process: wall and CPU seconds.

Usage::

    PYTHONPATH=src python benchmarks/bench_analyze_small.py [--repeat 2] [--keep DIR]
    PYTHONPATH=src python benchmarks/bench_analyze_small.py --before /work/main/src --repeat 3

The pilot (``simulate_pilot(root, accounts=600, seed=11, agents=8)``, the size the
test suite uses) is simulated once into a temporary folder; each verb then runs
through Typer's ``CliRunner`` on ``workbench.cli.main.app`` in one process, as
the tests run it (``analyze --draws 500``, then ``claims``). The first repeat of
a process includes its one-off costs (imports on first use, DuckDB's first
query). The machine's load average is printed before and after: the machine
may be shared, and CPU seconds are the steadier figure.

``--before SRC`` times another source tree (e.g. main's ``src``) against this
one on the same pilot: each round runs one fresh child process per tree,
alternating, so both see the same load; the minimum over rounds is printed.
``--keep DIR`` writes each verb's JSON there (``DIR/<tree>/`` with ``--before``)
so the two trees' outputs can be diffed.
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

SRC = Path(__file__).resolve().parents[1] / "src"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_verbs(root: Path, out: Path, draws: int, repeat: int) -> list[dict]:
    """Each verb ``repeat`` times in this process; one row per run."""
    from typer.testing import CliRunner

    from workbench.cli.main import app

    out.mkdir(parents=True, exist_ok=True)
    verbs = {
        "analyze": ["analyze", str(root), "--draws", str(draws), "--out", str(out / "analyze.json")],
        "claims": ["claims", str(root), "--out", str(out / "claims.json")],
    }
    runner, rows = CliRunner(), []
    for i in range(repeat):
        for name, args in verbs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            r = runner.invoke(app, args, catch_exceptions=False)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if r.exit_code != 0:
                raise SystemExit(f"{name} exited {r.exit_code}:\n{r.output[-2000:]}")
            rows.append({"verb": name, "wall": wall, "cpu": cpu, "repeat": i + 1})
    return rows


def child(src: str, root: Path, out: Path, draws: int) -> list[dict]:
    """One fresh process on source tree ``src``: each verb once; its rows."""
    cmd = [sys.executable, __file__, "--pilot", str(root), "--draws", str(draws), "--keep", str(out), "--rows"]
    env = dict(os.environ, PYTHONPATH=src)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        raise SystemExit(f"child on {src} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=600)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--agents", type=int, default=8)
    ap.add_argument("--draws", type=int, default=500, help="analyze --draws")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="write analyze.json and claims.json here")
    ap.add_argument("--before", default=None, help="another tree's src folder, timed against this one")
    ap.add_argument("--pilot", type=Path, default=None, help="an already simulated pilot (skips simulating)")
    ap.add_argument("--rows", action="store_true", help=argparse.SUPPRESS)  # child mode: print the rows as JSON
    a = ap.parse_args()

    if a.rows:
        print(json.dumps(run_verbs(a.pilot, a.keep, a.draws, 1)))
        return

    import workbench
    from workbench.simulate.pilot import simulate_pilot

    print(f"workbench from {Path(workbench.__file__).parent}")
    print(f"load before: {load()}  (cores: {os.cpu_count()})")
    with tempfile.TemporaryDirectory() as tmp:
        root = a.pilot
        if root is None:
            root = Path(tmp) / "pilot"
            t0 = time.perf_counter()
            simulate_pilot(root, accounts=a.accounts, seed=a.seed, agents=a.agents)
            print(f"simulate   {time.perf_counter() - t0:6.2f} s wall  ({a.accounts} accounts, seed {a.seed}, {a.agents} agents)")
        out = a.keep or Path(tmp) / "out"
        if a.before is None:
            for r in run_verbs(root, out, a.draws, a.repeat):
                print(f"{r['verb']:10} {r['wall']:6.2f} s wall  {r['cpu']:6.2f} s CPU   (repeat {r['repeat']})")
        else:
            trees = {"before": a.before, "this": str(SRC)}
            best: dict = {}
            for i in range(a.repeat):
                for tree, src in trees.items():
                    for r in child(src, root, out / tree, a.draws):
                        print(
                            f"{tree:7} {r['verb']:8} {r['wall']:6.2f} s wall  {r['cpu']:6.2f} s CPU   (round {i + 1}, load {load()})"
                        )
                        b = best.setdefault((tree, r["verb"]), {"wall": r["wall"], "cpu": r["cpu"]})
                        b["wall"], b["cpu"] = min(b["wall"], r["wall"]), min(b["cpu"], r["cpu"])
            print("minimum over rounds:")
            for (tree, verb), b in best.items():
                print(f"{tree:7} {verb:8} {b['wall']:6.2f} s wall  {b['cpu']:6.2f} s CPU   ({trees[tree]})")
    print(f"load after:  {load()}")


if __name__ == "__main__":
    main()
