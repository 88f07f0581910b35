"""Pre-period covariate adjustment (CUPED) from sufficient statistics.

With per-arm sums of the outcome y, the covariate c (``prior_paid`` by default),
their squares and the cross product c*y, the CUPED estimator of each arm's mean
is ``ybar_a - theta (cbar_a - cbar)`` with the pooled within-arm slope
``theta = S_cy / S_cc``. Its variance is ``var(y) (1 - rho^2) / n_a``; the
share of variance removed, ``rho^2``, is reported as the reduction it bought.
"""

from __future__ import annotations

import math

from scipy import stats


def _centered(r: dict) -> tuple[float, float, float, float, float, float]:
    n = r["cov_n"]
    sy, syy = r["sum"], r["sum_sq"]
    sc, scc, scy = r["cov_sum"], r["cov_sum_sq"], r["cov_cross"]
    return n, sy / n, sc / n, syy - sy * sy / n, scc - sc * sc / n, scy - sc * sy / n


def adjusted_difference(c: dict, t: dict, level: float) -> dict | None:
    """CUPED difference treatment - control with its interval and the variance reduction.

    Returns ``None`` when the covariate statistics are missing, when the
    covariate is not known for every unit (``cov_n != n``), or when it has no
    variance.
    """
    keys = ("cov_n", "cov_sum", "cov_sum_sq", "cov_cross", "sum", "sum_sq", "n")
    for r in (c, t):
        if any(r.get(k) is None or (isinstance(r.get(k), float) and math.isnan(r.get(k))) for k in keys):
            return None
        if r["cov_n"] != r["n"] or r["n"] < 3:
            return None
    n0, y0, c0, Syy0, Scc0, Scy0 = _centered(c)
    n1, y1, c1, Syy1, Scc1, Scy1 = _centered(t)
    Scc, Scy, Syy = Scc0 + Scc1, Scy0 + Scy1, Syy0 + Syy1
    if Scc <= 0 or Syy <= 0:
        return None
    theta = Scy / Scc
    cbar = (n0 * c0 + n1 * c1) / (n0 + n1)
    adj0, adj1 = y0 - theta * (c0 - cbar), y1 - theta * (c1 - cbar)
    rho2 = min(Scy * Scy / (Scc * Syy), 1.0)
    v0 = Syy0 / (n0 - 1) * (1 - rho2) / n0
    v1 = Syy1 / (n1 - 1) * (1 - rho2) / n1
    se = math.sqrt(v0 + v1)
    z = stats.norm.ppf((1 + level) / 2)
    d = adj1 - adj0
    return {
        "method": "cuped_pooled_slope",
        "theta": theta,
        "difference": {"mean": d, "interval": [d - z * se, d + z * se]},
        "control_mean": adj0,
        "treatment_mean": adj1,
        "variance_reduction": rho2,
    }
