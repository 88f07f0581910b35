"""Pilot design: how many accounts, agents and weeks a pilot needs.

The answer is computed by simulation through the real engine: for a candidate
number of accounts per arm ``n`` we simulate ``sims`` pilots' per-arm
sufficient statistics under the planned effect, run
:func:`workbench.effects.analyze.analyze_stats` on each, and count how often the
decision is the correct one:

* effect ``D != 0`` in the better direction: the engine's verdict is "better"
  (P(better) > 0.975 at level 0.95: the interval shown excludes no change);
* effect ``D != 0`` in the worse direction: the verdict is "worse";
* ``D == 0``: the verdict is "equivalent" (P(inside the region of practical equivalence) > 0.95).

The smallest ``n`` whose probability of a correct decision reaches ``target``
is found by doubling, then bisection, with common random numbers (simulation
``i`` uses the same seed at every ``n``, so the power curve is smooth in
``n`` and the search does not chase Monte-Carlo noise).

Under agent randomization the pilot is sized in agents per arm with the
models ``analyze`` uses on such a pilot (:mod:`workbench.design.agents`):
simulated per-agent cells go through the CR2 cluster-robust path to search the
number of agents, never fewer than ``MIN_AGENTS_PER_ARM`` (below it the engine
gives no verdict), and binary metrics' answer is confirmed with the
hierarchical logistic model that ``analyze_run`` fits.

The closed-form check is statsmodels' ``NormalIndPower`` on Cohen's ``h``
(``proportion_effectsize``), one-sided alpha ``1 - bar`` (0.025: the same bar as
P(better) > 0.975 under a flat prior), inflated by the Kish design effect ``1 + (m - 1) rho``.

Guardrails are sized for non-inferiority (:func:`guardrail_n`): the accounts per
arm at which "no harm beyond the margin" is shown with probability ``target``
when nothing changes, from each guardrail's per-account standard deviation;
:func:`plan_pilot` reports which question, the primary or a guardrail, drives the size.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize
from statsmodels.tools.tools import add_constant

from workbench.defaults import MIN_AGENTS_PER_ARM, THRESHOLDS
from workbench.design.agents import CR2, agent_power, confirm, search_agents, too_small
from workbench.design.spec import THRESHOLD, DesignSpec, correct_decision
from workbench.effects.analyze import Design, Settings, analyze_stats
from workbench.models.conjugate import MODELS

__all__ = ["THRESHOLD", "DesignSpec", "closed_form_n", "correct_decision", "plan_pilot", "simulated_power"]


def _stats(metric: str, n: int, s_c: int, s_t: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "metric": metric,
                "family": "binary",
                "arm": arm,
                "n": n,
                "successes": s,
                "sum": s,
                "sum_sq": s,
                "accounts": n,
                "excluded": 0,
            }
            for arm, s in (("control", s_c), ("treatment", s_t))
        ]
    )


def simulated_power(spec: DesignSpec, n: int) -> float:
    """P(correct decision) with ``n`` accounts per arm, over ``spec.sims`` engine runs.

    Simulation ``i`` draws its data from ``default_rng([seed, i])`` at every
    ``n`` (common random numbers) and runs the engine with seed ``i``. Under
    agent randomization, ``ceil(n / accounts_per_agent)`` agents per arm through
    the CR2 path (:func:`workbench.design.agents.agent_power`).
    """

    if spec.unit == "agent":
        return agent_power(spec, math.ceil(n / spec.accounts_per_agent))["power"]
    p0, p1 = spec.baseline, spec.baseline + spec.effect
    rope = {spec.metric: spec.rope} if spec.rope else None
    hits = 0
    for i in range(spec.sims):
        rng = np.random.default_rng([spec.seed, i])
        s_c, s_t = int(rng.binomial(n, p0)), int(rng.binomial(n, p1))
        design = Design(
            "control", ["treatment"], primary=spec.metric, rope=rope, higher_is_better={spec.metric: spec.higher_is_better}
        )
        doc = analyze_stats(_stats(spec.metric, n, s_c, s_t), design, Settings(seed=i, draws=2000))
        hits += correct_decision(doc, spec)
    return hits / spec.sims


def closed_form_n(spec: DesignSpec) -> float | None:
    """Accounts per arm from statsmodels (one-sided alpha ``1 - THRESHOLD``), times the design effect.

    ``n = ((z_{1-alpha} + z_{power}) / h)^2`` with Cohen's ``h = 2 asin(sqrt(p1)) -
    2 asin(sqrt(p0))``; ``None`` for ``D == 0`` (no closed form used here).
    """

    if spec.effect == 0:
        return None
    h = abs(proportion_effectsize(spec.baseline + spec.effect, spec.baseline))
    n = NormalIndPower().solve_power(effect_size=h, alpha=1 - THRESHOLD, power=spec.target, ratio=1.0, alternative="larger")
    return float(n) * spec.design_effect


def guardrail_n(margin: float, sd: float, threshold: float = THRESHOLDS.harm, target: float = 0.8, deff: float = 1.0) -> int:
    """Accounts per arm to show "no harm beyond ``margin``" with probability ``target`` when nothing changes.

    The difference of two arm means has standard error ``sd sqrt(2 / n)``; the
    engine shows non-inferiority when P(harm beyond the margin) < ``threshold``,
    i.e. when the upper ``1 - threshold`` bound falls under the margin::

        n = 2 deff sd^2 (z_{1 - threshold} + z_{target})^2 / margin^2
    """
    z = stats.norm.ppf(1 - threshold) + stats.norm.ppf(target)
    return math.ceil(2 * deff * sd**2 * z**2 / margin**2)


def sd_from_stats(row: dict) -> float | None:
    """Per-account standard deviation of a metric from one arm's sufficient statistics.

    Counts and means: ``sqrt(sum_sq / n - mean^2)``; ratios of totals (recovery,
    ``R = sum y / sum x``): the delta method's per-account influence,
    ``sqrt(var(y) - 2 R cov(y, x) + R^2 var(x)) / mean(x)``.
    """
    n = float(row.get("n") or 0)
    if n <= 1 or row.get("sum_sq") is None:
        return None
    my, vy = row["sum"] / n, row["sum_sq"] / n - (row["sum"] / n) ** 2
    if row.get("family") == "ratio" and row.get("denom"):
        mx = row["denom"] / n
        vx = row["denom_sq"] / n - mx**2
        cxy = row["cross"] / n - mx * my
        r = my / mx
        return math.sqrt(max(vy - 2 * r * cxy + r * r * vx, 0.0)) / mx
    return math.sqrt(max(vy, 0.0))


def size_guardrails(spec: DesignSpec) -> dict:
    """Each guardrail's non-inferiority size (:func:`guardrail_n`), from ``spec.guardrails``."""
    out = {}
    for name, g in (spec.guardrails or {}).items():
        if not g.get("sd") or not g.get("margin"):
            out[name] = {"accounts_per_arm": None, "note": "needs the margin and the per-account sd"}
            continue
        thr = float(g.get("threshold", THRESHOLDS.harm))
        out[name] = {
            "accounts_per_arm": guardrail_n(float(g["margin"]), float(g["sd"]), thr, spec.target, spec.design_effect),
            "margin": float(g["margin"]),
            "sd": float(g["sd"]),
            "threshold": thr,
            "question": "no harm beyond the margin, if nothing changes",
        }
    return out


