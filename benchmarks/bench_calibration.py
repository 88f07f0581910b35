"""Calibration of the effect engine: do 95% intervals cover the truth 95% of the time?

Two parts, each printing a table with Monte-Carlo standard errors
(``sqrt(p (1 - p) / reps)``):

``family``  data drawn straight from known distributions per outcome family
            (binary, overdispersed counts, ordinal, skewed continuous,
            zero-heavy ratio of totals), with a planted effect and on A/A.
``retention`` retention from per-day survival tables drawn under falling, constant,
            rising and delayed (shape differs by arm) Weibull hazards, short follow-up
            (longest about 130 days) and long (about 200 days): coverage of the true
            difference at the horizon reported, and how often 180 days is withheld.
``clusters`` A/A pilots randomized by agent (agent effects on every family's mean,
            unequal agent sizes) with 2, 5, 10, 20 agents per arm: coverage of 0, the
            share of intervals excluding 0, and the share given no verdict; retention
            too (per-agent survival tables, agents shifting the hazard).
            ``clusters --hierarchical``: the binary metric of the same A/A pilots through
            ``analyze_run``'s path for agent randomization (per-agent cells ->
            ``fit_hierarchical``, the hierarchical logistic PyMC model at production
            settings -> ``analyze_stats``), the CR2 path on the same data beside it; and
            with ``--planted-reps`` a planted log-odds effect at 10 agents per arm:
            coverage of the true difference (the pilot's agents and of a new population).
            One JSON line per replication in ``benchmarks/.cache/`` (rerun to resume).
``pilots``  whole simulated pilots (``workbench.simulate.pilot``) through metrics and
            ``analyze``, judged against ``truth.json`` (the planted marginal
            intention-to-treat effects); resumable: one JSON line per pilot in
            ``benchmarks/.cache/calibration-<preset>-<accounts>.jsonl``.

Usage::

    python benchmarks/bench_calibration.py family --reps 400
    python benchmarks/bench_calibration.py retention --reps 300
    python benchmarks/bench_calibration.py clusters --reps 300
    python benchmarks/bench_calibration.py clusters --hierarchical --reps 200 --planted-reps 200
    python benchmarks/bench_calibration.py pilots --preset realistic --pilots 200 --accounts 4000
    python benchmarks/bench_calibration.py pilots --preset null --pilots 200 --accounts 4000
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.effects.analyze import Design, Settings, analyze_stats
from workbench.simulate.presets import PRESETS

CACHE = Path(__file__).parent / ".cache"


def _stats_binary(rng, n, p):
    y = rng.random(n) < p
    return {"n": n, "successes": int(y.sum()), "sum": float(y.sum()), "accounts": n, "excluded": 0}


def _stats_count(rng, n, mean, k=0.5):
    # negative binomial with shape k (variance mean + mean^2 / k): overdispersed
    y = rng.poisson(rng.gamma(k, mean / k, n))
    return {"n": n, "sum": float(y.sum()), "sum_sq": float((y * y).sum()), "accounts": n, "excluded": 0}


def _stats_ordinal(rng, n, probs):
    cats = rng.multinomial(n, probs)
    row = {"n": n, "accounts": n, "excluded": 0}
    row.update({f"cat_{k + 1}": int(c) for k, c in enumerate(cats)})
    return row


def _stats_continuous(rng, n, mu, sigma=0.8):
    y = rng.lognormal(mu, sigma, n)
    return {"n": n, "sum": float(y.sum()), "sum_sq": float((y * y).sum()), "accounts": n, "excluded": 0}


def _stats_ratio(rng, n, pay_p):
    x = rng.gamma(2.0, 600.0, n)
    y = np.where(rng.random(n) < pay_p, x * rng.beta(2, 5, n), 0.0)
    return {
        "n": n,
        "sum": y.sum(),
        "sum_sq": (y * y).sum(),
        "denom": x.sum(),
        "denom_sq": (x * x).sum(),
        "cross": (x * y).sum(),
        "accounts": n,
        "excluded": 0,
    }


FAMILIES = {
    # metric name, family, draw(rng, n, effect_on) -> row, true difference
    "binary": ("ptp", "binary", lambda r, n, on: _stats_binary(r, n, 0.12 + 0.02 * on), 0.02),
    "count": ("complaints", "count", lambda r, n, on: _stats_count(r, n, 0.2 * (1 - 0.25 * on)), -0.05),
    "ordinal": (
        "csat",
        "ordinal",
        lambda r, n, on: _stats_ordinal(r, n, [0.2, 0.15, 0.2, 0.25, 0.2] if not on else [0.15, 0.15, 0.2, 0.25, 0.25]),
        (0.15 * 1 + 0.15 * 2 + 0.2 * 3 + 0.25 * 4 + 0.25 * 5) - (0.2 * 1 + 0.15 * 2 + 0.2 * 3 + 0.25 * 4 + 0.2 * 5),
    ),
    "continuous": (
        "handle_time",
        "continuous",
        lambda r, n, on: _stats_continuous(r, n, 5.5 + 0.1 * on),
        math.exp(5.6 + 0.32) - math.exp(5.5 + 0.32),
    ),
    "ratio": ("recovery", "ratio", lambda r, n, on: _stats_ratio(r, n, 0.3 + 0.05 * on), 0.05 * 2 / 7),
}


def family_part(reps: int, n: int) -> pd.DataFrame:
    rows = []
    for fam, (metric, family, draw, truth) in FAMILIES.items():
        cover = fp = 0
        for aa in (False, True):
            for i in range(reps):
                rng = np.random.default_rng([i, aa, len(fam)])
                c = dict(draw(rng, n, 0), metric=metric, family=family, arm="c")
                t = dict(draw(rng, n, 0 if aa else 1), metric=metric, family=family, arm="t")
                doc = analyze_stats(pd.DataFrame([c, t]), Design("c", ["t"]), Settings(seed=i, draws=2000))
                m = doc["metrics"][metric]
                lo, hi = m["effect"]["difference"]["interval"]
                if aa:
                    fp += m["prob_better"] > 0.95
                else:
                    cover += lo <= truth <= hi
        rows.append(_row(fam, reps, cover, fp))
    return pd.DataFrame(rows)


def _row(name, reps, cover, fp):
    pc, pf = cover / reps, fp / reps
    return {
        "case": name,
        "reps": reps,
        "coverage_95": pc,
        "mc_se_cov": math.sqrt(0.95 * 0.05 / reps),
        "cov_ok": abs(pc - 0.95) <= 2 * math.sqrt(0.95 * 0.05 / reps),
        "aa_p_better_gt_95": pf,
        "mc_se_aa": math.sqrt(0.05 * 0.95 / reps),
        "aa_ok": abs(pf - 0.05) <= 2 * math.sqrt(0.05 * 0.95 / reps),
    }


# --- retention: Weibull hazards, H(t) = L (t / 180)^k, S(t) = exp(-H(t)) ---------------------------------

HAZARDS = {
    # name: (control shape, treatment shape, control 180-day churn, treatment 180-day churn)
    "falling k=0.6": (0.6, 0.6, 0.45, 0.40),
    "constant k=1": (1.0, 1.0, 0.45, 0.40),
    "rising k=1.8": (1.8, 1.8, 0.45, 0.40),
    "delayed 0.6 vs 3": (0.6, 3.0, 0.20, 0.20),
}


def _weibull_S(h, k, churn):
    return math.exp(math.log1p(-churn) * (h / 180.0) ** k)


def _survival_rows(rng, arm, n, k, churn, follow_max, days=180):
    e = rng.exponential(1.0, n)
    t = 180.0 * (e / -math.log1p(-churn)) ** (1.0 / k)
    c = follow_max - rng.random(n) * 70.0  # assigned over 10 weeks, cut at follow_max after the first
    end = np.minimum(np.minimum(t, c), days)
    ev = t <= np.minimum(c, days)
    day = np.floor(end).astype(int)
    df = pd.DataFrame({"day": day, "exits": 1, "events": ev.astype(int), "time_sum": end})
    tab = df.groupby("day", as_index=False).sum()
    tab["arm"] = arm
    full = c >= days
    row = {
        "metric": "retention",
        "family": "time-to-event",
        "arm": arm,
        "n": int(full.sum()),
        "successes": int((t[full] > days).sum()),
        "accounts": int(full.sum()),
        "excluded": int((~full).sum()),
    }
    return tab, row


def retention_part(reps: int, n: int) -> pd.DataFrame:
    rows = []
    for name, (kc, kt, pc, pt) in HAZARDS.items():
        for follow in (130.0, 200.0):
            cover = withheld = 0
            for i in range(reps):
                rng = np.random.default_rng([i, int(follow), len(name)])
                tc, rc = _survival_rows(rng, "c", n, kc, pc, follow)
                tt, rt = _survival_rows(rng, "t", n, kt, pt, follow)
                doc = analyze_stats(
                    pd.DataFrame([rc, rt]),
                    Design("c", ["t"], primary="retention"),
                    Settings(seed=i, draws=2000),
                    survival=pd.concat([tc, tt]),
                )
                m = doc["metrics"]["retention"]
                h = m["horizon_days"]
                truth = _weibull_S(h, kt, pt) - _weibull_S(h, kc, pc)
                lo, hi = m["effect"]["difference"]["interval"]
                cover += lo <= truth <= hi
                withheld += bool(m["decision"].get("no_verdict"))
            r = _row(f"{name}, follow-up {follow:.0f} d", reps, cover, 0)
            r.pop("aa_p_better_gt_95"), r.pop("mc_se_aa"), r.pop("aa_ok")
            r["no_verdict_at_180"] = withheld / reps
            rows.append(r)
    return pd.DataFrame(rows)


# --- clusters: A/A randomized by agent -------------------------------------------------------------------


def _agent_cells(rng, family, arm, agents, size=60):
    out = []
    for g in range(agents):
        m = int(rng.poisson(size)) + 5  # unequal agents
        u = rng.normal(0.0, 1.0)  # the agent's skill shifts every family's mean
        row = {"arm": arm, "agent_id": f"{arm}{g}", "n": m, "accounts": m, "excluded": 0}
        if family == "binary":
            y = rng.random(m) < 1 / (1 + math.exp(1.8 - 0.4 * u))
            row |= {"successes": int(y.sum()), "sum": float(y.sum())}
        elif family == "count":
            y = rng.poisson(rng.gamma(0.5, 0.3 * math.exp(0.4 * u) / 0.5, m))
            row |= {"sum": float(y.sum()), "sum_sq": float((y * y).sum())}
        elif family == "ordinal":
            cuts = np.array([-1.3, -0.3, 0.7, 1.8])
            latent = 0.4 * u + rng.logistic(size=m)
            y = 1 + np.searchsorted(cuts, latent)
            row |= {f"cat_{k}": int((y == k).sum()) for k in range(1, 6)}
        elif family == "continuous":
            y = rng.lognormal(5.5 + 0.2 * u, 0.8, m)
            row |= {"sum": float(y.sum()), "sum_sq": float((y * y).sum())}
        else:
            x = rng.gamma(2.0, 600.0, m)
            y = np.where(rng.random(m) < 0.3 + 0.08 * np.tanh(u), x * rng.beta(2, 5, m), 0.0)
            row |= {"sum": y.sum(), "sum_sq": (y * y).sum(), "denom": x.sum(), "denom_sq": (x * x).sum(), "cross": (x * y).sum()}
        out.append(row)
    return out


def _retention_agents(rng, agents, size=60, follow=200.0):
    tabs, cells = [], []
    for arm in ("c", "t"):
        for g in range(agents):
            m = int(rng.poisson(size)) + 5
            churn = 1 - math.exp(math.log(0.55) * math.exp(0.4 * rng.normal()))  # agent shifts the hazard
            tab, row = _survival_rows(rng, arm, m, 0.8, churn, follow)
            tab["agent_id"], row["agent_id"] = f"{arm}{g}", f"{arm}{g}"
            tabs.append(tab)
            cells.append(row)
    return pd.concat(tabs), pd.DataFrame(cells)


def retention_clusters(reps: int, sizes) -> list[dict]:
    rows = []
    for agents in sizes:
        cover = withheld = 0
        for i in range(reps):
            rng = np.random.default_rng([i, agents, 99])
            tab, cells = _retention_agents(rng, agents)
            num = ["n", "successes", "accounts", "excluded"]
            stats = cells.groupby(["metric", "family", "arm"], as_index=False)[num].sum()
            doc = analyze_stats(
                stats,
                Design("c", ["t"], primary="retention", randomization="agent"),
                Settings(seed=i, draws=2000),
                agent_stats=cells,
                survival=tab,
            )
            m = doc["metrics"]["retention"]
            lo, hi = m["effect"]["difference"]["interval"]
            cover += lo <= 0 <= hi
            withheld += bool(m["decision"].get("no_verdict"))
        r = _row(f"retention, {agents} agents/arm", reps, cover, reps - cover)
        r["aa_excludes_0"] = r.pop("aa_p_better_gt_95")
        r.pop("mc_se_aa"), r.pop("aa_ok")
        r["no_verdict"] = withheld / reps
        rows.append(r)
    return rows


def clusters_part(reps: int, sizes=(2, 5, 10, 20)) -> pd.DataFrame:
    rows = retention_clusters(reps, sizes)
    for fam, (metric, family, _, _) in FAMILIES.items():
        for agents in sizes:
            cover = excl = withheld = 0
            for i in range(reps):
                rng = np.random.default_rng([i, agents, len(fam)])
                cells = pd.DataFrame(_agent_cells(rng, family, "c", agents) + _agent_cells(rng, family, "t", agents))
                cells["metric"], cells["family"] = metric, family
                num = [c for c in cells.columns if c not in ("arm", "agent_id", "metric", "family")]
                stats = cells.groupby(["metric", "family", "arm"], as_index=False)[num].sum()
                doc = analyze_stats(
                    stats,
                    Design("c", ["t"], primary=metric, randomization="agent"),
                    Settings(seed=i, draws=2000),
                    agent_stats=cells,
                )
                m = doc["metrics"][metric]
                lo, hi = m["effect"]["difference"]["interval"]
                cover += lo <= 0 <= hi
                excl += not (lo <= 0 <= hi)
                withheld += bool(m["decision"].get("no_verdict"))
            r = _row(f"{fam}, {agents} agents/arm", reps, cover, excl)
            r["aa_excludes_0"] = r.pop("aa_p_better_gt_95")
            r.pop("mc_se_aa"), r.pop("aa_ok")
            r["no_verdict"] = withheld / reps
            rows.append(r)
    return pd.DataFrame(rows)


def pilots_part(preset: str, pilots: int, accounts: int) -> pd.DataFrame:
    from workbench.effects.analyze import analyze_pilot
    from workbench.simulate.pilot import simulate_pilot

    CACHE.mkdir(exist_ok=True)
    cache = CACHE / f"calibration-{preset}-{accounts}.jsonl"
    done = {}
    if cache.exists():
        for line in cache.read_text().splitlines():
            r = json.loads(line)
            done[r["seed"]] = r
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        for seed in range(pilots):
            if seed in done:
                continue
            out = simulate_pilot(Path(d) / f"p{seed}", accounts=accounts, seed=1000 + seed, preset=preset)
            truth = json.loads((Path(out) / "truth.json").read_text())["metrics"]
            doc = analyze_pilot(out, Settings(seed=seed, draws=2000))
            rec = {"seed": seed, "metrics": {}}
            for m, v in doc["metrics"].items():
                if m not in truth or v["effect"]["difference"]["interval"][0] is None:
                    continue
                lo, hi = v["effect"]["difference"]["interval"]
                rec["metrics"][m] = {
                    "cover": bool(lo <= truth[m]["difference"] <= hi),
                    "p_better": v["prob_better"],
                    "ok": v["diagnostics"]["ok"],
                }
            with cache.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            done[seed] = rec
            print(f"pilot {seed + 1}/{pilots} ({time.perf_counter() - t0:.0f} s)", flush=True)
    rows = []
    metrics = sorted({m for r in done.values() for m in r["metrics"]})
    for m in metrics:
        recs = [r["metrics"][m] for s, r in done.items() if s < pilots and m in r["metrics"]]
        k = len(recs)
        row = _row(m, k, sum(r["cover"] for r in recs), sum(r["p_better"] > 0.95 for r in recs))
        if preset != "null":
            row.pop("aa_p_better_gt_95"), row.pop("mc_se_aa"), row.pop("aa_ok")
        rows.append(row)
    return pd.DataFrame(rows)


# --- clusters, binary through the hierarchical logistic model (analyze_run's path) -----------------------

PLANTED_LOG_ODDS = 0.5  # planted treatment log-odds ratio: about +6 points on a 14% base rate


def _binary_agents(rng, agents: int, shift: float = 0.0, size: int = 60) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-agent binary cells of both arms, as :func:`_agent_cells` draws them, and each cell's true logit.

    Agent g of arm a has logit ``-1.8 + 0.4 u_g + shift [a = t]``, ``u_g ~ N(0, 1)``, and
    ``Poisson(60) + 5`` accounts. Returns the cells and the logit without the arm term
    (for the true difference).
    """
    rows, base = [], []
    for arm in ("c", "t"):
        for g in range(agents):
            m = int(rng.poisson(size)) + 5
            u = rng.normal(0.0, 1.0)
            eta = -1.8 + 0.4 * u
            y = int((rng.random(m) < 1 / (1 + math.exp(-(eta + shift * (arm == "t"))))).sum())
            rows.append({"arm": arm, "agent_id": f"{arm}{g}", "n": m, "successes": y, "sum": float(y)})
            rows[-1] |= {"accounts": m, "excluded": 0}
            base.append(eta)
    cells = pd.DataFrame(rows)
    cells["metric"], cells["family"] = "kept_ptp", "binary"
    return cells, np.array(base)


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _population_difference(shift: float) -> float:
    """E_u[expit(-1.8 + 0.4 u + shift) - expit(-1.8 + 0.4 u)], u ~ N(0, 1), by Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite_e.hermegauss(60)
    eta = -1.8 + 0.4 * x
    return float(np.sum(w * (_expit(eta + shift) - _expit(eta))) / np.sum(w))


def _hier_replication(i: int, agents: int, shift: float) -> dict:
    """One pilot: the hierarchical path (as analyze_run) and the CR2 path on the same cells."""
    from workbench.effects.analyze import fit_hierarchical  # PyMC loads only for this part

    rng = np.random.default_rng([i, agents, 77 if shift else 7])
    cells, eta = _binary_agents(rng, agents, shift)
    stats = cells.groupby(["metric", "family", "arm"], as_index=False)[["n", "successes", "sum", "accounts", "excluded"]].sum()
    design = Design("c", ["t"], primary="kept_ptp", randomization="agent")
    settings = Settings(seed=i, draws=2000)  # production MCMC: 2,000 + 2,000 draws x 2 chains, smoke off
    t0 = time.perf_counter()
    hier = fit_hierarchical(cells, None, design, settings, ["kept_ptp"])
    doc = analyze_stats(stats, design, settings, agent_stats=cells, hierarchical=hier)
    secs = time.perf_counter() - t0
    cr2 = analyze_stats(stats, design, settings, agent_stats=cells)["metrics"]["kept_ptp"]
    m = doc["metrics"]["kept_ptp"]
    w = cells["n"].to_numpy(float) / cells["n"].sum()
    return {
        "i": i,
        "agents": agents,
        "shift": shift,
        "seconds": secs,
        "model": m["model"],
        "interval": m["effect"]["difference"]["interval"],
        "cr2_interval": cr2["effect"]["difference"]["interval"],
        "no_verdict": bool(m["decision"].get("no_verdict")),
        "verdict": m["decision"]["verdict"],
        "ok": bool(m["diagnostics"]["ok"]),
        "divergences": int(m["diagnostics"].get("divergences") or 0),
        # the model's estimand: the pilot's own agents, each cell under both arms (g-computation)
        "truth_pilot": float(np.sum(w * (_expit(eta + shift) - _expit(eta)))),
        "truth_population": _population_difference(shift),
    }


def _cached_reps(name: str, reps: int, run, cached_only: bool = False) -> list[dict]:
    """Replications ``0 .. reps - 1``, resumed from the cache; ``cached_only``: the cached run from 0, no new fits."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / name
    done = {}
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            done[r["i"]] = r
    if cached_only:
        k = 0
        while k in done:
            k += 1
        return [done[i] for i in range(k)]
    t0 = time.perf_counter()
    for i in range(reps):
        if i in done:
            continue
        done[i] = run(i)
        with path.open("a") as f:
            f.write(json.dumps(done[i]) + "\n")
        if (i + 1) % 10 == 0:
            print(f"{name}: {i + 1}/{reps} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return [done[i] for i in range(reps)]


def _share(k: int, reps: int, p: float | None = None) -> tuple[float, float]:
    """A share and its Monte-Carlo standard error (at ``p`` when given, else at the share)."""
    x = k / reps
    q = x if p is None else p
    return x, math.sqrt(q * (1 - q) / reps)


def hierarchical_part(reps: int, sizes=(2, 5, 10, 20), planted_reps: int = 0, cached_only: bool = False) -> pd.DataFrame:
    """Coverage of the hierarchical logistic model's interval under agent randomization (see module docstring).

    ``cached_only``: summarize the replications already cached (a run stopped for time), fitting nothing.
    """
    rows = []
    cases = [(a, 0.0, reps) for a in sizes] + ([(10, PLANTED_LOG_ODDS, planted_reps)] if planted_reps else [])
    for agents, shift, k in cases:
        recs = _cached_reps(
            f"calibration-hier-{agents}-{shift:g}.jsonl",
            k,
            lambda i, a=agents, s=shift: _hier_replication(i, a, s),
            cached_only,
        )
        k = len(recs)
        if not k:
            continue
        for target in ("truth_pilot", "truth_population") if shift else ("truth_pilot",):
            cover = sum(r["interval"][0] <= r[target] <= r["interval"][1] for r in recs)
            cover_cr2 = sum(r["cr2_interval"][0] <= r[target] <= r["cr2_interval"][1] for r in recs)
            pc, se = _share(cover, k, 0.95)
            row = {
                "case": f"{agents} agents/arm, " + (f"planted {shift:g} log-odds, {target[6:]}" if shift else "A/A"),
                "reps": k,
                "truth": float(np.mean([r[target] for r in recs])),
                "coverage_hier": pc,
                "mc_se": se,
                "cov_ok": abs(pc - 0.95) <= 2 * se,
                "coverage_cr2": cover_cr2 / k,
                "no_verdict": sum(r["no_verdict"] for r in recs) / k,
                "gate_failed": sum(not r["ok"] for r in recs) / k,
                "divergent_fits": sum(r["divergences"] > 0 for r in recs) / k,
                "s_per_fit": float(np.median([r["seconds"] for r in recs])),
            }
            if shift:
                row["verdict_better"] = sum(r["verdict"] == "better" for r in recs) / k
            rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="part", required=True)
    f = sub.add_parser("family")
    f.add_argument("--reps", type=int, default=400)
    f.add_argument("--n", type=int, default=2000)
    r = sub.add_parser("retention")
    r.add_argument("--reps", type=int, default=300)
    r.add_argument("--n", type=int, default=2000)
    c = sub.add_parser("clusters")
    c.add_argument("--reps", type=int, default=300)
    c.add_argument("--only-retention", action="store_true")
    c.add_argument("--hierarchical", action="store_true", help="binary through the hierarchical logistic model")
    c.add_argument("--planted-reps", type=int, default=0, help="with --hierarchical: planted effect at 10 agents/arm")
    c.add_argument("--sizes", default="2,5,10,20", help="with --hierarchical: agents per arm")
    c.add_argument("--from-cache", action="store_true", help="with --hierarchical: summarize cached replications only")
    p = sub.add_parser("pilots")
    p.add_argument("--preset", default="realistic", choices=list(PRESETS))
    p.add_argument("--pilots", type=int, default=200)
    p.add_argument("--accounts", type=int, default=4000)
    a = ap.parse_args()
    t0 = time.perf_counter()
    if a.part == "family":
        table = family_part(a.reps, a.n)
    elif a.part == "retention":
        table = retention_part(a.reps, a.n)
    elif a.part == "clusters" and a.hierarchical:
        sizes = tuple(int(x) for x in a.sizes.split(","))
        table = hierarchical_part(a.reps, sizes, a.planted_reps, a.from_cache)
    elif a.part == "clusters":
        table = pd.DataFrame(retention_clusters(a.reps, (2, 5, 10, 20))) if a.only_retention else clusters_part(a.reps)
    else:
        table = pilots_part(a.preset, a.pilots, a.accounts)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"\n{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
