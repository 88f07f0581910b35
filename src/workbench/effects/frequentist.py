"""The frequentist cross-check beside each Bayesian effect (statsmodels).

From the same sufficient statistics: a binomial GLM with cluster-robust
standard errors by agent when per-agent cells exist (else the two-proportion
Newcombe interval), a Poisson rate comparison for counts, and Welch's
difference of means (or a delta-method ratio) otherwise. Only the difference
treatment - control and its interval at the run's level are reported, with a
two-sided p-value, so it reads beside the Bayesian difference. Under agent
randomization every family uses :func:`cluster_robust` (CR2 errors by agent,
t with G - 2 degrees of freedom).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

# statsmodels' parts, not statsmodels.api (which loads the formula and graphics stacks: 1-2 s per process)
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep
from statsmodels.stats.rates import confint_poisson_2indep, test_poisson_2indep
from statsmodels.tools.tools import add_constant

from workbench.effects.clusters import cluster_totals, cr2_mean


def _row(method: str, diff: float, lo: float, hi: float, p: float | None, **extra) -> dict:
    out = {
        "method": method,
        "difference": float(diff),
        "interval": [float(lo), float(hi)],
        "p_value": None if p is None else float(p),
    }
    out.update(extra)
    return out


def binary(c: dict, t: dict, level: float, cells: pd.DataFrame | None = None) -> dict:
    """Difference in shares; GLM (binomial, identity-free) cluster-robust by agent when cells are given.

    With agent cells the GLM is logit(p) = b0 + b1 treatment on grouped
    (successes, failures) rows, covariance clustered by agent (the score is
    additive, so grouped rows give the account-level sandwich); the difference
    and its interval come from the delta method on the fitted shares.
    """

    nc, sc, nt, st = c["n"], c["successes"], t["n"], t["successes"]
    if cells is not None and cells["agent_id"].nunique() >= 4:
        g = cells[cells["n"] > 0]
        endog = np.column_stack([g["successes"], g["n"] - g["successes"]]).astype(float)
        x = add_constant((g["arm"] == t["arm"]).astype(float).to_numpy())
        groups = pd.factorize(g["agent_id"])[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = GLM(endog, x, family=families.Binomial()).fit(cov_type="cluster", cov_kwds={"groups": groups})
        b = res.params
        cov = res.cov_params()
        pc, pt = 1 / (1 + math.exp(-b[0])), 1 / (1 + math.exp(-(b[0] + b[1])))
        grad = np.array([pt * (1 - pt) - pc * (1 - pc), pt * (1 - pt)])
        se = math.sqrt(max(grad @ cov @ grad, 0.0))
        z = stats.norm.ppf((1 + level) / 2)
        d = pt - pc
        return _row(
            "glm_binomial_cluster_robust_by_agent", d, d - z * se, d + z * se, float(res.pvalues[1]), clusters=len(set(groups))
        )
    if min(nc, nt) == 0:
        return _row("none", float("nan"), float("nan"), float("nan"), None)
    lo, hi = confint_proportions_2indep(st, nt, sc, nc, method="newcomb", compare="diff", alpha=1 - level)
    p = test_proportions_2indep(st, nt, sc, nc, method="wald", compare="diff").pvalue
    return _row("two_proportions_newcombe", st / nt - sc / nc, lo, hi, p)


def cluster_robust(metric: str, family: str, control: str, arm: str, cells: pd.DataFrame, level: float) -> dict:
    """Difference of arm means under agent randomization: CR2 errors per arm, t with G - 2 df.

    Agents are nested in arms, so the regression of the outcome on a treatment
    dummy with errors clustered by agent reduces to two ratios of per-agent
    totals, each with the CR2 variance of :mod:`workbench.effects.clusters`;
    se = sqrt(v_c + v_t), reference t(G_c + G_t - 2) (small-sample, as
    Bell and McCaffrey recommend over CR0 with normal quantiles).
    """
    parts = [cr2_mean(*cluster_totals(cells[cells["arm"] == a], metric, family)) for a in (control, arm)]
    (m0, s0, g0), (m1, s1, g1) = parts
    if not all(math.isfinite(v) for v in (m0, s0, m1, s1)):
        return _row("none", float("nan"), float("nan"), float("nan"), None, clusters=g0 + g1)
    d, se, df = m1 - m0, math.sqrt(s0 * s0 + s1 * s1), max(g0 + g1 - 2, 1)
    q = stats.t.ppf((1 + level) / 2, df)
    p = float(2 * stats.t.sf(abs(d) / se, df)) if se > 0 else None
    return _row("cr2_cluster_robust_t_by_agent", d, d - q * se, d + q * se, p, clusters=g0 + g1, df=df)


def count(c: dict, t: dict, level: float) -> dict:
    """Rate difference per account (Poisson, exposure = accounts), Wald interval and score test."""

    if min(c["n"], t["n"]) == 0:
        return _row("none", float("nan"), float("nan"), float("nan"), None)
    phi = [float(r.get("dispersion") or float("nan")) for r in (c, t)]
    if all(math.isfinite(f) and f > 0 for f in phi):
        # Dispersion given with summary counts: quasi-Poisson Wald, var(rate) = phi y / n^2.
        d = t["sum"] / t["n"] - c["sum"] / c["n"]
        se = math.sqrt(phi[1] * t["sum"] / t["n"] ** 2 + phi[0] * c["sum"] / c["n"] ** 2)
        z = stats.norm.ppf((1 + level) / 2)
        p = 2 * stats.norm.sf(abs(d) / se) if se > 0 else None
        return _row("quasi_poisson_rate_difference", d, d - z * se, d + z * se, p, dispersion=phi)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # A zero count in an arm makes statsmodels divide by zero; the p-value is then NaN (null in JSON).
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = confint_poisson_2indep(t["sum"], t["n"], c["sum"], c["n"], method="wald", compare="diff", alpha=1 - level)
        p = test_poisson_2indep(t["sum"], t["n"], c["sum"], c["n"], method="score", compare="ratio").pvalue
    return _row("poisson_rate_difference", t["sum"] / t["n"] - c["sum"] / c["n"], lo, hi, p)


def means(c: dict, t: dict, level: float) -> dict:
    """Welch's difference of means from n, sum, sum of squares."""

    def mv(r):
        n, s, ss = r["n"], r["sum"], r["sum_sq"]
        return n, s / n, max((ss - s * s / n) / (n - 1), 0.0)

    if min(c["n"], t["n"]) < 2:
        return _row("none", float("nan"), float("nan"), float("nan"), None)
    n1, m1, v1 = mv(t)
    n0, m0, v0 = mv(c)
    se2 = v1 / n1 + v0 / n0
    if se2 == 0:
        return _row("welch_t", m1 - m0, m1 - m0, m1 - m0, None)
    df = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v0 / n0) ** 2 / (n0 - 1))
    q = stats.t.ppf((1 + level) / 2, df)
    d = m1 - m0
    p = 2 * stats.t.sf(abs(d) / math.sqrt(se2), df)
    return _row("welch_t", d, d - q * math.sqrt(se2), d + q * math.sqrt(se2), p)