def search_n(spec: DesignSpec, start: int | None = None, rel_tol: float = 0.03) -> tuple[int, list[dict]]:
    """Smallest ``n`` per arm with simulated power >= target: doubling, then bisection.

    Returns ``(n, trace)``; ``trace`` lists every evaluated ``n`` and its power.
    """
    trace: list[dict] = []

    def power(n: int) -> float:
        p = simulated_power(spec, n)
        trace.append({"n": n, "power": p})
        return p

    cf = closed_form_n(spec)
    lo_n = 0
    hi_n = max(int(start or (cf / 4 if cf else 100)), 10)
    while power(hi_n) < spec.target:
        lo_n, hi_n = hi_n, hi_n * 2
        if hi_n > 50_000_000:
            raise ValueError("more than 50 million accounts per arm: the effect is too small to detect")
    while hi_n - lo_n > max(1, rel_tol * hi_n):
        mid = (lo_n + hi_n) // 2
        if power(mid) >= spec.target:
            hi_n = mid
        else:
            lo_n = mid
    return hi_n, trace


def smooth_n(trace: list[dict], target: float, sims: int) -> float | None:
    """``n`` at ``target`` from a probit fit of every simulated run in the search.

    The large-sample power is ``Phi(h sqrt(n / (2 deff)) - z_{1-alpha})``, linear in
    ``sqrt(n)`` on the probit scale, so a binomial GLM ``probit(power) = a + b
    sqrt(n)`` over all ``len(trace) * sims`` runs estimates the crossing far more
    precisely than the last bisection step alone; ``None`` if the fit is degenerate.
    """

    x = np.sqrt([t["n"] for t in trace])
    y = np.array([t["power"] for t in trace])
    if len(trace) < 3 or np.all(y == y[0]):
        return None
    # statsmodels' GLM pieces, not statsmodels.api (which imports every model: about 0.5 s per process)
    glm = GLM(y, add_constant(x), family=families.Binomial(families.links.Probit()), var_weights=np.full(len(y), float(sims)))
    a, b = glm.fit().params
    if b <= 0:
        return None
    return float(((stats.norm.ppf(target) - a) / b) ** 2)


