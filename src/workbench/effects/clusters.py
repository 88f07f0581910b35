"""Agent clusters under agent randomization: how many agents, and each arm's mean with CR2 errors.

When agents are randomized, the agent is the unit: contacts and accounts of
one agent share the agent's skill, so they are not independent draws. Each
arm's mean is then a ratio of per-agent totals, ``m = sum_g y_g / sum_g x_g``
(``x_g`` accounts, contacts or the ratio's denominator of agent g), and its
small-sample cluster-robust (CR2, Bell-McCaffrey) variance is::

    var(m) = sum_g r_g^2 / (1 - h_g) / X^2,   r_g = y_g - m x_g,  h_g = x_g / X

the leverage ``h_g`` undoing the shrinkage of each cluster's residual toward
the fitted mean. The arm's mean is drawn as ``m + sqrt(var) t(G - 1)``, the
reference distribution of a mean of G cluster totals. With fewer than
``MIN_AGENTS_PER_ARM`` agents in an arm no verdict is given on any metric:
treatment and agents cannot be told apart.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from workbench.defaults import MIN_AGENTS_PER_ARM
from workbench.metrics.catalogue import ORDINAL_QUANTITY, SCALES, score_weights


def agents_per_arm(cells: pd.DataFrame | None) -> dict[str, int]:
    """Agents with at least one unit of the metric, per arm."""
    if cells is None or cells.empty or "agent_id" not in cells:
        return {}
    g = cells[cells["n"].fillna(0) > 0]
    return {str(a): int(v) for a, v in g.groupby("arm")["agent_id"].nunique().items()}


def too_few_agents(cells: pd.DataFrame | None, arms: list[str], minimum: int = MIN_AGENTS_PER_ARM) -> str | None:
    """The reason, in words, why no verdict is possible (None when every arm has enough agents)."""
    counts = agents_per_arm(cells)
    k = min(counts.get(a, 0) for a in arms)
    if k >= minimum:
        return None
    per = ", ".join(f"{counts.get(a, 0)} in {a}" for a in arms)
    return (
        f"treatment cannot be separated from the agents: randomized by agent with {per} "
        f"(at least {minimum} agents per arm needed)"
    )


def cluster_totals(cells: pd.DataFrame, metric: str, family: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-agent totals ``(y_g, x_g)`` of one arm: the arm's mean is sum(y) / sum(x)."""
    g = cells[cells["n"].fillna(0) > 0]
    if family == "ordinal":
        cats = SCALES[metric]
        w = np.array(score_weights(cats, ORDINAL_QUANTITY[metric]))
        counts = g[[f"cat_{k}" for k in cats]].fillna(0).to_numpy(dtype=float)
        return counts @ w, counts.sum(axis=1)
    if family == "ratio":
        return g["sum"].fillna(0).to_numpy(dtype=float), g["denom"].fillna(0).to_numpy(dtype=float)
    y = "successes" if family in ("binary", "time-to-event") and "successes" in g and g["successes"].notna().all() else "sum"
    return g[y].fillna(0).to_numpy(dtype=float), g["n"].to_numpy(dtype=float)


def cr2_mean(y: np.ndarray, x: np.ndarray) -> tuple[float, float, int]:
    """``(m, se_CR2, G)`` of the ratio of cluster totals (formula in the module docstring)."""
    keep = x > 0
    y, x = y[keep], x[keep]
    G, X = len(x), x.sum()
    if G < 2 or X <= 0:
        return float("nan"), float("nan"), G
    m = y.sum() / X
    r = y - m * x
    h = x / X
    var = float(np.sum(r * r / (1 - h)) / (X * X))
    return float(m), math.sqrt(max(var, 0.0)), G


def naive_se(y: np.ndarray, x: np.ndarray, row: dict, family: str) -> float | None:
    """Standard error of the arm mean treating units as independent (for the design effect shown)."""
    n = float(row.get("n") or 0)
    if n < 2:
        return None
    m = y.sum() / max(x.sum(), 1e-12)
    if family in ("binary", "time-to-event"):
        return math.sqrt(max(m * (1 - m), 0.0) / n)
    ss = row.get("sum_sq")
    if family in ("count", "continuous") and ss is not None and not (isinstance(ss, float) and math.isnan(ss)):
        s = float(row.get("sum") or 0)
        return math.sqrt(max((float(ss) - s * s / n) / (n - 1), 0.0) / n)
    return None


def clustered_draws(cells: pd.DataFrame, metric: str, family: str, rng, draws: int) -> tuple[np.ndarray, float, int]:
    """Draws of one arm's mean, ``m + se_CR2 t(G - 1)``; also the CR2 variance and G."""
    y, x = cluster_totals(cells, metric, family)
    m, se, G = cr2_mean(y, x)
    if not math.isfinite(se):
        return np.full(draws, np.nan), float("nan"), G
    return m + se * rng.standard_t(G - 1, draws), se * se, G
