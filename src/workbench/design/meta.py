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
``scale`` of the half-normal is ``max(median s_i, |fixed-effect mean|)``: a
between-pilot spread as large as one pilot's own uncertainty or as the effect
itself sits at one prior standard deviation, so heterogeneity is neither ruled
out nor invited; pass ``tau_scale`` to set it from domain knowledge.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from scipy import stats

from workbench.effects.pooling import pool
from workbench.errors import MetaError


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
    return {"label": str(doc.get("pilot") or path.stem), "y": y, "s": s, "higher_is_better": hib is not False}


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
    out = pool([e["y"] for e in effects], [e["s"] for e in effects], [e["label"] for e in effects], hib.pop(), level, tau_scale)
    out["metric"] = metric
    return out
