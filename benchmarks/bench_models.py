"""Benchmarks of the Bayesian models (not part of the test suite).

(a) ``speed``: HierarchicalBinary on sufficient statistics (binomial cells) vs
    the same model fitted row by row (Bernoulli per account) on 100k accounts
    (6 segments x 40 agents, agents crossed with arms): wall time of both,
    the ratio, and the posterior of the marginal difference from each.
(b) ``sbc``: simulation-based calibration of HierarchicalBinary on small
    datasets drawn from its prior: rank of the true value among thinned
    posterior draws, per replication cached in ``benchmarks/.cache/sbc_hb/``
    (resumable: rerun to continue), then a chi-square test of uniform ranks.

(c) ``samplers``: the cells fit of (a) with each NUTS implementation
    (nutpie, PyMC), compile and sampling time and the production gate, to
    pick the default by measurement.

    python benchmarks/bench_models.py speed [--draws 2000 --tune 2000 --sampler nutpie]
    python benchmarks/bench_models.py samplers
    python benchmarks/bench_models.py sbc [--reps 100 --per-cell 40]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from workbench.models.base import DEFAULT_SAMPLER, SAMPLERS, Compiled, clear_cache, diagnostics, stacked
from workbench.models.binary import BinaryCells, HierarchicalBinary

CACHE = Path(__file__).parent / ".cache"


def simulate_accounts(n_accounts: int = 100_000, n_segments: int = 6, n_agents: int = 40, seed: int = 0):
    """One row per account: arm, segment, agent_id, y (logit scale truth)."""
    rng = np.random.default_rng(seed)
    seg_eff = rng.normal(0, 0.5, n_segments)
    agent_eff = rng.normal(0, 0.3, n_agents)
    arm = rng.integers(0, 2, n_accounts)
    seg = rng.integers(0, n_segments, n_accounts)
    agent = rng.integers(0, n_agents, n_accounts)
    eta = -1.2 + 0.15 * arm + seg_eff[seg] + agent_eff[agent] + 0.05 * arm * (seg % 2)
    y = rng.random(n_accounts) < 1 / (1 + np.exp(-eta))
    return pd.DataFrame(
        {
            "arm": np.where(arm == 1, "empathy", "control"),
            "segment": np.array([f"s{i}" for i in range(n_segments)])[seg],
            "agent_id": np.array([f"a{i:02d}" for i in range(n_agents)])[agent],
            "y": y.astype("int64"),
        }
    )


def summarise(diff: np.ndarray) -> dict:
    lo, hi = np.quantile(diff, [0.025, 0.975])  # equal-tailed 95% interval, stated explicitly
    return {"mean": float(diff.mean()), "sd": float(diff.std()), "interval_95_eti": [float(lo), float(hi)]}


def cells_of(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.groupby(["arm", "segment", "agent_id"], as_index=False).agg(n=("y", "size"), successes=("y", "sum"))


def timed_cells_fit(cells: pd.DataFrame, draws: int, tune: int, seed: int, sampler: str) -> tuple[float, float, object]:
    """(first call incl. compilation, second call on the cached compiled model, fit)."""
    model = HierarchicalBinary()
    clear_cache()
    t0 = time.perf_counter()
    model.fit(cells, "control", ["empathy"], draws=draws, tune=tune, chains=2, seed=seed, sampler=sampler)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = model.fit(cells, "control", ["empathy"], draws=draws, tune=tune, chains=2, seed=seed, sampler=sampler)
    return cold, time.perf_counter() - t0, fit


def bench_samplers(draws: int, tune: int, seed: int = 0) -> None:
    cells = cells_of(simulate_accounts(seed=seed))
    print(f"cells {len(cells)}; {draws} + {tune} draws x 2 chains")
    for sampler in SAMPLERS:
        cold, warm, fit = timed_cells_fit(cells, draws, tune, seed, sampler)
        d = fit.diagnostics
        print(
            f"{sampler:>7}: first call {cold:6.1f} s, cached {warm:6.1f} s; r_hat_max {d['r_hat_max']:.4f} "
            f"ess_bulk_min {d['ess_bulk_min']:.0f} divergences {d['divergences']} production gate "
            f"{'passed' if d['ok'] else 'FAILED'}",
            flush=True,
        )


def bench_speed(draws: int, tune: int, seed: int = 0, sampler: str = DEFAULT_SAMPLER) -> None:
    rows = simulate_accounts(seed=seed)
    cells = cells_of(rows)
    raw = rows.groupby("arm")["y"].agg(["size", "mean"])
    print(f"accounts {len(rows):,}; cells {len(cells)}; sampler {sampler}; raw rates\n{raw}", flush=True)
    model = HierarchicalBinary()
    t_cells_cold, t_cells, fit_cells = timed_cells_fit(cells, draws, tune, seed, sampler)
    d_cells = fit_cells.draws["empathy"] - fit_cells.draws["control"]
    # sampling alone, as timed for the rows below (a fit adds prior draws and diagnostics, about 1 s)
    comp_cells = model.compiled(model.prepare(cells, "control", ["empathy"]), 0.9, sampler)
    t0 = time.perf_counter()
    comp_cells.sample(draws, tune, 2, seed)
    t_cells_sample = time.perf_counter() - t0

    # row by row: the same model, one Bernoulli cell per account
    per_row = rows.rename(columns={"y": "successes"}).assign(n=1)
    prepared = BinaryCells(
        per_row[["arm", "segment", "agent_id", "n", "successes"]],
        ["control", "empathy"],
        sorted(rows["segment"].unique()),
        sorted(rows["agent_id"].unique()),
    )
    t0 = time.perf_counter()
    comp = Compiled(model.build(prepared, likelihood="bernoulli"), [], target_accept=0.9, sampler=sampler)  # as fit()
    t_row_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    idata = comp.sample(draws, tune, 2, seed)
    t_row = time.perf_counter() - t0
    d_row = stacked(idata, "difference").values.ravel()

    out = {
        "sampler": sampler,
        "draws": draws,
        "tune": tune,
        "chains": 2,
        "accounts": len(rows),
        "cells": len(cells),
        "cells_fit_seconds_first_call": round(t_cells_cold, 2),
        "cells_fit_seconds_cached": round(t_cells, 2),
        "rows_compile_seconds": round(t_row_compile, 2),
        "rows_sample_seconds": round(t_row, 2),
        "cells_sample_seconds": round(t_cells_sample, 2),
        "speedup_rows_sample_over_cells_sample": round(t_row / t_cells_sample, 1),
        "speedup_rows_sample_over_cells_fit_cached": round(t_row / t_cells, 1),
        "speedup_rows_total_over_cells_first_call": round((t_row + t_row_compile) / t_cells_cold, 1),
        "difference_cells": summarise(d_cells),
        "difference_rows": summarise(d_row),
        "cells_diagnostics": fit_cells.diagnostics,
        "rows_diagnostics": diagnostics(idata, ["arm_mean", *[v.name for v in comp.model.free_RVs]], False),
    }
    print(json.dumps(out, indent=1, sort_keys=True))


# ---------------------------------------------------------------- SBC

SBC_VARS = ("difference", "intercept", "arm_effect")


def sbc_structure(per_cell: int = 40) -> pd.DataFrame:
    """2 arms x 3 segments x 4 agents (crossed), ``per_cell`` accounts per cell.

    40 per cell (240 per agent) samples the group effects non-centred; 200 per
    cell (1,200 per agent, 1,600 per segment) centred.
    """
    return pd.DataFrame(
        [
            {"arm": a, "segment": s, "agent_id": g, "n": per_cell, "successes": 0}
            for a in ("control", "empathy")
            for s in ("s0", "s1", "s2")
            for g in ("g0", "g1", "g2", "g3")
        ]
    )


def bench_sbc(reps: int, draws: int, tune: int, thin: int, seed: int = 0, target_accept: float = 0.9, per_cell: int = 40) -> None:
    import pymc as pm

    folder = CACHE / f"sbc_hb_{DEFAULT_SAMPLER}_zsn_auto_n{per_cell}"
    folder.mkdir(parents=True, exist_ok=True)
    model = HierarchicalBinary()
    prepared = model.prepare(sbc_structure(per_cell), "control", ["empathy"])
    print(f"{per_cell} accounts per cell; sampler {DEFAULT_SAMPLER}; parametrization chosen per dataset")
    comp = model.compiled(prepared)
    with comp.model:  # every replication's truth, drawn at once from the prior
        pp = pm.sample_prior_predictive(draws=reps, var_names=["y", *SBC_VARS], random_seed=seed)
    prior = {"y": pp.prior_predictive["y"], **{v: pp.prior[v] for v in SBC_VARS}}
    t_all = time.perf_counter()
    done = 0
    for r in range(reps):
        path = folder / f"rep_{r:04d}_seed{seed}_d{draws}_t{tune}_k{thin}_ta{target_accept}.json"
        if path.exists():
            continue
        y = prior["y"].values[0, r]
        cells = prepared.frame.assign(successes=y)
        fit = model.fit(
            cells, "control", ["empathy"], draws=draws, tune=tune, chains=2, seed=seed + 1 + r, target_accept=target_accept
        )
        post = fit.idata.posterior
        ranks = {}
        for v in SBC_VARS:
            truth = float(np.ravel(prior[v].values[0, r])[0])
            sample = post[v].values.reshape(2, draws, -1)[:, ::thin, 0].ravel()
            ranks[v] = int((sample < truth).sum())
        centred = model.centred(model.prepare(cells, "control", ["empathy"]))
        path.write_text(
            json.dumps(
                {
                    "ranks": ranks,
                    "L": len(sample),
                    "ok": fit.diagnostics["ok"],
                    "centred": centred,
                    "divergences": fit.diagnostics["divergences"],
                }
            )
        )
        done += 1
        print(f"rep {r}: {ranks} ok={fit.diagnostics['ok']} div={fit.diagnostics['divergences']}", flush=True)
    elapsed = time.perf_counter() - t_all
    results = [
        json.loads(p.read_text())
        for p in sorted(folder.glob(f"rep_*_seed{seed}_d{draws}_t{tune}_k{thin}_ta{target_accept}.json"))
    ]
    results = results[:reps]
    L = results[0]["L"]
    bins = 10
    print(f"replications {len(results)} (fitted now {done} in {elapsed:.0f} s); ranks 0..{L}; {bins} bins")
    print(
        "parametrization (segment, agent) centred: "
        + ", ".join(
            f"{k}: {v}" for k, v in sorted(pd.Series([str(tuple(r["centred"].values())) for r in results]).value_counts().items())
        )
    )
    print(
        f"fits with divergences: {sum(r['divergences'] > 0 for r in results)}; "
        f"fits failing the production gate: {sum(not r['ok'] for r in results)}"
    )
    for v in SBC_VARS:
        ranks = np.array([r["ranks"][v] for r in results])
        hist = np.histogram(ranks, bins=bins, range=(0, L + 1))[0]
        p = stats.chisquare(hist).pvalue
        print(f"{v:>12}: histogram {hist.tolist()} chi-square p = {p:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["speed", "samplers", "sbc"])
    ap.add_argument("--sampler", choices=SAMPLERS, default=DEFAULT_SAMPLER)
    ap.add_argument("--per-cell", type=int, default=40)
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--tune", type=int, default=None)
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--thin", type=int, default=4)
    ap.add_argument("--target-accept", type=float, default=0.9)
    a = ap.parse_args()
    if a.what == "speed":
        bench_speed(a.draws or 2000, a.tune or 2000, sampler=a.sampler)
    elif a.what == "samplers":
        bench_samplers(a.draws or 2000, a.tune or 2000)
    else:
        bench_sbc(a.reps, a.draws or 200, a.tune or 300, a.thin, target_accept=a.target_accept, per_cell=a.per_cell)


if __name__ == "__main__":
    main()
