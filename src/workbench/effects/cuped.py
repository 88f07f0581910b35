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

from workbench.effects import compare as effects


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


# --- CUPED in the decision --------------------------------------------------------

#: The stated minimum share of the effect's variance CUPED must remove before the
#: verdict uses the adjusted effect: below it the adjustment buys nothing worth a
#: second analysis path (binary outcomes gain about 0.5% from prior_paid).
MIN_VARIANCE_REDUCTION = 0.01
#: Models whose unit is the account the covariate sums are taken over (contacts nested in accounts are not).
MODELS = ("beta_binomial", "gamma_poisson", "normal_mean_jeffreys", "ratio_of_totals_delta_normal")
COVARIATE = "prior_paid"  # the pre-period covariate whose sums metrics.stats computes (cov_*)
_KEYS = ("cov_n", "cov_sum", "cov_sum_sq", "cov_cross", "sum", "sum_sq", "n")


def _usable(r: dict, keys=_KEYS) -> bool:
    for k in keys:
        v = r.get(k)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return False
    return r["cov_n"] == r["n"] and r["n"] >= 3


def _linearized(r: dict, ratio: bool) -> tuple[float, float, float, float, float, float]:
    """(n, estimate, cbar, S_LL, S_cc, S_Lc): centred sums of the (linearized) outcome L and the covariate c.

    Mean: ``L = y``. Ratio of totals ``R = sum y / sum x``: the linearization
    ``L = (y - R x) / xbar`` (the delta method's influence function), so
    ``S_LL = (S_yy - 2 R S_xy + R^2 S_xx) / xbar^2`` and
    ``S_Lc = (S_yc - R S_xc) / xbar``, all from the arm's sums.
    """
    n = float(r["n"])
    sy, syy, sc, scc, scy = (float(r[k]) for k in ("sum", "sum_sq", "cov_sum", "cov_sum_sq", "cov_cross"))
    Syy, Scc, Syc = syy - sy * sy / n, scc - sc * sc / n, scy - sc * sy / n
    if not ratio:
        return n, sy / n, sc / n, Syy, Scc, Syc
    sx, sxx, sxy, scx = (float(r[k]) for k in ("denom", "denom_sq", "cross", "cov_cross_denom"))
    Sxx, Sxy, Sxc = sxx - sx * sx / n, sxy - sx * sy / n, scx - sc * sx / n
    R, xbar = sy / sx, sx / n
    return n, R, sc / n, (Syy - 2 * R * Sxy + R * R * Sxx) / xbar**2, Scc, (Syc - R * Sxc) / xbar


def adjusted_effect(c: dict, t: dict, level: float, ratio: bool = False, design_effect: float = 1.0) -> dict | None:
    """CUPED effect (treatment - control) of a mean or a ratio of totals, with each arm's adjusted variance.

    Pooled within-arm slope ``theta = (S_Lc,0 + S_Lc,1) / (S_cc,0 + S_cc,1)``;
    adjusted arm estimate ``m_a - theta (cbar_a - cbar)``; its variance
    ``(S_LL,a - 2 theta S_Lc,a + theta^2 S_cc,a) / ((n_a - 1) n_a)``. The variance
    reduction is ``1 - var(adjusted difference) / var(unadjusted difference)``.
    ``None`` when the covariate sums are missing, not complete (``cov_n != n``),
    or without variance. Both variances are multiplied by ``design_effect``
    (clustered outcomes), so the reduction is unchanged by it.
    """
    keys = _KEYS + (("denom", "denom_sq", "cross", "cov_cross_denom") if ratio else ())
    if not (_usable(c, keys) and _usable(t, keys)) or (ratio and min(float(c["denom"]), float(t["denom"])) <= 0):
        return None
    arms = [_linearized(r, ratio) for r in (c, t)]
    Scc, Slc = sum(a[4] for a in arms), sum(a[5] for a in arms)
    if Scc <= 0 or min(a[3] for a in arms) <= 0:
        return None
    theta = Slc / Scc
    cbar = sum(a[0] * a[2] for a in arms) / sum(a[0] for a in arms)
    est = [m - theta * (cb - cbar) for (_, m, cb, *_) in arms]
    var = [design_effect * max(a[3] - 2 * theta * a[5] + theta**2 * a[4], 0.0) / ((a[0] - 1) * a[0]) for a in arms]
    raw = [design_effect * a[3] / ((a[0] - 1) * a[0]) for a in arms]
    se = math.sqrt(sum(var))
    z = stats.norm.ppf((1 + level) / 2)
    d = est[1] - est[0]
    return {
        "method": "cuped_linearized_ratio" if ratio else "cuped_pooled_slope",
        "covariate": COVARIATE,
        "theta": theta,
        "difference": {"mean": d, "interval": [float(d - z * se), float(d + z * se)]},
        "control_mean": est[0],
        "treatment_mean": est[1],
        "arm_sd": [math.sqrt(v) for v in var],
        "unadjusted_difference": arms[1][1] - arms[0][1],
        "variance_reduction": 1 - sum(var) / sum(raw) if sum(raw) > 0 else 0.0,
    }