def _agent_search(spec: DesignSpec, cf: float | None) -> tuple[int, dict, dict | None]:
    """Agents per arm for an agent-randomized pilot: CR2 search, hierarchical confirmation.

    Returns ``(agents, search block, confirmation block or None)``.
    """
    m = spec.accounts_per_agent
    start = max(MIN_AGENTS_PER_ARM, math.ceil(cf / m)) if cf else MIN_AGENTS_PER_ARM
    g, trace = search_agents(spec, start=start)
    p = next(t["power"] for t in trace if t["agents"] == g)
    search = {
        "model": CR2,
        "n": g * m,
        "agents": g,
        "power": p,
        "power_mc_error": math.sqrt(p * (1 - p) / spec.sims),
        "evaluations": trace,
    }
    conf = None
    if spec.confirm_sims > 0:
        g, conf = confirm(spec, g, trace)
    return g, search, conf


def plan_pilot(spec: DesignSpec) -> dict:
    """The design document: accounts, agents and weeks, simulated and closed-form.

    Account randomization: ``accounts_per_arm`` is the probit-smoothed crossing
    of the simulated power curve (:func:`smooth_n`), rounded up; ``search.n`` the
    raw bisection answer. Agent randomization: ``agents_per_arm`` from the CR2
    search (``search``), confirmed with the hierarchical logistic model
    (``confirmation``; :mod:`workbench.design.agents`), and ``accounts_per_arm``
    = agents x ``accounts_per_agent``; ``sized_with`` names the models.
    """
    cf = closed_form_n(spec)
    conf = None
    if spec.unit == "agent":
        agents, search, conf = _agent_search(spec, cf)
        n = agents * spec.accounts_per_agent
        sized_with = {"search": CR2, "confirmation": conf["model"] if conf else None}
    else:
        n_search, trace = search_n(spec)
        smooth = smooth_n(trace, spec.target, spec.sims)
        n = math.ceil(smooth) if smooth else n_search
        p = next(t["power"] for t in trace if t["n"] == n_search)
        search = {"n": n_search, "power": p, "power_mc_error": math.sqrt(p * (1 - p) / spec.sims), "evaluations": trace}
        sized_with = {"search": MODELS["binary"], "confirmation": None}
    out: dict = {
        "metric": spec.metric,
        "baseline": spec.baseline,
        "effect": spec.effect,
        "target": spec.target,
        "decision_rule": (
            f"P(rope) > {THRESHOLDS.equivalent:g}"
            if spec.effect == 0
            else f"P(better) > {THRESHOLD:g}"
            if (spec.effect > 0) == spec.higher_is_better
            else f"P(better) < {1 - THRESHOLD:g}"
        ),
        "unit": spec.unit,
        "sims": spec.sims,
        "seed": spec.seed,
        "accounts_per_arm": n,
        "accounts_total": 2 * n,
        "sized_with": sized_with,
        "search": search,
        "closed_form": {
            "method": f"statsmodels NormalIndPower, proportion_effectsize, one-sided alpha {1 - THRESHOLD:g}"
            + (", times the Kish design effect 1 + (m - 1) rho" if spec.unit == "agent" else ""),
            "accounts_per_arm": None if cf is None else math.ceil(cf),
            "design_effect": spec.design_effect,
        },
    }
    if cf:
        out["closed_form"]["ratio_simulated_to_closed_form"] = n / cf
    if spec.guardrails:
        guards = size_guardrails(spec)
        out["guardrails"] = guards
        sizes = {spec.metric: n, **{k: g["accounts_per_arm"] for k, g in guards.items() if g["accounts_per_arm"]}}
        driver = max(sizes, key=sizes.get)
        out["driven_by"] = driver
        out["accounts_per_arm_all_questions"] = sizes[driver]
    if spec.unit == "agent":
        m = spec.accounts_per_agent
        out.update(
            icc=spec.icc,
            accounts_per_agent=m,
            agent_size_cv=spec.agent_size_cv,
            agents_per_arm=n // m,
            agents_total=2 * (n // m),
            minimum_agents_per_arm=MIN_AGENTS_PER_ARM,
            confirmation=conf,
        )
        if cf:
            out["closed_form"]["agents_per_arm"] = max(MIN_AGENTS_PER_ARM, math.ceil(cf / m))
        if spec.agents_per_arm is not None:
            out["requested"] = requested_pilot(spec, spec.agents_per_arm)
    window_weeks = math.ceil(spec.window_days() / 7)
    out["outcome_window_weeks"] = window_weeks
    if spec.weekly_arrivals:
        intake = math.ceil(2 * n / spec.weekly_arrivals)
        out.update(intake_weeks=intake, weeks=intake + window_weeks)
    return out


def requested_pilot(spec: DesignSpec, agents: int) -> dict:
    """What a pilot with ``agents`` per arm can decide: its CR2 power, or why it gives no verdict at all."""
    r = agent_power(spec, agents)
    reason = too_small(agents)
    return {
        "agents_per_arm": agents,
        "accounts_per_arm": agents * spec.accounts_per_agent,
        "model": CR2,
        "power": r["power"],
        "power_mc_error": r["power_mc_error"],
        "verdict_possible": reason is None,
        "reason": reason,
    }
