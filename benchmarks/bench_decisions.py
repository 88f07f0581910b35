"""Operating characteristics of the verdicts: how often A/A pilots get a headline win, an exploratory
win, and each guardrail state, with Monte-Carlo errors.

A/A pilots come from the simulator's ``null`` preset (no planted effect), run
through the real path: the engine's sufficient statistics (DuckDB) and
:func:`workbench.effects.analyze.analyze_stats` with the pilot's own design
(primary metric, guardrails and margins from its pilot.yml). For speed each
simulated pilot is re-randomized ``--rerand`` times (the arm labels of its
accounts shuffled, a fresh A/A draw of the same population; the first draw is
the simulator's own assignment), so ``--pilots 4 --rerand 50`` gives 200 A/A
analyses. ``--preset realistic`` runs the same on planted pilots (no
re-randomization: a shuffle would erase the planted effect).

Usage::

    python benchmarks/bench_decisions.py --pilots 4 --rerand 50 --accounts 10000
    python benchmarks/bench_decisions.py --preset realistic --pilots 20 --rerand 1 --accounts 10000
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from workbench.effects.analyze import Settings, analyze_stats, design_from_config
from workbench.metrics.engine import normalize, open_pilot
from workbench.metrics.stats import sufficient_stats
from workbench.simulate.pilot import simulate_pilot

GUARD_STATES = ("harm", "no harm beyond margin", "not enough data")


def _share(k: int, n: int) -> str:
    p = k / n if n else float("nan")
    return f"{p:6.3f} +- {math.sqrt(p * (1 - p) / n) if n else float('nan'):.3f} ({k}/{n})"


def run(preset: str, pilots: int, rerand: int, accounts: int, draws: int) -> dict:
    headline, explore_any, explore_all, guards = Counter(), 0, Counter(), {}
    runs = 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        for i in range(pilots):
            path = simulate_pilot(Path(d) / f"p{i}", accounts=accounts, seed=2000 + i, preset=preset)
            p = open_pilot(path)
            design = design_from_config(p.config)
            acc = p.tables["accounts"].execute()
            rng = np.random.default_rng([7, i])
            for r in range(rerand):
                tables = dict(p.tables)
                if r > 0:
                    shuffled = acc.assign(arm=rng.permutation(acc["arm"].to_numpy()))
                    # DuckDB's own client: ibis's create_table(overwrite=True) breaks on DuckDB 2.
                    p.con.con.register(f"accounts_aa_{r}", shuffled)
                    tables["accounts"] = normalize(p.con.table(f"accounts_aa_{r}"), "accounts")
                stats = sufficient_stats(tables, p.config)
                doc = analyze_stats(stats, design, Settings(seed=r, draws=draws))
                runs += 1
                headline[doc["decision"]["verdict"]] += 1
                ex = [m["decision"]["verdict"] for m in doc["metrics"].values() if m.get("role") == "exploratory"]
                explore_any += any(v in ("better", "worse") for v in ex)
                for v in ex:
                    explore_all[v] += 1
                for g, v in doc["decision"]["guardrails"].items():
                    guards.setdefault(g, Counter())[v] += 1
            print(f"pilot {i + 1}/{pilots}: {runs} analyses ({time.perf_counter() - t0:.0f} s)", flush=True)
    return {"runs": runs, "headline": headline, "explore_any": explore_any, "explore_all": explore_all, "guards": guards}


def main() -> None:
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--preset", default="null", choices=["null", "realistic", "vendor-claims"])
    a.add_argument("--pilots", type=int, default=4)
    a.add_argument("--rerand", type=int, default=50)
    a.add_argument("--accounts", type=int, default=10_000)
    a.add_argument("--draws", type=int, default=2000)
    args = a.parse_args()
    rerand = args.rerand if args.preset == "null" else 1
    out = run(args.preset, args.pilots, rerand, args.accounts, args.draws)
    n = out["runs"]
    print(f"\n{args.preset} pilots: {args.pilots} x {rerand} analyses of {args.accounts} accounts = {n}")
    print("headline verdicts (share +- MC standard error):")
    for v, k in sorted(out["headline"].items()):
        print(f"  {v:40} {_share(k, n)}")
    wins = sum(k for v, k in out["headline"].items() if v.startswith("better"))
    print(f"  {'headline win (better)':40} {_share(wins, n)}")
    m = sum(out["explore_all"].values())
    print(f"exploratory: pilots with any better/worse  {_share(out['explore_any'], n)}")
    for v, k in sorted(out["explore_all"].items()):
        print(f"  per metric {v:29} {_share(k, m)}")
    print("guardrail states:")
    for g, c in sorted(out["guards"].items()):
        t = sum(c.values())
        print(f"  {g}")
        for v in GUARD_STATES:
            print(f"    {v:36} {_share(c.get(v, 0), t)}")
        for v in sorted(set(c) - set(GUARD_STATES)):
            print(f"    {v:36} {_share(c[v], t)}")


if __name__ == "__main__":
    main()
