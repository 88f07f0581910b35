"""Monitoring: replay a pilot week by week under a stated Bayesian stopping rule.

The rule, evaluated at each look ``k = 1..K`` on the primary metric's
posterior (direction-aware, as in :mod:`workbench.effects.compare`)::

    stop for benefit   if P(better) > u
    stop for harm      if P(better) < 1 - u
    stop for futility  if P(|t - c| < rope) > e   or   E[loss] < epsilon
    otherwise continue; at look K the pilot ends without a sequential verdict

Looking weekly at ``P(better) > 0.95`` gives a false win (benefit declared
under A/A) far more often than 5%: each look is another chance for noise to
cross the bar. The threshold ``u`` is therefore tuned by simulation for the
declared maximum number of looks ``K`` (:func:`tune_threshold`): ``u`` is the
``1 - ALPHA`` quantile of ``max_k P(better)_k`` over simulated A/A sequences, so
that ``P(max_k P(better)_k > u) <= ALPHA`` (0.025, the one-sided rate of the
engine's "better"; the final ``analyze`` uses the locked ``u`` too). The futility and harm stops are not
counted on in the tuning (non-binding), so the rule as applied is at most as
permissive. :func:`operating_characteristics` measures false-win rate, power
and expected duration, each with its Monte-Carlo standard error.

Simulations work on binary sufficient statistics with the engine's
Beta(1, 1) posteriors, summarised by their normal approximation (means
``(1 + s) / (2 + n)``, Beta variances), which is what the engine's draws
estimate for pilot-sized arms and is fast enough for thousands of sequences.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
from scipy import stats

from workbench.defaults import DEFAULT_LEVEL, DEFAULT_SEED, THRESHOLDS, better_bar
from workbench.effects.analyze import Settings, analyze_stats, design_from_config
from workbench.metrics.catalogue import CATALOGUE
from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import stats_by_look, sufficient_stats

# The false-win rate the tuned rule allows under A/A: the one-sided rate of the
# engine's own "better" verdict (P(better) > 0.975 at level 0.95), so looks plus
# the final analyze at the locked bar keep the headline's 2.5%.
ALPHA = 1 - better_bar(THRESHOLDS, DEFAULT_LEVEL)
FIXED = THRESHOLDS.better  # the naive bar (P(better) > 0.95 at every look), shown beside the tuned one


def _diff_posterior(s_c, n_c, s_t, n_t):
    """Normal approximation to t - c under independent Beta(1 + s, 1 + n - s) posteriors."""
    a_c, b_c, a_t, b_t = 1 + s_c, 1 + n_c - s_c, 1 + s_t, 1 + n_t - s_t
    mean = a_t / (a_t + b_t) - a_c / (a_c + b_c)
    var = a_t * b_t / ((a_t + b_t) ** 2 * (a_t + b_t + 1)) + a_c * b_c / ((a_c + b_c) ** 2 * (a_c + b_c + 1))
    return mean, np.sqrt(var)


def rule_quantities(mean, sd, sign: int = 1, rope: float = 0.0):
    """P(better), P(rope) and expected loss of choosing treatment for a Normal(mean, sd^2) difference.

    ``P(better) = Phi(s mean / sd)``; ``P(rope) = Phi((r - mean)/sd) - Phi((-r - mean)/sd)``;
    ``E[max(0, -s D)] = sd phi(s mean / sd) - s mean Phi(-s mean / sd)``.
    """
    z = sign * np.asarray(mean) / sd
    pb = stats.norm.cdf(z)
    pr = stats.norm.cdf((rope - mean) / sd) - stats.norm.cdf((-rope - mean) / sd)
    el = sd * stats.norm.pdf(z) - sign * np.asarray(mean) * stats.norm.cdf(-z)
    return pb, pr, el


def _paths(rng, sims: int, looks: int, p_c: float, p_t: float, m: int):
    """Cumulative successes per arm at each look: ``m`` new accounts per arm per look."""
    s_c = np.cumsum(rng.binomial(m, p_c, (sims, looks)), axis=1)
    s_t = np.cumsum(rng.binomial(m, p_t, (sims, looks)), axis=1)
    n = m * np.arange(1, looks + 1)
    return s_c, s_t, np.broadcast_to(n, s_c.shape)


def tune_threshold(
    max_looks: int, baseline: float, accounts_per_look: int, sims: int = 4000, seed: int = DEFAULT_SEED, alpha: float = ALPHA
) -> float:
    """Smallest ``u`` with P(any look has P(better) > u | A/A) <= ``alpha``, by simulation.

    ``u = q_{1-alpha}(max_k P(better)_k)`` over ``sims`` A/A sequences of
    ``max_looks`` looks with ``accounts_per_look`` new accounts per arm each,
    never below the single-look bar ``1 - alpha``.

    The quantile is taken at ``alpha' = alpha - 1.645 sqrt(alpha (1 - alpha) / sims)``
    rather than ``alpha``: the estimated bar is itself noisy, and this margin
    makes the true false-win rate <= ``alpha`` with about 95% confidence
    instead of only on average.
    """
    rng = np.random.default_rng([seed, 1])
    s_c, s_t, n = _paths(rng, sims, max_looks, baseline, baseline, max(int(accounts_per_look), 1))
    pb, _, _ = rule_quantities(*_diff_posterior(s_c, n, s_t, n))
    a = max(alpha - 1.645 * math.sqrt(alpha * (1 - alpha) / sims), alpha / 2)
    u = float(np.quantile(pb.max(axis=1), 1 - a, method="higher"))
    return max(u, 1 - alpha)


def apply_rule(pb, pr, el, u: float, e: float = 0.95, epsilon: float = 0.0):
    """First stopping look and outcome per sequence (arrays of shape (sims, looks)).

    Returns ``(look, outcome)``: ``look`` is 1-based (the last look when no
    stop), ``outcome`` 1 benefit, -1 harm, 0 futility, 2 no stop.
    """
    pb, pr, el = np.atleast_2d(pb), np.atleast_2d(pr), np.atleast_2d(el)
    benefit, harm = pb > u, pb < 1 - u
    futile = (pr > e) | (el < epsilon)
    any_stop = benefit | harm | futile
    first = np.where(any_stop.any(axis=1), any_stop.argmax(axis=1), pb.shape[1] - 1)
    rows = np.arange(pb.shape[0])
    outcome = np.select([benefit[rows, first], harm[rows, first], futile[rows, first]], [1, -1, 0], 2)
    return first + 1, outcome


def _rate(x) -> dict:
    x = np.asarray(x, dtype=float)
    return {"rate": float(x.mean()), "mc_error": float(x.std(ddof=1) / math.sqrt(len(x)))}


def _mean(x) -> dict:
    x = np.asarray(x, dtype=float)
    return {"mean": float(x.mean()), "mc_error": float(x.std(ddof=1) / math.sqrt(len(x)))}


def operating_characteristics(
    u: float,
    max_looks: int,
    baseline: float,
    effect: float,
    accounts_per_look: int,
    sims: int = 2000,
    seed: int = DEFAULT_SEED,
    higher_is_better: bool = True,
    rope: float = 0.0,
    e: float = 0.95,
    epsilon: float = 0.0,
) -> dict:
    """False-win rate (A/A), power (under ``effect``) and expected duration of the rule, with MC errors.

    A false win is a benefit stop under A/A; power is a benefit stop when the
    treatment is better by ``effect`` (treatment - control, in the metric's
    unit, in the better direction); duration is the stopping look (``max_looks``
    when the rule never stops). The seed stream differs from the tuning's, so
    the false-win rate is measured on fresh sequences.
    """
    sign = 1 if higher_is_better else -1
    out = {
        "threshold": u,
        "max_looks": max_looks,
        "accounts_per_look": accounts_per_look,
        "sims": sims,
        "baseline": baseline,
        "effect_size": abs(effect),
    }
    for name, p_t in (("aa", baseline), ("effect", baseline + sign * abs(effect))):
        rng = np.random.default_rng([seed, 2, int(name == "effect")])
        s_c, s_t, n = _paths(rng, sims, max_looks, baseline, p_t, max(int(accounts_per_look), 1))
        pb, pr, el = rule_quantities(*_diff_posterior(s_c, n, s_t, n), sign=sign, rope=rope)
        look, outcome = apply_rule(pb, pr, el, u, e, epsilon)
        block = {
            "benefit": _rate(outcome == 1),
            "harm": _rate(outcome == -1),
            "futility": _rate(outcome == 0),
            "no_stop": _rate(outcome == 2),
            "looks": _mean(look),
        }
        out[name] = block
    out["false_win"] = out["aa"]["benefit"]
    out["power"] = out["effect"]["benefit"]
    return out


def bias_adjusted_estimate(
    observed: float,
    u: float,
    max_looks: int,
    baseline: float,
    accounts_per_look: int,
    sims: int = 2000,
    seed: int = DEFAULT_SEED,
    higher_is_better: bool = True,
    rope: float = 0.0,
    e: float = 0.95,
    epsilon: float = 0.0,
    grid: int = 41,
) -> dict:
    """The effect corrected for stopping early: Whitehead's bias-adjusted estimate, by simulation.

    A trial stopped for benefit overstates the effect (it stopped *because* the
    estimate ran high). With ``m(theta) = E[naive difference where the rule ends
    (its stopping look, else the last) | true difference theta]`` simulated on a
    grid (common random numbers across the grid), the adjusted estimate solves
    ``m(theta) = observed`` (Whitehead 1986; linear interpolation, ``m`` rises with
    ``theta``). Conditioning on the stop's reason instead is not monotone in
    ``theta`` (few, early, extreme stops near zero), so it is not used.
    """
    sign = 1 if higher_is_better else -1
    span = max(abs(observed), 1e-4)
    thetas = np.linspace(observed - 1.5 * span, observed + 1.5 * span, grid)
    thetas = thetas[(baseline + thetas > 1e-4) & (baseline + thetas < 1 - 1e-4)]
    means = []
    m = max(int(accounts_per_look), 1)
    for th in thetas:
        rng = np.random.default_rng([seed, 3])
        s_c, s_t, n = _paths(rng, sims, max_looks, baseline, baseline + th, m)
        mean, sd = _diff_posterior(s_c, n, s_t, n)
        pb, pr, el = rule_quantities(mean, sd, sign=sign, rope=rope)
        look, _ = apply_rule(pb, pr, el, u, e, epsilon)
        means.append(float(np.mean(mean[np.arange(sims), look - 1])))
    means = np.asarray(means)
    ok = np.isfinite(means)
    result = {
        "naive": observed,
        "method": (
            "Whitehead's bias-adjusted estimate: the true difference whose simulated mean estimate "
            f"where the same rule ends equals the observed one ({sims} sequences per grid point)"
        ),
    }
    if ok.sum() < 2:
        result.update(bias_adjusted=None, note="too few grid points inside (0, 1) to correct the estimate")
        return result
    x, y = thetas[ok], np.maximum.accumulate(means[ok])  # monotone in theta up to Monte-Carlo noise
    if not y[0] <= observed <= y[-1]:
        result.update(bias_adjusted=None, note="the observed estimate lies outside the simulated range")
        return result
    result["bias_adjusted"] = float(np.interp(observed, y, x))
    return result


def look_dates(first_assigned, observed_until) -> list:
    """Weekly look dates: each Monday 00:00 UTC after the first assignment week, then ``observed_until``."""
    start = first_assigned.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=first_assigned.weekday())
    out, d = [], start + timedelta(days=7)
    while d < observed_until:
        out.append(d)
        d += timedelta(days=7)
    out.append(observed_until)
    return out


def replay(
    pilot, metric: str | None = None, seed: int = DEFAULT_SEED, backend: str = "duckdb", opened=None
) -> tuple[list[dict], dict]:
    """Per-look numbers of ``metric`` (default: the primary) as if the data stopped at each look.

    Each look sets ``observed_until = d`` on a copy of the configuration, so
    accounts whose window is not over at ``d`` drop out by the metrics' own
    eligibility rule. Returns ``(looks, info)``.
    """

    p = opened if opened is not None else open_pilot(pilot, backend)  # a run passes the pilot it opened once
    cfg = p.config
    metric = metric or cfg.primary_metric
    first = pd.Timestamp(p.tables["accounts"]["assigned_at"].min().execute())
    first = (first.tz_localize("UTC") if first.tzinfo is None else first.tz_convert("UTC")).to_pydatetime()
    dates = look_dates(first, cfg.observed_until)
    # One query for every look (metrics.stats.stats_by_look); retention's follow-up is censored at each look.
    by_look = None if metric == "retention" else stats_by_look(p.tables, cfg, dates, metrics=[metric])
    looks, prev_n = [], None
    for k, d in enumerate(dates, start=1):
        cfg_d = cfg.model_copy(update={"observed_until": d})
        if by_look is not None:
            st = by_look[k - 1]
        else:
            st = sufficient_stats(p.tables, cfg_d, metrics=[metric], covariate=None)
        arms = {r["arm"]: r for r in st.to_dict("records")}
        c, t = arms.get(cfg.control, {}), arms.get(cfg.treatments[0], {})
        n_c, n_t = int(c.get("n") or 0), int(t.get("n") or 0)
        entry = {
            "look": k,
            "date": d.isoformat(),
            "n_control": n_c,
            "n_treatment": n_t,
            "new_data": (n_c, n_t) != prev_n and min(n_c, n_t) > 0,
        }
        prev_n = (n_c, n_t)
        if min(n_c, n_t) == 0:
            entry["status"] = "no eligible accounts yet"
            looks.append(entry)
            continue
        doc = analyze_stats(st, design_from_config(cfg_d), Settings(seed=seed))
        m = doc["metrics"][metric]
        entry.update(
            control_mean=m["control"]["mean"],
            treatment_mean=m["treatment"]["mean"],
            difference=m["effect"]["difference"]["mean"],
            interval=m["effect"]["difference"]["interval"],
            prob_better=m["prob_better"],
            prob_rope=m["prob_rope"],
            expected_loss=m["expected_loss"],
            rope=m["rope"],
            sceptical=(m.get("sensitivity") or {}).get("difference"),
            status="analysed",
        )
        looks.append(entry)
    info = {
        "pilot": cfg.name,
        "metric": metric,
        "control": cfg.control,
        "treatment": cfg.treatments[0],
        "family": CATALOGUE[metric].family if metric in CATALOGUE else None,
        "higher_is_better": CATALOGUE[metric].higher_is_better if metric in CATALOGUE else True,
    }
    return looks, info


def first_stop(looks: list[dict], u: float, e: float = 0.95, epsilon: float = 0.0) -> dict:
    """Where the rule with bar ``u`` stops on the replayed looks (only looks with new data count)."""
    counted = 0
    for x in looks:
        if not x.get("new_data"):
            continue
        counted += 1
        pb = x["prob_better"]
        reason = (
            "benefit"
            if pb > u
            else "harm"
            if pb < 1 - u
            else "futility"
            if x["prob_rope"] > e or x["expected_loss"] < epsilon
            else None
        )
        if reason:
            return {
                "stopped": True,
                "reason": reason,
                "look": x["look"],
                "date": x["date"],
                "counted_look": counted,
                "prob_better": pb,
            }
    return {"stopped": False, "reason": "no stopping bar crossed by the last look", "counted_look": counted}


def monitor_pilot(
    pilot,
    metric: str | None = None,
    sims: int = 2000,
    seed: int = DEFAULT_SEED,
    effect: float | None = None,
    e: float = 0.95,
    epsilon: float = 0.0,
    backend: str = "duckdb",
    opened=None,
) -> dict:
    """Replay, tune the bar for the pilot's number of looks, report the stop and the rule's OC.

    ``max_looks`` is the number of weekly looks that saw new eligible
    accounts (a look without new data cannot change the posterior);
    ``accounts_per_look`` the final per-arm ``n`` spread evenly over them.
    ``effect`` for the power figure defaults to a 10% relative lift of the
    control rate (an assumption; pass the effect the pilot was sized for).
    """
    looks, info = replay(pilot, metric, seed, backend, opened)
    analysed = [x for x in looks if x.get("status") == "analysed"]
    doc = {
        "metric": info["metric"],
        "pilot": info["pilot"],
        "looks": looks,
        "control": info["control"],
        "treatment": info["treatment"],
        "notes": [],
    }
    rule = {
        "benefit": "P(better) > u",
        "harm": "P(better) < 1 - u",
        "futility": f"P(rope) > {e} or expected loss < {epsilon}",
        "cadence": "weekly",
    }
    if not analysed:
        doc["notes"].append("no look had eligible accounts in both arms: nothing to monitor")
        doc["rule"] = rule
        return doc
    if info["family"] not in ("binary", "time-to-event"):
        doc["notes"].append(
            "the bar is tuned on binary sequences; for other families it is an approximation "
            "(the tuned bar depends mostly on the number of looks)"
        )
    k = sum(bool(x["new_data"]) for x in looks)
    last = analysed[-1]
    n_final = min(last["n_control"], last["n_treatment"])
    base = float(min(max(last["control_mean"], 1e-3), 1 - 1e-3)) if info["family"] in ("binary", "time-to-event") else 0.5
    m = max(round(n_final / k), 1)
    u = tune_threshold(k, base, m, max(sims, 10_000), seed)  # a quantile in the tail: more sequences
    eff = effect if effect is not None else 0.1 * base
    hib = info["higher_is_better"] is not False
    rope = float(last["rope"])
    doc["rule"] = dict(
        rule,
        u=u,
        e=e,
        epsilon=epsilon,
        max_looks=k,
        tuned_for={"false_win_rate": ALPHA, "baseline": base, "accounts_per_look": m, "sims": max(sims, 10_000), "seed": seed},
    )
    doc["stop"] = first_stop(looks, u, e, epsilon)
    if doc["stop"].get("reason") in ("benefit", "harm"):
        at = next(x for x in looks if x["look"] == doc["stop"]["look"])
        est = bias_adjusted_estimate(at["difference"], u, k, base, m, sims, seed + 2, hib, rope, e, epsilon)
        est["sceptical"] = at.get("sceptical")
        est["quote"] = (
            "bias_adjusted: the naive estimate of a trial stopped early overstates the effect"
            if est.get("bias_adjusted") is not None
            else "sceptical: the naive estimate of a trial stopped early overstates the effect"
        )
        doc["stop"]["estimate"] = est
    doc["stop_fixed_095"] = first_stop(looks, FIXED, e, epsilon)
    doc["operating_characteristics"] = {
        "tuned": operating_characteristics(u, k, base, eff, m, sims, seed + 1, hib, rope, e, epsilon),
        "fixed_095": operating_characteristics(FIXED, k, base, eff, m, sims, seed + 1, hib, rope, e, epsilon),
    }
    return doc
