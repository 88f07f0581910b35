"""Meta-analysis: pool several pilots' effects in a normal-normal random-effects model.

Each pilot ``i`` contributes its posterior mean difference ``y_i``
(``metrics.<m>.effect.difference.mean`` of its results document) and a
standard error ``s_i`` read off its equal-tailed interval at the document's
``level``: ``s_i = (hi - lo) / (2 z_{(1 + level)/2})``. The model (BDA3 ch. 5)::

    y_i | theta_i ~ N(theta_i, s_i^2)
    theta_i | mu, tau ~ N(mu, tau^2)
    mu ~ flat,   tau ~ HalfNormal(scale)

is computed exactly on a grid over ``tau``: given ``tau``, with
``w_i = 1 / (s_i^2 + tau^2)``,

    mu | tau, y ~ N(mu_hat, V_mu),  mu_hat = sum w_i y_i / sum w_i,  V_mu = 1 / sum w_i
    p(tau | y) ∝ p(tau) V_mu^{1/2} prod_i N(y_i | mu_hat, s_i^2 + tau^2)
    theta_i | tau, y ~ N((1 - B_i) y_i + B_i mu_hat, (1 - B_i) s_i^2 + B_i^2 V_mu),  B_i = s_i^2 / (s_i^2 + tau^2)
    theta_new | tau, y ~ N(mu_hat, V_mu + tau^2)

and every marginal is a mixture of normals over the grid weights. The default
``scale`` of the half-normal is the median ``s_i``, fixed by the pilots'
precision and not by the size of their effects (a larger effect must not invite
more heterogeneity); pass ``tau_scale`` to set it from domain knowledge. The
output carries a sensitivity line at half and twice the scale and says when two
or three pilots cannot identify the spread (:func:`workbench.effects.pooling.pool`).

When the pilots' control means differ by more than :data:`BASELINE_TOLERANCE`
(relative), absolute differences are not comparable: the pilots are pooled on
the log-ratio scale, ``y_i = log median(t / c)`` with ``s_i`` from the ratio's
interval, and the pooled ratio ``exp(mu)`` is reported beside.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from scipy import stats

from workbench.effects.pooling import pool
from workbench.errors import MetaError

#: Control means further apart than this (relative) make the pilots' baselines differ: pool log ratios.
BASELINE_TOLERANCE = 0.10


def read_effect(path: str | Path, metric: str) -> dict:
    """``{"label", "y", "s", "higher_is_better"}`` of one results document's metric."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MetaError([f"{path}: not found"]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetaError([f"{path}: not a readable results JSON ({exc.__class__.__name__})"]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), dict):
        raise MetaError([f"{path}: not a results document (no 'metrics' mapping)"])
    m = doc["metrics"].get(metric)
    if not isinstance(m, dict):
        raise MetaError([f"{path}: metric {metric!r} not in the results"])
    try:
        d = m["effect"]["difference"]
        y, (lo, hi) = float(d["mean"]), (float(v) for v in d["interval"])
        level = float(m.get("level", doc.get("level")))
    except (KeyError, TypeError, ValueError):
        raise MetaError([f"{path}: {metric}: effect.difference mean/interval or level missing"]) from None
    if not (0 < level < 1 and hi > lo and all(map(math.isfinite, (y, lo, hi)))):
        raise MetaError([f"{path}: {metric}: the interval or level is not usable"])
    s = (hi - lo) / (2 * stats.norm.ppf((1 + level) / 2))
    hib = m.get("higher_is_better")
    if hib is None and isinstance(m.get("direction"), str):
        hib = not m["direction"].startswith("lower")
    out = {"label": str(doc.get("pilot") or path.stem), "y": y, "s": s, "higher_is_better": hib is not False}
    try:  # the log-ratio scale, when the document has the control mean and the ratio's interval
        r = m["effect"]["ratio"]
        base, mid, (rlo, rhi) = float(m["control"]["mean"]), float(r["median"]), (float(v) for v in r["interval"])
        if base > 0 and 0 < rlo < mid < rhi:
            out.update(
                baseline=base,
                log_ratio=math.log(mid),
                log_ratio_se=(math.log(rhi) - math.log(rlo)) / (2 * stats.norm.ppf((1 + level) / 2)),
            )
    except (KeyError, TypeError, ValueError):
        pass
    return out


def meta_analysis(paths: list[str | Path], metric: str = "kept_ptp", level: float = 0.95, tau_scale: float | None = None) -> dict:
    """Read each results document's ``metric`` and pool them; raises :class:`MetaError`."""
    effects, problems = [], []
    for p in paths:
        try:
            effects.append(read_effect(p, metric))
        except MetaError as err:
            problems.extend(err.problems)
    if problems:
        raise MetaError(problems)
    if len(effects) < 2:
        raise MetaError(["meta: give at least two results files"])
    hib = {e["higher_is_better"] for e in effects}
    if len(hib) > 1:
        raise MetaError([f"meta: the results disagree on the direction of {metric}"])
    labels, up = [e["label"] for e in effects], hib.pop()
    bases = [e.get("baseline") for e in effects]
    ratio_ok = all(e.get("log_ratio") is not None for e in effects)
    if ratio_ok and max(bases) > (1 + BASELINE_TOLERANCE) * min(bases):
        out = pool(
            [e["log_ratio"] for e in effects],
            [e["log_ratio_se"] for e in effects],
            labels,
            up,
            level,
            tau_scale,
            scale_name="log ratio",
        )
        out["ratio"] = {
            "mean_of_log": out["mu"]["mean"],
            "median": math.exp(out["mu"]["mean"]),
            "interval": [math.exp(v) for v in out["mu"]["interval"]],
        }
        out["scale_reason"] = (
            f"control means differ ({min(bases):.4g} to {max(bases):.4g}, more than {BASELINE_TOLERANCE:.0%}): "
            "pooled on the log-ratio scale"
        )
    else:
        out = pool([e["y"] for e in effects], [e["s"] for e in effects], labels, up, level, tau_scale)
        out["scale_reason"] = "absolute differences: the control means agree" if ratio_ok else "absolute differences"
    out["metric"] = metric
    return out