def ratio_of_totals(c: dict, t: dict, level: float) -> dict:
    """Difference of two ratios of totals, delta-method standard errors, normal interval."""

    def rv(r):
        n = r["n"]
        sy, syy, sx, sxx, sxy = r["sum"], r["sum_sq"], r["denom"], r["denom_sq"], r["cross"]
        R = sy / sx
        xbar = sx / n
        cyy, cxx, cxy = ((syy - sy * sy / n), (sxx - sx * sx / n), (sxy - sx * sy / n))
        var = max(cyy - 2 * R * cxy + R * R * cxx, 0.0) / (n - 1) / (n * xbar * xbar)
        return R, var

    if min(c["n"], t["n"]) < 2 or min(c["denom"], t["denom"]) <= 0:
        return _row("none", float("nan"), float("nan"), float("nan"), None)
    r1, v1 = rv(t)
    r0, v0 = rv(c)
    se = math.sqrt(v1 + v0)
    z = stats.norm.ppf((1 + level) / 2)
    d = r1 - r0
    p = 2 * stats.norm.sf(abs(d) / se) if se > 0 else None
    return _row("ratio_of_totals_delta", d, d - z * se, d + z * se, p)


def ordinal_mean(c: dict, t: dict, level: float, categories: list[int], weights: np.ndarray) -> dict:
    """Welch's difference of the scored categories (mean score, or NPS with +1/0/-1 scores)."""

    def as_means(r):
        counts = np.array([float(r.get(f"cat_{k}", 0) or 0) for k in categories])
        n = counts.sum()
        return {"n": n, "sum": float(counts @ weights), "sum_sq": float(counts @ (weights**2))}

    return means(as_means(c), as_means(t), level)
