"""Effects from posterior draws of each arm's marginal mean, direction-aware.

Every model of the engine ends in draws of the arms' means in the metric's own
unit; this module turns a (control, treatment) pair of draws into the numbers
of the results format (DESIGN.md): difference, ratio and relative lift with
equal-tailed intervals, P(better), expected loss and P(inside the region of
practical equivalence).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from workbench.defaults import DEFAULT_LEVEL, DEFAULT_ROPE, DEFAULT_ROPE_RELATIVE, default_rope
from workbench.metrics.catalogue import ORDINAL_QUANTITY
from workbench.models import conjugate

# Sceptical prior for the sensitivity line: the effect ~ Normal(0, sd) with
# sd = 5% of the control mean, so a lift beyond +-10% is a two-sigma surprise.
SCEPTICAL_RELATIVE_SD = 0.05


def interval(draws: np.ndarray, level: float = DEFAULT_LEVEL) -> list[float]:
    """Equal-tailed interval ``[q((1-level)/2), q((1+level)/2)]`` of the draws."""
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return [float(lo), float(hi)]


def _summary(draws: np.ndarray, level: float) -> dict:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return {"mean": None, "median": None, "interval": [None, None]}
    # median and interval from one partition of the draws (np.median would sort them a second time)
    med, lo, hi = np.quantile(draws, [0.5, (1 - level) / 2, (1 + level) / 2])
    return {"mean": float(np.mean(draws)), "median": float(med), "interval": [float(lo), float(hi)]}


def sign_of_better(higher_is_better: bool | None) -> int:
    """+1 when an increase is better, -1 when a decrease is; +1 (increase) when neutral."""
    return -1 if higher_is_better is False else 1


def compare(
    control: np.ndarray,
    treatment: np.ndarray,
    *,
    higher_is_better: bool | None,
    level: float = DEFAULT_LEVEL,
    rope: float | None = None,
    metric: str | None = None,
) -> dict:
    """Effect of treatment against control from paired posterior draws.

    Parameters
    ----------
    control, treatment : draws of each arm's mean (same length, independent or
        jointly drawn).
    higher_is_better : metric direction; ``None`` reports P(increase).
    level : interval level, written into the output.
    rope : half-width of the region of practical equivalence in the metric's
        unit; default :func:`workbench.defaults.default_rope` of ``metric``
        (``DEFAULT_ROPE_RELATIVE * |mean(control)|`` for an unknown metric).
    metric : the metric's name, for its default region.

    Returns
    -------
    dict with ``effect.difference`` (t - c), ``effect.ratio`` (t / c) and
    ``effect.relative_lift`` (t / c - 1), each ``mean``, ``median``,
    ``interval``; ``prob_better`` = P(s (t - c) > 0) with s the direction sign;
    ``expected_loss`` = E[max(0, -s (t - c))], the expected shortfall in the
    metric's unit if treatment is chosen; ``expected_loss_control`` =
    E[max(0, s (t - c))], the shortfall if control is kept; ``prob_rope`` =
    P(|t - c| < rope); ``rope_source`` says where the rope came from.
    """
    control = np.asarray(control, dtype=float)
    treatment = np.asarray(treatment, dtype=float)
    s = sign_of_better(higher_is_better)
    diff = treatment - control
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = treatment / control
    source = "pilot.yml rope"
    if rope is None:
        rope = default_rope(metric or "", float(np.mean(control)))
        kind, x = DEFAULT_ROPE.get(metric or "", ("relative", DEFAULT_ROPE_RELATIVE))
        source = f"default (assumption): {x:g} x the control mean" if kind == "relative" else f"default (assumption): {x:g}"
    n = int(np.isfinite(diff).sum())
    pb = float(np.mean(s * diff > 0))
    effect = {"difference": _summary(diff, level), **_relative(control, treatment, ratio, level)}
    if ORDINAL_QUANTITY.get(metric or "") == "nps":
        # NPS is a signed share (-1..1) here; the field speaks in points (-100..100).
        effect["difference_points"] = {
            k: (None if v is None else [None if x is None else 100 * x for x in v] if isinstance(v, list) else 100 * v)
            for k, v in effect["difference"].items()
        }
        effect["difference_points"]["unit"] = "NPS points (-100 to 100)"
    return {
        "effect": effect,
        "level": level,
        "prob_better": pb,
        "prob_better_method": f"Monte Carlo over {n:,} independent draws",
        "prob_better_mc_se": math.sqrt(pb * (1 - pb) / n) if n else None,
        "expected_loss": float(np.mean(np.maximum(0.0, -s * diff))),
        "expected_loss_control": float(np.mean(np.maximum(0.0, s * diff))),
        "prob_rope": float(np.mean(np.abs(diff) < rope)),
        "rope": float(rope),
        "rope_source": source,
        "direction": {True: "higher is better", False: "lower is better", None: "no direction (P(increase) shown)"}[
            higher_is_better
        ],
    }


def _relative(control: np.ndarray, treatment: np.ndarray, ratio: np.ndarray, level: float) -> dict:
    """Ratio and relative lift, with the headline summary stated; none when the control may be <= 0.

    The headline of the lift is the ratio of the posterior means minus one,
    ``E[t] / E[c] - 1`` (:data:`LIFT_HEADLINE`), everywhere; ``mean`` (of
    ``t / c - 1`` over draws) and ``median`` stay beside it. When the control's
    equal-tailed interval reaches zero or below (a signed metric such as NPS,
    or a rate near zero) a ratio has no meaning and flips sign: both are null,
    with the reason.
    """
    finite = control[np.isfinite(control)]
    lo_c = float(np.quantile(finite, (1 - level) / 2)) if finite.size else None
    if lo_c is None or lo_c <= 0:
        none = {
            "mean": None,
            "median": None,
            "interval": [None, None],
            "headline": None,
            "headline_summary": LIFT_HEADLINE,
            "note": "no relative lift: the control's interval reaches zero or below, so a ratio has no meaning",
        }
        return {"ratio": dict(none), "relative_lift": dict(none)}
    rom = float(np.mean(treatment) / np.mean(control))
    r = _summary(ratio, level)
    # t / c - 1 is the ratio shifted: its mean and quantiles are the ratio's minus one (no second partition)
    lift = {
        "mean": None if r["mean"] is None else r["mean"] - 1,
        "median": None if r["median"] is None else r["median"] - 1,
        "interval": [None if x is None else x - 1 for x in r["interval"]],
    }
    r.update(headline=rom, headline_summary=LIFT_HEADLINE)
    lift.update(headline=rom - 1, headline_summary=LIFT_HEADLINE)
    return {"ratio": r, "relative_lift": lift}


def prob_harm(control: np.ndarray, treatment: np.ndarray, *, higher_is_better: bool | None, margin: float) -> float:
    """P(treatment is worse than control by more than ``margin``), in the metric's unit.

    For a metric without a direction (handle time), harm is an increase: a
    longer contact costs money.
    """
    k = harm_sign(higher_is_better)
    return float(np.mean(k * (np.asarray(treatment) - np.asarray(control)) > margin))


def harm_sign(higher_is_better: bool | None) -> int:
    """+1 when harm is an increase (lower is better, or no direction: a longer contact costs money), else -1."""
    return 1 if higher_is_better is None else -sign_of_better(higher_is_better)


def harm_summary(control: np.ndarray, treatment: np.ndarray, *, higher_is_better: bool | None, level: float) -> dict:
    """The difference turned toward harm, ``h = k (t - c)`` with k = :func:`harm_sign`.

    Returns its ``mean``, ``sd`` and equal-tailed ``interval`` at ``level``, so a
    guardrail's state can be read off against its margin: harm beyond the margin
    is ``h > margin``.
    """
    h = harm_sign(higher_is_better) * (np.asarray(treatment, dtype=float) - np.asarray(control, dtype=float))
    h = h[np.isfinite(h)]
    return {"mean": float(np.mean(h)), "sd": float(np.std(h)), "interval": interval(h, level)}


def sceptical(
    control: np.ndarray, treatment: np.ndarray, *, higher_is_better: bool | None, level: float, floor: float | None = None
) -> dict:
    """The effect under a sceptical prior, for the sensitivity line.

    The posterior of the difference is approximated as Normal(d, v) (its draws'
    mean and variance, i.e. the likelihood under the default prior) and combined
    with the sceptical prior Normal(0, v0)::

        mean = d v0 / (v0 + v),  var = v v0 / (v0 + v)

    ``sqrt(v0) = max(SCEPTICAL_RELATIVE_SD * |mean(control)|, floor)``: 5% of the
    control mean, but never under ``floor`` (the region of practical
    equivalence, in the metric's unit), so the prior keeps a meaning for a
    signed or near-zero metric such as NPS. ``prior_basis`` says which applied.
    """

    diff = np.asarray(treatment) - np.asarray(control)
    d, v = float(np.mean(diff)), float(np.var(diff))
    rel = SCEPTICAL_RELATIVE_SD * abs(float(np.mean(control)))
    sd0, basis = rel, f"{SCEPTICAL_RELATIVE_SD:g} x |control mean|"
    if floor is not None and floor > rel:
        sd0, basis = float(floor), "the region of practical equivalence (5% of the control mean is smaller)"
    if sd0 == 0 or v == 0:
        return {"prior": "sceptical", "prior_sd": sd0, "prior_basis": basis, "difference": None, "prob_better": None}
    v0 = sd0**2
    m, var = d * v0 / (v0 + v), v * v0 / (v0 + v)
    z = stats.norm.ppf([(1 - level) / 2, (1 + level) / 2])
    s = sign_of_better(higher_is_better)
    return {
        "prior": "sceptical",
        "prior_sd": sd0,
        "prior_basis": basis,
        "difference": {"mean": m, "interval": [float(m + z[0] * var**0.5), float(m + z[1] * var**0.5)]},
        "prob_better": float(stats.norm.sf(0, loc=s * m, scale=var**0.5)),
    }


# --- exact probabilities ------------------------------------------------------------

#: Quadrature of :func:`exact_probabilities`: panels between quantiles, Gauss-Legendre nodes per panel.
_PANELS = 48
_PANEL_NODES = 12
#: Monte-Carlo standard error of P(better) the draws must reach where no exact answer exists.
PROB_BETTER_TOLERANCE = 0.001
#: Which summary of the relative lift is the headline, everywhere.
LIFT_HEADLINE = "ratio of means"


class _Bound:
    """A scipy distribution with its parameters bound: what ``stats.beta(a, b)`` gives, without its cost.

    Freezing a scipy distribution builds a new distribution object (about a
    millisecond each, two per comparison); this only keeps the arguments, so
    every method returns exactly what the frozen distribution's would.
    """

    def __init__(self, dist, *args, **kwds):
        self.dist, self.args, self.kwds = dist, args, kwds

    def ppf(self, q):
        return self.dist.ppf(q, *self.args, **self.kwds)

    def cdf(self, x):
        return self.dist.cdf(x, *self.args, **self.kwds)

    def sf(self, x):
        return self.dist.sf(x, *self.args, **self.kwds)

    def pdf(self, x):
        return self.dist.pdf(x, *self.args, **self.kwds)

    def mean(self):
        return self.dist.mean(*self.args, **self.kwds)

    def rvs(self, size=None, random_state=None):
        return self.dist.rvs(*self.args, size=size, random_state=random_state, **self.kwds)


def _dist(kind: str, params: tuple) -> _Bound:
    """An arm's posterior of its mean: beta(a, b), gamma(shape, rate), t(df, loc, scale), norm(loc, scale)."""
    if kind == "beta":
        return _Bound(stats.beta, *params)
    if kind == "gamma":
        return _Bound(stats.gamma, params[0], scale=1.0 / params[1])
    if kind == "t":
        return _Bound(stats.t, params[0], loc=params[1], scale=params[2])
    if kind == "norm":
        return _Bound(stats.norm, loc=params[0], scale=params[1])
    raise ValueError(f"unknown posterior kind {kind!r}")


def _upper_partial(kind: str, params: tuple, y: np.ndarray) -> np.ndarray:
    """E[X; X > y] in closed form.

    beta(a, b): ``a/(a+b) sf_{beta(a+1, b)}(y)``; gamma(k, rate r): ``k/r sf_{gamma(k+1, r)}(y)``;
    t(nu, m, s): ``m sf(y) + s (nu + z^2) / (nu - 1) pdf_t(z)``, z = (y - m) / s;
    normal(m, s): ``m sf(y) + s pdf(z)``.
    """
    if kind == "beta":
        a, b = params
        return a / (a + b) * stats.beta.sf(y, a + 1, b)
    if kind == "gamma":
        k, r = params
        return k / r * stats.gamma.sf(y, k + 1, scale=1.0 / r)
    if kind == "t":
        nu, m, s = params
        z = (y - m) / s
        return m * stats.t.sf(z, nu) + s * (nu + z * z) / (nu - 1) * stats.t.pdf(z, nu)
    m, s = params
    z = (y - m) / s
    return m * stats.norm.sf(z) + s * stats.norm.pdf(z)


def _nodes(dist) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes and weights for E[g(Y)], Y ~ ``dist``: Gauss-Legendre on value-space panels.

    Panel ends are the quantiles at normal scores -8..8 (:data:`_PANELS` + 1
    of them, so only that many quantile calls); on each panel
    :data:`_PANEL_NODES` Gauss-Legendre nodes weighted by the density. The mass
    left outside is under 1e-15.
    """
    knots = dist.ppf(stats.norm.cdf(np.linspace(-8.0, 8.0, _PANELS + 1)))
    knots = np.unique(knots[np.isfinite(knots)])
    x, w = np.polynomial.legendre.leggauss(_PANEL_NODES)
    a, b = knots[:-1, None], knots[1:, None]
    y = ((b - a) / 2 * x[None, :] + (a + b) / 2).ravel()
    wy = ((b - a) / 2 * w[None, :]).ravel() * dist.pdf(y)
    return y, wy / wy.sum()  # renormalised: the mass outside the panels is negligible


def exact_probabilities(kind: str, control: tuple, treatment: tuple, *, higher_is_better: bool | None) -> dict:
    """P(better) and both expected losses of two independent arm posteriors, by quadrature.

    With ``F_c`` the control's CDF and the expectation over the treatment's
    posterior taken by Gauss-Legendre quadrature (:func:`_nodes`)::

        P(t > c)          = E_t[F_c(t)]
        E[max(0, c - t)]  = E_t[E[c; c > t] - t (1 - F_c(t))]
        E[max(0, t - c)]  = E[t] - E[c] + E[max(0, c - t)]

    with ``E[c; c > y]`` in closed form (:func:`_upper_partial`). Accurate to
    about 1e-6 for the Beta, Gamma, Student-t and normal posteriors of this
    engine, whatever the seed or the metric's name.
    """
    if kind == "t" and min(control[0], treatment[0]) <= 1:
        raise ValueError("t posteriors need more than 1 degree of freedom for an expected loss")
    dc, dt = _dist(kind, control), _dist(kind, treatment)
    y, w = _nodes(dt)
    p_up = float(np.sum(w * dc.cdf(y)))  # P(t > c)
    loss_down = max(float(np.sum(w * (_upper_partial(kind, control, y) - y * dc.sf(y)))), 0.0)  # E[max(0, c - t)]
    loss_up = max(float(dt.mean() - dc.mean()) + loss_down, 0.0)  # E[max(0, t - c)]
    s = sign_of_better(higher_is_better)
    return {
        "prob_better": p_up if s > 0 else 1 - p_up,
        "expected_loss": loss_down if s > 0 else loss_up,
        "expected_loss_control": loss_up if s > 0 else loss_down,
        "prob_better_method": f"exact: Gauss-Legendre quadrature ({_PANELS} x {_PANEL_NODES} nodes) over the {kind} posteriors",
        "prob_better_mc_se": 0.0,
    }


def draws_for_stable_prob(prob: float, tolerance: float = PROB_BETTER_TOLERANCE) -> int:
    """Independent draws that put the Monte-Carlo standard error of P(better) under ``tolerance``: p(1-p)/tol^2."""
    p = min(max(prob, 0.0), 1.0)
    return math.ceil(max(p * (1 - p), 1e-4) / tolerance**2)


#: Models whose arm posteriors have a one-dimensional closed form, by the family :func:`conjugate.exact_form` takes.
EXACT_MODELS = {
    "beta_binomial": "binary",
    "beta_binomial_at_horizon": "binary",
    "gamma_poisson": "count",
    "normal_mean_jeffreys": "continuous",
    "ratio_of_totals_delta_normal": "ratio",
    "ratio_of_account_totals_delta_normal": "ratio",  # handle time: per-account totals (conjugate.by_account)
}


def exact_two_arm(model: str, c: dict, t: dict, priors: dict, design_effect: float, higher_is_better: bool | None) -> dict | None:
    """:func:`exact_probabilities` for the two arms' statistics under ``model``; None when it has no closed form."""
    fam = EXACT_MODELS.get(model)
    if fam is None:
        return None
    if model == "ratio_of_account_totals_delta_normal":
        c, t = conjugate.by_account(c), conjugate.by_account(t)
        if c is None or t is None:
            return None
    fc = conjugate.exact_form(fam, c, priors, design_effect, [c, t])
    ft = conjugate.exact_form(fam, t, priors, design_effect, [c, t])
    if fc is None or ft is None or (fc[0] == "t" and min(fc[1][0], ft[1][0]) <= 1):
        return None
    return exact_probabilities(fc[0], fc[1], ft[1], higher_is_better=higher_is_better)
