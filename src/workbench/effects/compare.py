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

from workbench.defaults import DEFAULT_LEVEL, DEFAULT_ROPE, DEFAULT_ROPE_RELATIVE, default_rope

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
    return {
        "effect": {
            "difference": _summary(diff, level),
            "ratio": _summary(ratio, level),
            "relative_lift": _summary(ratio - 1, level),
        },
        "level": level,
        "prob_better": float(np.mean(s * diff > 0)),
        "expected_loss": float(np.mean(np.maximum(0.0, -s * diff))),
        "expected_loss_control": float(np.mean(np.maximum(0.0, s * diff))),
        "prob_rope": float(np.mean(np.abs(diff) < rope)),
        "rope": float(rope),
        "rope_source": source,
        "direction": {True: "higher is better", False: "lower is better", None: "no direction (P(increase) shown)"}[
            higher_is_better
        ],
    }


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
