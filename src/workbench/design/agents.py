"""Sizing a pilot randomized by agent with the models ``analyze`` uses on one.

On an agent-randomized pilot ``analyze`` gives no verdict with fewer than
``MIN_AGENTS_PER_ARM`` agents in an arm, fits binary metrics with the
hierarchical logistic model (:func:`workbench.effects.analyze.fit_hierarchical`)
and every other family with CR2 cluster-robust arm means and t(G - 1)
(:mod:`workbench.effects.clusters`). The design therefore simulates what
``analyze`` reads, per-agent cells ``(arm, agent_id, n, successes)``, and
passes them as ``agent_stats`` with ``Design(randomization="agent")``, so the
verdict comes from the engine's own path.

Simulation ``i`` of a pilot with ``G`` agents per arm: agent ``j`` of an arm
handles ``m_j`` accounts, ``m_j = max(1, round(Gamma(1 / cv^2, m cv^2)))``
(mean ``m``, coefficient of variation ``cv``; all ``m`` when ``cv = 0``),
has the rate ``p_j ~ Beta(p (1 - rho) / rho, (1 - p)(1 - rho) / rho)``
(intra-cluster correlation ``rho``; ``p_j = p`` when ``rho = 0``) and
``Binomial(m_j, p_j)`` successes. Sizes, rates and successes come from three
streams seeded ``[seed, stream, i, arm, k]``, so agent ``j`` is the same agent
at every ``G`` (common random numbers: the power curve in ``G`` is smooth and
the search does not chase Monte-Carlo noise).

Two passes, because a PyMC fit costs about 1.5-4 s (measured, compiled model
cached) against 20 ms for the CR2 analysis:

1. **Search** (:func:`search_agents`): the smallest ``G >= MIN_AGENTS_PER_ARM``
   whose CR2 power reaches the target, by doubling from the Kish closed form
   and bisection on whole agents (``sims`` pilots per size).
2. **Confirmation** (:func:`confirm`, binary metrics): ``confirm_sims`` fresh
   pilots at ``G`` through ``fit_hierarchical`` and ``analyze_stats``, as
   ``analyze_run`` does, at production MCMC settings (a fit failing the
   convergence gate gives "inconclusive", which counts as a wrong decision).
   It passes when its power is at least ``target - 2 se``,
   ``se = sqrt(target (1 - target) / confirm_sims)``. Otherwise the CR2 search
   is aimed at ``target`` plus the shortfall (the hierarchical power curve
   sitting that far below the CR2 one) from ``G + 1`` up, and the new size is
   confirmed, at most :data:`MAX_STEPS` times.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from workbench.defaults import MIN_AGENTS_PER_ARM
from workbench.design.spec import DesignSpec, correct_decision
from workbench.effects.analyze import Design, Settings, analyze_stats, fit_hierarchical
from workbench.effects.clusters import too_few_agents

CR2 = "cluster_robust_cr2_t"
HIERARCHICAL = "hierarchical_logistic"
SEARCH, CONFIRM = 0, 1  # random-number streams: the confirmation never reuses the search's pilots
MAX_STEPS = 3  # re-aimed sizes after a failed confirmation
MAX_AGENTS = 100_000  # per arm: beyond this the effect is too small to detect
ARMS = ("control", "treatment")


def simulate_agents(spec: DesignSpec, agents: int, i: int, stream: int = SEARCH) -> pd.DataFrame:
    """Per-agent cells of both arms for simulation ``i`` (the model in the module docstring)."""
    rows = []
    for k, arm in enumerate(ARMS):
        p = spec.baseline + (spec.effect if arm == "treatment" else 0.0)
        r_size, r_rate, r_y = (np.random.default_rng([spec.seed, stream, i, k, s]) for s in range(3))
        m, cv = spec.accounts_per_agent, spec.agent_size_cv
        sizes = np.full(agents, m) if cv <= 0 else np.maximum(1, np.rint(r_size.gamma(1 / cv**2, m * cv**2, agents)))
        sizes = sizes.astype("int64")
        rho = spec.icc
        rates = np.full(agents, p) if rho <= 0 else r_rate.beta(p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho, agents)
        y = r_y.binomial(sizes, rates)
        for j in range(agents):
            s, n = int(y[j]), int(sizes[j])
            rows.append({"arm": arm, "agent_id": f"{arm}-{j}", "n": n, "successes": s, "sum": s, "sum_sq": s, "accounts": n})
    cells = pd.DataFrame(rows)
    cells["metric"], cells["family"], cells["excluded"] = spec.metric, "binary", 0
    return cells


def _design(spec: DesignSpec) -> Design:
    return Design(
        ARMS[0],
        [ARMS[1]],
        primary=spec.metric,
        rope={spec.metric: spec.rope} if spec.rope else None,
        higher_is_better={spec.metric: spec.higher_is_better},
        randomization="agent",
    )


def _settings(spec: DesignSpec, seed: int) -> Settings:
    if spec.smoke:  # tests only: small MCMC budget, smoke thresholds (labelled in the output)
        return Settings(seed=seed, draws=2000, mcmc_draws=300, mcmc_tune=300, smoke=True)
    return Settings(seed=seed, draws=2000)  # production MCMC: 2,000 + 2,000 draws x 2 chains


def decide(spec: DesignSpec, cells: pd.DataFrame, seed: int, model: str = CR2) -> dict:
    """The engine's results document for one simulated pilot, as ``analyze_run`` makes it."""
    design, settings = _design(spec), _settings(spec, seed)
    num = ["n", "successes", "sum", "sum_sq", "accounts", "excluded"]
    stats = cells.groupby(["metric", "family", "arm"], as_index=False)[num].sum()
    hier = fit_hierarchical(cells, None, design, settings, [spec.metric]) if model == HIERARCHICAL else None
    return analyze_stats(stats, design, settings, agent_stats=cells, hierarchical=hier)


