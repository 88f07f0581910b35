"""Retention as survival: piecewise-exponential posteriors and Kaplan-Meier, from the per-day table.

Both read one arm's rows of :func:`workbench.metrics.stats.survival_table`
(``day``, ``exits``, ``events``, ``time_sum``: accounts whose follow-up ends
on whole day ``day``, how many of them left the lender, their summed
follow-up in days). Every account counts, censored or not.

The piecewise-exponential model cuts follow-up into pieces ``[a_k, b_k)``
with a constant hazard in each; the likelihood of events ``d_k`` and
account-days at risk ``E_k`` is Poisson(``lambda_k E_k``) (the Poisson trick),
so a Gamma prior is conjugate::

    lambda_k | data ~ Gamma(shape + d_k, rate_days + E_k)
    S(h) = exp(-sum_k lambda_k |[a_k, b_k) intersect [0, h)|)

No survival is ever computed past the longest follow-up the data support
(:func:`supported_horizon`): the caller picks the horizon.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pandas as pd

PIECE_DAYS = 30  # width of a constant-hazard piece: six pieces to 180 days
MIN_AT_RISK = 20  # a horizon is supported while at least this many accounts are still followed


def _day_arrays(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    g = table.groupby("day", sort=True)[["exits", "events", "time_sum"]].sum()
    return (
        g.index.to_numpy(dtype=float),
        g["exits"].to_numpy(dtype=float),
        g["events"].to_numpy(dtype=float),
        g["time_sum"].to_numpy(dtype=float),
    )


def at_risk(table: pd.DataFrame, day: float) -> float:
    """Accounts still followed at ``day``: exits on whole days >= ``day``."""
    d, exits, _, _ = _day_arrays(table)
    return float(exits[d >= day].sum())


def supported_horizon(table: pd.DataFrame, min_at_risk: int = MIN_AT_RISK) -> float:
    """The longest whole-day horizon with at least ``min_at_risk`` accounts still followed (0 if none)."""
    d, exits, _, _ = _day_arrays(table)
    if not len(d):
        return 0.0
    # at risk at day d = exits on days >= d; it only falls with d, so take the last day that qualifies.
    risk = exits[::-1].cumsum()[::-1]
    ok = d[risk >= min_at_risk]
    return float(ok.max()) if len(ok) else 0.0


def edges(horizon: float, width: float = PIECE_DAYS) -> np.ndarray:
    """Piece boundaries 0, width, 2 width, ..., horizon (the last piece may be shorter)."""
    inner = np.arange(0.0, horizon, width)
    return np.append(inner, float(horizon))


def pieces(table: pd.DataFrame, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Events and account-days at risk in each piece ``[cuts[k], cuts[k+1])``.

    Exposure of a piece [a, b) = sum over accounts exiting in it of (follow-up - a)
    + (b - a) x accounts exiting on or after b. Exits are binned by whole day,
    so boundaries should be whole days (they are: :func:`edges` of a whole-day horizon).
    """
    d, exits, events, tsum = _day_arrays(table)
    ev, ex = np.zeros(len(cuts) - 1), np.zeros(len(cuts) - 1)
    for k, (a, b) in enumerate(pairwise(cuts)):
        inside = (d >= a) & (d < b)
        ev[k] = events[inside].sum()
        ex[k] = (tsum[inside] - a * exits[inside]).sum() + (b - a) * exits[d >= b].sum()
    return ev, np.maximum(ex, 0.0)


def piecewise_survival(table: pd.DataFrame, priors: dict, rng, draws: int, horizon: float, design_effect: float = 1.0):
    """Posterior and prior draws of S(``horizon``) under the piecewise-exponential model.

    Independent Gamma(shape + d_k / deff, rate_days + E_k / deff) hazards per
    piece (``priors["hazard"]``); ``design_effect`` shrinks the information
    when accounts are clustered. Returns ``(posterior, prior)`` draws.
    """
    p = priors["hazard"]
    cuts = edges(horizon)
    ev, ex = pieces(table, cuts)
    width = np.diff(cuts)
    lam = rng.gamma(p["shape"] + ev / design_effect, 1.0 / (p["rate_days"] + ex / design_effect), (draws, len(width)))
    lam0 = rng.gamma(p["shape"], 1.0 / p["rate_days"], (draws, len(width)))
    return np.exp(-(lam @ width)), np.exp(-(lam0 @ width))


def kaplan_meier(table: pd.DataFrame, horizon: float) -> dict:
    """Kaplan-Meier S(``horizon``) with Greenwood's variance.

    S(t) = prod_{d < t} (1 - e_d / r_d), var = S^2 sum e_d / (r_d (r_d - e_d)),
    r_d = accounts followed on day d (exits on days >= d). Exits are whole-day
    bins; an event on day d counts before the censorings of that day.
    """
    d, exits, events, _ = _day_arrays(table)
    risk = exits[::-1].cumsum()[::-1]
    use = (d < horizon) & (events > 0)
    r, e = risk[use], events[use]
    s = float(np.prod(1 - e / r)) if len(r) else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        g = float(np.sum(np.where(r > e, e / (r * (r - e)), 0.0)))
    return {"survival": s, "se": s * math.sqrt(g), "at_risk": at_risk(table, horizon), "horizon_days": float(horizon)}


def clustered_survival(table: pd.DataFrame, rng, draws: int, horizon: float, cluster: str = "agent_id"):
    """Draws of S(``horizon``) with errors clustered by ``cluster`` (agent randomization).

    The piecewise hazards lambda_k = D_k / E_k are ratios of cluster totals, so
    log S = -sum_k w_k lambda_k (w_k the piece's length up to the horizon) has
    the cluster influence psi_g = -sum_k w_k (d_gk - lambda_k e_gk) / E_k and
    the CR2 variance sum_g psi_g^2 / (1 - h_g), h_g the cluster's share of
    accounts; draws are exp(min(log S + se t(G - 1), 0)). Returns ``(draws, G)``.
    """
    cuts = edges(horizon)
    w = np.diff(cuts)
    per = [(pieces(g, cuts), float(g["exits"].sum())) for _, g in table.groupby(cluster)]
    G = len(per)
    if G < 2:
        return np.full(draws, np.nan), G
    ev = np.array([p[0][0] for p in per])
    ex = np.array([p[0][1] for p in per])
    n = np.array([p[1] for p in per])
    D, E = ev.sum(axis=0), ex.sum(axis=0)
    lam = np.divide(D, E, out=np.zeros_like(D), where=E > 0)
    inv = np.divide(w, E, out=np.zeros_like(E), where=E > 0)
    log_s = -float(w @ lam)
    psi = -((ev - lam * ex) * inv).sum(axis=1)
    h = n / n.sum()
    se = math.sqrt(float(np.sum(psi * psi / np.maximum(1 - h, 1e-12))))
    # S cannot exceed 1: draws of log S above 0 (a heavy t tail with few agents) are S = 1.
    return np.exp(np.minimum(log_s + se * rng.standard_t(G - 1, draws), 0.0)), G