def into_decision(
    res: dict,
    family: str,
    c: dict,
    t: dict,
    cd,
    td,
    *,
    level: float,
    rng,
    higher_is_better,
    metric: str,
    design_effect: float = 1.0,
):
    """Feed the CUPED-adjusted effect into ``res`` when it removes at least :data:`MIN_VARIANCE_REDUCTION`.

    Means (binary, count, continuous) and ratios of totals (recovery, via the
    linearized ratio). ``res["adjusted"]`` always carries the adjustment and
    ``used_in_decision``; when used, the effect, P(better) (exact, normal
    posteriors of the adjusted arm means) and the losses in ``res`` become the
    adjusted ones, the unadjusted ones move to ``res["unadjusted"]``, and
    ``res["effect_basis"]`` says so. Returns the arm draws the verdict should
    read: normal draws of the adjusted arm means, or ``cd, td`` unchanged.
    """
    if family not in ("binary", "count", "continuous", "ratio"):
        return cd, td
    adj = adjusted_effect(c, t, level, ratio=family == "ratio", design_effect=design_effect)
    if adj is None:
        return cd, td
    res["adjusted"] = adj
    red = adj["variance_reduction"]
    adj["minimum_variance_reduction"] = MIN_VARIANCE_REDUCTION
    adj["used_in_decision"] = bool(red >= MIN_VARIANCE_REDUCTION)
    if not adj["used_in_decision"]:
        adj["note"] = f"removes {red:.1%} of the variance, under the stated minimum {MIN_VARIANCE_REDUCTION:.0%}: shown, not used"
        return cd, td
    n = len(cd)
    ac = adj["control_mean"] + adj["arm_sd"][0] * rng.standard_normal(n)
    at = adj["treatment_mean"] + adj["arm_sd"][1] * rng.standard_normal(n)
    new = effects.compare(ac, at, higher_is_better=higher_is_better, level=level, rope=res["rope"], metric=metric)
    new.update(
        effects.exact_probabilities(
            "norm",
            (adj["control_mean"], adj["arm_sd"][0]),
            (adj["treatment_mean"], adj["arm_sd"][1]),
            higher_is_better=higher_is_better,
        )
    )
    keys = (
        "effect",
        "prob_better",
        "prob_better_method",
        "prob_better_mc_se",
        "expected_loss",
        "expected_loss_control",
        "prob_rope",
    )
    res["unadjusted"] = {k: res[k] for k in keys if k in res}
    res.update({k: new[k] for k in keys})
    res["effect_basis"] = (
        f"CUPED-adjusted on {COVARIATE} (removes {red:.1%} of the variance; the unadjusted effect is in 'unadjusted')"
    )
    return ac, at
