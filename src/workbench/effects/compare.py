"""Effects from posterior draws of each arm's marginal mean, direction-aware.

Every model of the engine ends in draws of the arms' means in the metric's own
unit; this module turns a (control, treatment) pair of draws into the numbers
of the results format (DESIGN.md): difference, ratio and relative lift with
equal-tailed intervals, P(better), expected loss and P(inside the region of
practical equivalence).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

DEFAULT_LEVEL = 0.95
# Region of practical equivalence when pilot.yml sets none: +-1% of the
# control mean. An assumption, stated in docs/models.md; teams should set
# their own business minimum in pilot.yml ``rope``.
DEFAULT_ROPE_RELATIVE = 0.01
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
    return {"mean": float(np.mean(draws)), "median": float(np.median(draws)), "interval": interval(draws, level)}


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
) -> dict:
    """Effect of treatment against control from paired posterior draws.

    Parameters
    ----------
    control, treatment : draws of each arm's mean (same length, independent or
        jointly drawn).
    higher_is_better : metric direction; ``None`` reports P(increase).
    level : interval level, written into the output.
    rope : half-width of the region of practical equivalence in the metric's
        unit; default ``DEFAULT_ROPE_RELATIVE * |mean(control)|``.

    Returns
    -------
    dict with ``effect.difference`` (t - c), ``effect.ratio`` (t / c) and
    ``effect.relative_lift`` (t / c - 1), each ``mean``, ``median``,
    ``interval``; ``prob_better`` = P(s (t - c) > 0) with s the direction sign;
    ``expected_loss`` = E[max(0, -s (t - c))], the expected shortfall in the
    metric's unit if treatment is chosen; ``prob_rope`` = P(|t - c| < rope).
    """
    control = np.asarray(control, dtype=float)
    treatment = np.asarray(treatment, dtype=float)
    s = sign_of_better(higher_is_better)
    diff = treatment - control
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = treatment / control
    if rope is None:
        rope = DEFAULT_ROPE_RELATIVE * abs(float(np.mean(control)))
    return {
        "effect": {
            "difference": _summary(diff, level),
            "ratio": _summary(ratio, level),
            "relative_lift": _summary(ratio - 1, level),
        },
        "level": level,
        "prob_better": float(np.mean(s * diff > 0)),
        "expected_loss": float(np.mean(np.maximum(0.0, -s * diff))),
        "prob_rope": float(np.mean(np.abs(diff) < rope)),
        "rope": float(rope),
        "direction": {True: "higher is better", False: "lower is better", None: "no direction (P(increase) shown)"}[
            higher_is_better
        ],
    }


def prob_harm(control: np.ndarray, treatment: np.ndarray, *, higher_is_better: bool | None, margin: float) -> float:
    """P(treatment is worse than control by more than ``margin``), in the metric's unit.

    For a metric without a direction (handle time), harm is an increase: a
    longer contact costs money.
    """
    s = -1 if higher_is_better is None else sign_of_better(higher_is_better)
    return float(np.mean(-s * (np.asarray(treatment) - np.asarray(control)) > margin))


def sceptical(control: np.ndarray, treatment: np.ndarray, *, higher_is_better: bool | None, level: float) -> dict:
    """The effect under a sceptical prior, for the sensitivity line.

    The posterior of the difference is approximated as Normal(d, v) (its draws'
    mean and variance, i.e. the likelihood under the default prior) and combined
    with the sceptical prior Normal(0, v0), ``sqrt(v0) = SCEPTICAL_RELATIVE_SD *
    |mean(control)|``::

        mean = d v0 / (v0 + v),  var = v v0 / (v0 + v)
    """

    diff = np.asarray(treatment) - np.asarray(control)
    d, v = float(np.mean(diff)), float(np.var(diff))
    sd0 = SCEPTICAL_RELATIVE_SD * abs(float(np.mean(control)))
    if sd0 == 0 or v == 0:
        return {"prior": "sceptical", "prior_sd": sd0, "difference": None, "prob_better": None}
    v0 = sd0**2
    m, var = d * v0 / (v0 + v), v * v0 / (v0 + v)
    z = stats.norm.ppf([(1 - level) / 2, (1 + level) / 2])
    s = sign_of_better(higher_is_better)
    return {
        "prior": "sceptical",
        "prior_sd": sd0,
        "difference": {"mean": m, "interval": [float(m + z[0] * var**0.5), float(m + z[1] * var**0.5)]},
        "prob_better": float(stats.norm.sf(0, loc=s * m, scale=var**0.5)),
    }
