"""Retention (time-to-event): one model for both arms, never past the longest follow-up.

With the per-day survival table (:func:`workbench.metrics.stats.survival_table`)
both arms get the piecewise-exponential posterior of S(h)
(:mod:`workbench.models.survival`), using every censored account, with
Kaplan-Meier beside it. The horizon ``h`` is ``retention_days`` when both arms
still have accounts followed that long; otherwise it is the longest horizon
both arms support, the result is labelled with it, and no verdict is given at
``retention_days`` ("not yet observable").

Without the table (published arm-level counts), both arms use the direct
Beta-Binomial share observed to ``retention_days`` when both have such
accounts; else the constant-hazard model is shown, labelled as an
extrapolation, with no verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from workbench.models import conjugate, survival


@dataclass
class Retention:
    """Both arms' draws of retention and what the model could say."""

    control: np.ndarray
    treatment: np.ndarray
    control_prior: np.ndarray | None
    treatment_prior: np.ndarray | None
    model: str
    horizon_days: float
    observable: bool  # retention_days reached by the data: a verdict is allowed
    reason: str | None = None  # why no verdict, in words
    extra: dict = field(default_factory=dict)  # kaplan_meier block, frequentist cross-check


def _arm_table(table: pd.DataFrame | None, arm: str) -> pd.DataFrame | None:
    if table is None or table.empty:
        return None
    t = table[table["arm"] == arm]
    return t if not t.empty else None


def followed(table: pd.DataFrame | None, arm: str) -> bool:
    """Does ``arm`` have follow-up to speak of (a horizon of at least one day)?"""
    t = _arm_table(table, arm)
    return t is not None and survival.supported_horizon(t) >= 1


def not_observable(days: float, horizon: float) -> str:
    return (
        f"not yet observable at {days:g} days: the longest follow-up both arms support is {horizon:g} days; "
        f"retention is shown at {horizon:g} days and no verdict is given at {days:g}"
    )


def km_block(tc: pd.DataFrame, tt: pd.DataFrame, horizon: float, level: float) -> tuple[dict, dict]:
    """Kaplan-Meier per arm at ``horizon`` and the frequentist difference (Greenwood, normal interval)."""
    kc, kt = survival.kaplan_meier(tc, horizon), survival.kaplan_meier(tt, horizon)
    d = kt["survival"] - kc["survival"]
    se = math.sqrt(kc["se"] ** 2 + kt["se"] ** 2)
    z = stats.norm.ppf((1 + level) / 2)
    p = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else None
    freq = {
        "method": "kaplan_meier_greenwood",
        "difference": float(d),
        "interval": [float(d - z * se), float(d + z * se)],
        "p_value": p,
        "horizon_days": horizon,
    }
    return {"control": kc, "treatment": kt, "difference": float(d), "horizon_days": horizon}, freq


def retention(
    c: dict,
    t: dict,
    table: pd.DataFrame | None,
    days: float,
    priors: dict,
    rng,
    draws: int,
    level: float,
    deff: float = 1.0,
    clustered: bool = False,
) -> Retention:
    """Retention draws for both arms, decided on both arms together (see the module docstring).

    ``clustered`` (agent randomization) with an ``agent_id`` column in ``table``:
    errors clustered by agent (:func:`workbench.models.survival.clustered_survival`).
    """
    tc, tt = _arm_table(table, c["arm"]), _arm_table(table, t["arm"])
    if tc is not None and tt is not None:
        reach = min(survival.supported_horizon(tc), survival.supported_horizon(tt))
        horizon = float(min(days, math.floor(reach)))
        if horizon <= 0:
            nan = np.full(draws, np.nan)
            return Retention(nan, nan, None, None, "piecewise_exponential_survival", 0.0, False, "no follow-up to speak of")
        cd, cp = survival.piecewise_survival(tc, priors, rng, draws, horizon, deff)
        td, tp = survival.piecewise_survival(tt, priors, rng, draws, horizon, deff)
        model = "piecewise_exponential_survival"
        if clustered and "agent_id" in table:
            # Agents randomized: the same hazards with CR2 errors by agent, t(G - 1).
            cd, td = (
                survival.clustered_survival(tc, rng, draws, horizon)[0],
                survival.clustered_survival(tt, rng, draws, horizon)[0],
            )
            model = "piecewise_exponential_cluster_robust_cr2_t"
        km, freq = km_block(tc, tt, horizon, level)
        ok = horizon >= days
        return Retention(
            cd,
            td,
            cp,
            tp,
            model,
            horizon,
            ok,
            None if ok else not_observable(days, horizon),
            {"kaplan_meier": km, "frequentist": freq},
        )
    if min(c.get("n", 0) or 0, t.get("n", 0) or 0) > 0:
        cd, cp = conjugate.binary(c, priors, rng, draws, deff)
        td, tp = conjugate.binary(t, priors, rng, draws, deff)
        return Retention(cd, td, cp, tp, "beta_binomial_at_horizon", float(days), True)
    cd, cp = conjugate.survival_at(c, priors, rng, draws, days, deff)
    td, tp = conjugate.survival_at(t, priors, rng, draws, days, deff)
    reason = (
        f"not yet observable at {days:g} days: no account in an arm was followed that long, "
        "and the constant-hazard figure shown is an extrapolation"
    )
    return Retention(cd, td, cp, tp, "exponential_survival_extrapolated", float(days), False, reason)