def agent_power(spec: DesignSpec, agents: int, model: str = CR2, sims: int | None = None, stream: int = SEARCH) -> dict:
    """P(correct decision) with ``agents`` agents per arm over ``sims`` simulated pilots.

    Returns ``power``, its Monte-Carlo error ``sqrt(power (1 - power) / sims)``,
    the share of pilots given no verdict (too few agents) and, for the
    hierarchical model, the share of fits failing the convergence gate and the
    median seconds per pilot.
    """
    sims = spec.sims if sims is None else sims
    hits = no_verdict = gate = 0
    secs = []
    for i in range(sims):
        t0 = time.perf_counter()
        doc = decide(spec, simulate_agents(spec, agents, i, stream), i, model)
        secs.append(time.perf_counter() - t0)
        m = doc["metrics"][spec.metric]
        hits += correct_decision(doc, spec)
        no_verdict += bool(m["decision"].get("no_verdict"))
        gate += not m["diagnostics"].get("ok", True)
    p = hits / sims
    out = {
        "agents_per_arm": agents,
        "accounts_per_arm": agents * spec.accounts_per_agent,
        "model": model,
        "sims": sims,
        "power": p,
        "power_mc_error": math.sqrt(p * (1 - p) / sims),
        "no_verdict": no_verdict / sims,
    }
    if model == HIERARCHICAL:
        out.update(gate_failed=gate / sims, seconds_per_pilot=float(np.median(secs)), smoke=spec.smoke)
    return out


def too_small(agents: int) -> str | None:
    """The engine's reason for withholding every verdict at ``agents`` per arm (None when enough)."""
    cells = pd.DataFrame({"arm": [a for a in ARMS for _ in range(agents)], "agent_id": range(2 * agents), "n": 1})
    return too_few_agents(cells, list(ARMS))


def search_agents(
    spec: DesignSpec,
    target: float | None = None,
    above: int = MIN_AGENTS_PER_ARM - 1,
    start: int | None = None,
    rel_tol: float = 0.03,
) -> tuple[int, list[dict]]:
    """Smallest ``G > above`` with CR2 power >= ``target``: doubling from ``start``, then bisection.

    ``above`` is a size known to fall short: below ``MIN_AGENTS_PER_ARM`` the
    engine gives no verdict at all, so the search never goes there. Bisection
    stops at one agent or ``rel_tol`` of the answer (3%: within the Monte-Carlo
    noise of 200 pilots). Returns ``(G, trace)``, ``trace`` listing every
    evaluated size and its power.
    """
    target = spec.target if target is None else target
    trace: list[dict] = []
    seen: dict[int, float] = {}

    def power(g: int) -> float:
        if g not in seen:
            r = agent_power(spec, g)
            seen[g] = r["power"]
            trace.append({"agents": g, "n": r["accounts_per_arm"], "power": r["power"]})
        return seen[g]

    lo, hi = above, max(above + 1, start or above + 1)
    while power(hi) < target:
        lo, hi = hi, hi * 2
        if hi > MAX_AGENTS:
            raise ValueError(f"more than {MAX_AGENTS:,} agents per arm: the effect is too small to detect")
    while hi - lo > max(1, rel_tol * hi):
        mid = (lo + hi) // 2
        if power(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi, trace


def confirm(spec: DesignSpec, agents: int, trace: list[dict]) -> tuple[int, dict]:
    """The hierarchical confirmation at ``agents`` per arm, stepping up while it falls short.

    Returns the confirmed size (the last one tried when every step fell short)
    and the confirmation block of the design document; re-aimed CR2
    evaluations are appended to ``trace``.
    """
    se = math.sqrt(spec.target * (1 - spec.target) / spec.confirm_sims)
    steps = []
    for step in range(MAX_STEPS + 1):
        r = agent_power(spec, agents, HIERARCHICAL, spec.confirm_sims, CONFIRM)
        r["passed"] = r["power"] >= spec.target - 2 * se
        steps.append(r)
        if r["passed"] or step == MAX_STEPS:
            break
        aim = min(spec.target + (spec.target - r["power"]), 0.99)
        new, more = search_agents(spec, aim, above=agents, start=agents + max(1, agents // 4))
        trace.extend(more)
        agents = new
    last = steps[-1]
    block = {
        "model": HIERARCHICAL,
        "agents_per_arm": agents,
        "sims": spec.confirm_sims,
        "power": last["power"],
        "power_mc_error": last["power_mc_error"],
        "criterion": f"power >= target - 2 MC errors at the target ({spec.target:g} - {2 * se:.3f})",
        "passed": last["passed"],
        "gate_failed": last["gate_failed"],
        "seconds_per_pilot": last["seconds_per_pilot"],
        "mcmc": "smoke (tests only)" if spec.smoke else "production: 2,000 + 2,000 draws x 2 chains, nutpie",
        "steps": steps,
    }
    return agents, block
