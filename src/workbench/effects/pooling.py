"""Random-effects pooling of several effects (segments of one pilot, or several pilots).

A normal-normal random-effects model (BDA3 ch. 5), exact on a grid over the
between-group sd ``tau``::

    y_i | theta_i ~ N(theta_i, s_i^2)
    theta_i | mu, tau ~ N(mu, tau^2)
    mu ~ flat,   tau ~ HalfNormal(scale)

Given ``tau``, with ``w_i = 1 / (s_i^2 + tau^2)``,

    mu | tau, y ~ N(mu_hat, V_mu),  mu_hat = sum w_i y_i / sum w_i,  V_mu = 1 / sum w_i
    p(tau | y) ∝ p(tau) V_mu^{1/2} prod_i N(y_i | mu_hat, s_i^2 + tau^2)
    theta_i | tau, y ~ N((1 - B_i) y_i + B_i mu_hat, (1 - B_i) s_i^2 + B_i^2 V_mu),  B_i = s_i^2 / (s_i^2 + tau^2)
    theta_new | tau, y ~ N(mu_hat, V_mu + tau^2)

and every marginal is a mixture of normals over the grid weights.

The prior scale of ``tau`` is fixed before the effects are seen: by default the
median standard error of the effects pooled (a spread as large as one
pilot's own uncertainty is one prior sd), set by the design's precision and
never by the size of the effect; ``tau_scale`` sets it from domain knowledge.
A sensitivity block repeats the pooled mean at half and twice the scale, and
with two or three effects (or a posterior of tau no narrower than its prior)
the output says plainly that the spread is not identified by the data.

Used by segment pooling (:mod:`workbench.effects.segments`) and the meta-analysis of
pilots (:mod:`workbench.design.meta`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special, stats

GRID = 801
SENSITIVITY_GRID = 201
#: Multiples of the prior scale of tau shown in the sensitivity block.
SENSITIVITY_FACTORS = (0.5, 1.0, 2.0)
#: With this many effects or fewer the between-group spread is not identified, whatever the data.
FEW_EFFECTS = 3
#: The spread counts as not identified when its posterior sd is at least this share of its prior sd.
NOT_IDENTIFIED_SD_RATIO = 0.8


def _given_tau(y, s, tau):
    """mu_hat(tau), V_mu(tau) and the log marginal p(y | tau) (flat prior on mu), vectorised over tau."""
    tau = np.atleast_1d(np.asarray(tau, dtype=float))[:, None]
    v = s[None, :] ** 2 + tau**2
    w = 1 / v
    vmu = 1 / w.sum(axis=1)
    mu_hat = (w * y[None, :]).sum(axis=1) * vmu
    loglik = 0.5 * np.log(vmu) - 0.5 * (np.log(v) + (y[None, :] - mu_hat[:, None]) ** 2 / v).sum(axis=1)
    return mu_hat, vmu, loglik


def _mixture(means, sds, weights, level) -> dict:
    """Mean, sd and equal-tailed interval of a mixture of normals.

    With ``F(x) = sum_j w_j Phi((x - m_j) / s_j)`` the mixture's CDF, the interval
    is ``[F^-1((1 - level) / 2), F^-1((1 + level) / 2)]``, each quantile the root
    of ``F(x) - p`` found by Brent's method between ``min(m_j - 8 s_j)`` and
    ``max(m_j + 8 s_j)`` (exact to ``1e-12`` of that span, a few dozen CDF evaluations).
    """
    keep = weights > 1e-12 * weights.max()  # components with no mass cost time and memory, not accuracy
    means, sds, weights = means[keep], sds[keep], weights[keep] / weights[keep].sum()
    mean = float(np.sum(weights * means))
    var = float(np.sum(weights * (sds**2 + means**2)) - mean**2)
    sd = math.sqrt(max(var, 0.0))
    lo_x, hi_x = float(np.min(means - 8 * sds)), float(np.max(means + 8 * sds))
    if len(means) == 1 or not hi_x > lo_x:
        z = special.ndtri((1 + level) / 2)
        return {"mean": mean, "sd": sd, "interval": [mean - z * sd, mean + z * sd]}

    def cdf(x: float, p: float) -> float:
        # special.ndtr is norm.cdf without scipy.stats' argument checks, called a few dozen times per quantile
        return float(np.dot(weights, special.ndtr((x - means) / sds))) - p

    xtol = 1e-12 * (hi_x - lo_x)
    q = [optimize.brentq(cdf, lo_x, hi_x, args=(p,), xtol=xtol) for p in ((1 - level) / 2, (1 + level) / 2)]
    return {"mean": mean, "sd": sd, "interval": [float(q[0]), float(q[1])]}


def _posterior(y, s, scale: float, grid, level: float, sign: int):
    mu_hat, vmu, loglik = _given_tau(y, s, grid)
    logpost = loglik + stats.halfnorm.logpdf(grid, scale=scale)
    wts = np.exp(logpost - logpost.max())
    wts /= wts.sum()
    mu = _mixture(mu_hat, np.sqrt(vmu), wts, level)
    mu["prob_better"] = float(np.sum(wts * stats.norm.cdf(sign * mu_hat / np.sqrt(vmu))))
    return mu_hat, vmu, wts, mu


def pool(
    y,
    s,
    labels=None,
    higher_is_better: bool = True,
    level: float = 0.95,
    tau_scale: float | None = None,
    tau_grid=None,
    scale_name: str = "difference",
) -> dict:
    """Random-effects pooling of effects ``y`` with standard errors ``s`` (see the module docstring).

    ``tau_scale`` is the half-normal prior scale of the spread (default: the
    median of ``s``); ``tau_grid`` (optional) replaces the default grid
    ``[0, 8 scale]``, and a single value fixes ``tau`` and gives the
    closed-form conditional answer. ``scale_name`` names the scale of ``y``
    (``difference`` or ``log ratio``) in the output.
    """
    y, s = np.asarray(y, dtype=float), np.asarray(s, dtype=float)
    if len(y) < 2 or np.any(s <= 0):
        raise ValueError("need at least two pilots with positive standard errors")
    labels = list(labels) if labels is not None else [f"pilot{i + 1}" for i in range(len(y))]
    fixed = float(np.sum(y / s**2) / np.sum(1 / s**2))
    fixed_sd = float(np.sum(1 / s**2) ** -0.5)
    given = bool(tau_scale)
    scale = float(tau_scale) if given else float(np.median(s))
    basis = (
        "given (tau_scale)" if given else "default: the median standard error of the effects (fixed by the design's precision)"
    )
    grid = np.linspace(0.0, 8 * scale, GRID) if tau_grid is None else np.atleast_1d(np.asarray(tau_grid, float))
    sign = 1 if higher_is_better else -1
    mu_hat, vmu, wts, mu = _posterior(y, s, scale, grid, level, sign)
    new = _mixture(mu_hat, np.sqrt(vmu + grid**2), wts, level)
    new["prob_better"] = float(np.sum(wts * stats.norm.cdf(sign * mu_hat / np.sqrt(vmu + grid**2))))
    cdf = np.cumsum(wts)
    tau_mean = float(np.sum(wts * grid))
    tau_sd = math.sqrt(max(float(np.sum(wts * grid**2)) - tau_mean**2, 0.0))
    prior_sd = scale * math.sqrt(1 - 2 / math.pi)  # sd of HalfNormal(scale)
    identified = len(y) > FEW_EFFECTS and (len(grid) == 1 or tau_sd < NOT_IDENTIFIED_SD_RATIO * prior_sd)
    tau = {
        "mean": tau_mean,
        "median": float(np.interp(0.5, cdf, grid)),
        "interval": [float(np.interp((1 - level) / 2, cdf, grid)), float(np.interp((1 + level) / 2, cdf, grid))],
        "prior": {"family": "half-normal", "scale": scale, "basis": basis, "on": scale_name},
        "identified": bool(identified),
    }
    if not identified:
        tau["statement"] = (
            f"the spread between the {len(y)} effects is not identified by the data: its posterior "
            f"(sd {tau_sd:.3g}) is about its half-normal prior (sd {prior_sd:.3g}); the pooled interval "
            "leans on that prior, see 'sensitivity'"
        )
    sensitivity = []
    if tau_grid is None:
        for f in SENSITIVITY_FACTORS:
            if f == 1.0:
                sensitivity.append({"tau_scale": scale, "mu": mu})
                continue
            g = np.linspace(0.0, 8 * scale * f, SENSITIVITY_GRID)  # a coarser grid: a summary line, not the answer
            sensitivity.append({"tau_scale": scale * f, "mu": _posterior(y, s, scale * f, g, level, sign)[3]})
    pilots = []
    for i, lab in enumerate(labels):
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(grid > 0, s[i] ** 2 / (s[i] ** 2 + grid**2), 1.0)
        th = _mixture((1 - b) * y[i] + b * mu_hat, np.sqrt((1 - b) * s[i] ** 2 + b**2 * vmu), wts, level)
        pilots.append({"pilot": lab, "observed": float(y[i]), "se": float(s[i]), "shrunken": th})
    z = stats.norm.ppf((1 + level) / 2)
    return {
        "model": "normal-normal random effects, exact on a tau grid (BDA3 ch. 5)",
        "level": level,
        "scale": scale_name,
        "pilots_pooled": len(y),
        "fixed_effect_mean": fixed,
        "fixed_effect": {"mean": fixed, "sd": fixed_sd, "interval": [float(fixed - z * fixed_sd), float(fixed + z * fixed_sd)]},
        "mu": mu,
        "tau": tau,
        "sensitivity": sensitivity,
        "theta_new": new,
        "pilots": pilots,
        "higher_is_better": higher_is_better,
        "mu_prior": "flat",
    }
