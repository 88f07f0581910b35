"""Operating characteristics of the weekly monitoring rule: fixed P(better) > 0.95 vs the tuned bar.

Run: ``.venv/bin/python benchmarks/bench_monitor.py [--sims 20000] [--seed 1]``.
For each maximum number of weekly looks K, the bar ``u`` is tuned on 20,000
A/A sequences (seed stream 1) and the rule's false-win rate (A/A), power
(under a +3 point effect on a 10% baseline) and expected duration (looks,
A/A and under the effect) are measured on ``--sims`` fresh sequences (seed
stream 2), each with its Monte-Carlo standard error.
"""

from __future__ import annotations

import argparse
import time

from workbench.design.monitor import operating_characteristics, tune_threshold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--baseline", type=float, default=0.10)
    ap.add_argument("--effect", type=float, default=0.03)
    ap.add_argument("--per-look", type=int, default=150, help="new accounts per arm per look")
    a = ap.parse_args()
    t0 = time.perf_counter()
    print(f"baseline {a.baseline}, effect {a.effect:+}, {a.per_look} accounts/arm/look, {a.sims} sequences per cell")
    print(f"{'K':>3} {'rule':>12} {'u':>7}  {'false win (A/A)':>17}  {'power':>17}  {'looks A/A':>13}  {'looks effect':>13}")
    for k in (1, 4, 8, 12, 20):
        u = tune_threshold(k, a.baseline, a.per_look, sims=20_000, seed=a.seed)
        for name, bar in (("fixed 0.95", 0.95), ("tuned", u)):
            oc = operating_characteristics(bar, k, a.baseline, a.effect, a.per_look, a.sims, a.seed + 1)
            fw, pw, la, le = oc["false_win"], oc["power"], oc["aa"]["looks"], oc["effect"]["looks"]
            print(
                f"{k:3} {name:>12} {bar:7.4f}  {fw['rate']:7.4f} +- {fw['mc_error']:.4f}  "
                f"{pw['rate']:7.4f} +- {pw['mc_error']:.4f}  {la['mean']:6.2f} +- {la['mc_error']:.2f}"
                f"  {le['mean']:6.2f} +- {le['mc_error']:.2f}"
            )
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
