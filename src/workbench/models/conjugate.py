"""Exact (conjugate) and large-sample posteriors of an arm's mean from sufficient statistics.

Each function takes one arm's statistics (a mapping with the columns of
``workbench.metrics.catalogue.STAT_COLUMNS``), the priors, a random generator and a
number of draws, and returns ``(posterior draws, prior draws)`` of the arm's
mean in the metric's unit. Draws are independent, so R-hat is 1 and the
effective sample size is the number of draws by construction.

Priors are data (``DEFAULT_PRIORS``), overridable per metric in pilot.yml
``priors`` (merged over these defaults).
"""

from __future__ import annotations

import math

import numpy as np

from workbench.metrics.catalogue import score_weights

DEFAULT_PRIORS: dict[str, dict[str, float | None]] = {
    # Beta(1, 1): uniform on the share. Worth two accounts, negligible in a pilot.
    "binary": {"alpha": 1.0, "beta": 1.0},
    # Counts: Gamma(prior_events, prior_events / pooled rate), centred on the two arms'
    # pooled rate and worth ``prior_events`` events, so it does not depend on the
    # unit of exposure (per account or per 100 accounts give the same answer).
    # ``shape`` and ``rate`` (pilot.yml, both given) replace it by an absolute
    # Gamma(shape, rate) on events per unit of exposure; None means "not given".
    "count": {"shape": None, "rate": None, "prior_events": 1.0},
    # Dirichlet(1, ..., 1) on the category shares: worth one answer per category.
    "ordinal": {"concentration": 1.0},
    # Gamma(shape 1, rate 1) on the daily exit hazard x 1,000 account-days.
    "hazard": {"shape": 1.0, "rate_days": 1000.0},
}

MODELS = {
    "binary": "beta_binomial",
    "count": "gamma_poisson",
    "ordinal": "dirichlet_multinomial",
    "continuous": "normal_mean_jeffreys",
    "ratio": "ratio_of_totals_delta_normal",
    "time-to-event": "beta_binomial_at_horizon",
}


def merge_priors(overrides: dict | None) -> dict[str, dict[str, float]]:
    """Defaults with pilot.yml overrides merged in; unknown keys raise ValueError."""
    out = {k: dict(v) for k, v in DEFAULT_PRIORS.items()}
    for family, params in (overrides or {}).items():
        if family not in out:
            raise ValueError(f"priors: unknown family {family!r}; known: {', '.join(out)}")
        bad = set(params) - set(out[family])
        if bad:
            raise ValueError(f"priors.{family}: unknown parameter(s) {sorted(bad)}; known: {sorted(out[family])}")
        out[family].update({k: float(v) for k, v in params.items()})
    return out


def _f(row, key, default=0.0) -> float:
    v = row.get(key, default) if hasattr(row, "get") else default
    return default if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def binary(row, priors, rng, draws, design_effect: float = 1.0):
    """Beta-Binomial: p | s, n ~ Beta(alpha + s / deff, beta + (n - s) / deff).

    ``design_effect`` (>= 1) shrinks the counts to their effective size when
    outcomes are clustered (by agent), the standard Kish correction.
    """
    p = priors["binary"]
    n, s = _f(row, "n"), _f(row, "successes", _f(row, "sum"))
    a, b = p["alpha"] + s / design_effect, p["beta"] + (n - s) / design_effect
    return rng.beta(a, b, draws), rng.beta(p["alpha"], p["beta"], draws)


def dispersion(row) -> float:
    """Variance-to-mean ratio of the per-unit counts, from a given ``dispersion`` or from n, sum, sum_sq.

    Quasi-Poisson: ``phi = s^2 / ybar`` with the sample variance of the per-unit
    counts. Counts computed from per-account rows never claim under-dispersion
    (phi >= 1: the extra precision of a few capped counts is not worth trusting);
    a dispersion given with summary counts (``sd`` or ``variance`` beside
    ``exposure, events``) is used as given, floored at 0.01, so the count route
    and the mean/sd route of the same data agree.
    """
    given = _f(row, "dispersion", float("nan"))
    if math.isfinite(given) and given > 0:
        return max(given, 0.01)
    n, s, ss = _f(row, "n"), _f(row, "sum"), _f(row, "sum_sq", float("nan"))
    if n < 2 or s <= 0 or not math.isfinite(ss):
        return 1.0
    mean = s / n
    var = (ss - s * s / n) / (n - 1)
    return max(1.0, var / mean)


def count_prior(priors, rows) -> tuple[float, float]:
    """The Gamma(shape, rate) prior of a count metric's rate for the arms in ``rows``.

    Default: ``Gamma(k, k / r_pool)`` with ``k = prior_events`` and ``r_pool`` the
    pooled rate (sum of events / sum of exposure over the arms compared): mean
    the pooled rate, worth k events, equivariant under a change of the unit of
    exposure. Given ``shape`` and ``rate`` (both) are used as they are.
    """
    p = priors["count"]
    if p.get("shape") and p.get("rate"):
        return float(p["shape"]), float(p["rate"])
    k = float(p.get("prior_events", 1.0))
    y = sum(_f(r, "sum") for r in rows)
    x = sum(_f(r, "n") for r in rows)
    r_pool = (y + 0.5) / x if x > 0 else 1.0  # +0.5: a rate of zero events stays positive
    return k, k / r_pool


def _count_params(row, priors, design_effect: float, prior_rows=None) -> tuple[float, float]:
    a0, b0 = count_prior(priors, prior_rows or [row])
    n, y = _f(row, "n"), _f(row, "sum")
    phi = dispersion(row) * design_effect
    return a0 + y / phi, b0 + n / phi


def count(row, priors, rng, draws, design_effect: float = 1.0, prior_rows=None):
    """Gamma-Poisson on the rate per unit of exposure: rate ~ Gamma(a0 + y / phi, b0 + n / phi).

    ``phi`` is the overdispersion (:func:`dispersion`) times the design effect:
    the quasi-Poisson scaling of the information, so the interval widens by
    sqrt(phi) instead of pretending the counts are Poisson. ``(a0, b0)`` is
    :func:`count_prior` over ``prior_rows`` (both arms compared; this row alone
    when not given).
    """
    a0, b0 = count_prior(priors, prior_rows or [row])
    a, b = _count_params(row, priors, design_effect, prior_rows)
    return rng.gamma(a, 1.0 / b, draws), rng.gamma(a0, 1.0 / b0, draws)


def exact_form(family: str, row, priors, design_effect: float = 1.0, prior_rows=None) -> tuple[str, tuple] | None:
    """The arm's posterior as a named distribution, for :func:`workbench.effects.compare.exact_probabilities`.

    ``("beta", (a, b))`` for binary, ``("gamma", (shape, rate))`` for counts,
    ``("t", (n - 1, ybar, s sqrt(deff / n)))`` for continuous means,
    ``("norm", (R, sd))`` for ratios of totals (delta method); ``None`` where
    the posterior has no one-dimensional closed form (ordinal) or the
    statistics are too few.
    """
    if family == "binary":
        p = priors["binary"]
        n, s = _f(row, "n"), _f(row, "successes", _f(row, "sum"))
        return "beta", (p["alpha"] + s / design_effect, p["beta"] + (n - s) / design_effect)
    if family == "count":
        return "gamma", _count_params(row, priors, design_effect, prior_rows)
    if family == "continuous":
        n, s, ss = _f(row, "n"), _f(row, "sum"), _f(row, "sum_sq")
        var = max((ss - s * s / n) / (n - 1), 0.0) if n >= 3 else 0.0
        if var <= 0:
            return None
        return "t", (n - 1, s / n, math.sqrt(var * design_effect / n))
    if family == "ratio":
        r, var = _ratio_moments(row)
        return ("norm", (r, math.sqrt(var * design_effect))) if var > 0 else None
    return None


def _ratio_moments(row) -> tuple[float, float]:
    """R = sum(y) / sum(x) and its delta-method variance (see :func:`ratio`); (nan, 0) when undefined."""
    n = _f(row, "n")
    sy, syy, sx, sxx, sxy = (_f(row, k) for k in ("sum", "sum_sq", "denom", "denom_sq", "cross"))
    if n < 2 or sx <= 0:
        return float("nan"), 0.0
    r = sy / sx
    xbar = sx / n
    cyy = (syy - sy * sy / n) / (n - 1)
    cxx = (sxx - sx * sx / n) / (n - 1)
    cxy = (sxy - sx * sy / n) / (n - 1)
    return r, max(cyy - 2 * r * cxy + r * r * cxx, 0.0) / (n * xbar * xbar)


def ordinal(
    row, priors, rng, draws, categories: list[int], quantity: str = "mean", design_effect: float = 1.0, with_prior: bool = True
):
    """Dirichlet-Multinomial on category counts; returns draws of ``quantity``.

    Counts are divided by ``design_effect`` (clustered answers carry less information).

    ``mean``: sum_k k pi_k; ``top2``: pi_4 + pi_5; ``nps``: sum_{k>=9} pi_k - sum_{k<=6} pi_k.

    The quantity is ``sum_k w_k pi_k``, so only the shares of categories of equal
    weight summed are needed, and by the Dirichlet's aggregation property
    ``(sum_{k in G_1} pi_k, ..., sum_{k in G_m} pi_k) ~ Dirichlet(sum_{G_1} a_k, ..., sum_{G_m} a_k)``:
    one share is drawn per distinct weight (3 for NPS instead of 11), the same distribution.
    ``with_prior=False`` skips the prior draws (returned as None) where nothing reads them.
    """
    c = priors["ordinal"]["concentration"]
    counts = np.array([_f(row, f"cat_{k}") for k in categories]) / design_effect
    values, group = np.unique(np.array(score_weights(categories, quantity), dtype=float), return_inverse=True)
    post = rng.dirichlet(np.bincount(group, weights=counts + c, minlength=len(values)), draws)
    if not with_prior:
        return post @ values, None
    prior = rng.dirichlet(np.bincount(group, weights=np.full(len(categories), c), minlength=len(values)), draws)
    return post @ values, prior @ values


def continuous(row, priors, rng, draws, design_effect: float = 1.0):
    """Mean of a continuous outcome under the Jeffreys prior: mu ~ ybar + s / sqrt(n) * t_{n-1}.

    Exact for normal data, and the large-sample posterior of a mean otherwise;
    the prior is improper, so the prior draws are ``None``.
    """
    n, s, ss = _f(row, "n"), _f(row, "sum"), _f(row, "sum_sq")
    if n < 2:
        return np.full(draws, np.nan), None
    mean = s / n
    var = max((ss - s * s / n) / (n - 1), 0.0)
    return mean + math.sqrt(var * design_effect / n) * rng.standard_t(n - 1, draws), None


def by_account(row) -> dict | None:
    """Handle time as a ratio of per-account totals, or None without the per-account sums.

    Seconds per reached contact is sum(y) / sum(x) over accounts (y an account's
    seconds, x its reached contacts); with ``acct_sum_sq`` = sum y^2,
    ``denom_sq`` = sum x^2 and ``cross`` = sum x y, :func:`ratio` gives its
    variance with the account (the randomized unit) as the unit, not the contact.
    """
    a, x, ss = _f(row, "accounts"), _f(row, "denom"), _f(row, "acct_sum_sq", float("nan"))
    if a < 2 or x <= 0 or not math.isfinite(ss):
        return None
    return {
        "n": a,
        "sum": _f(row, "sum"),
        "sum_sq": ss,
        "denom": x,
        "denom_sq": _f(row, "denom_sq"),
        "cross": _f(row, "cross"),
    }


def ratio(row, priors, rng, draws, design_effect: float = 1.0):
    """Ratio of totals R = sum(y) / sum(x), large-sample normal posterior (delta method).

    ``var(R) = (s_yy - 2 R s_xy + R^2 s_xx) / (n xbar^2)`` with the sample
    (co)variances of the per-account numerator y and denominator x.
    """
    r, var = _ratio_moments(row)
    if not math.isfinite(r):
        return np.full(draws, np.nan), None
    return r + math.sqrt(var * design_effect) * rng.standard_normal(draws), None


def survival_at(row, priors, rng, draws, horizon_days: float, design_effect: float = 1.0):
    """Constant-hazard survival to ``horizon_days`` from events and account-days at risk.

    hazard ~ Gamma(a + events, b + exposure); S(h) = exp(-hazard h). Uses every
    account (censored at observed_until), not only those observed to the horizon.
    """
    p = priors["hazard"]
    e, x = _f(row, "events") / design_effect, _f(row, "exposure") / design_effect
    post = rng.gamma(p["shape"] + e, 1.0 / (p["rate_days"] + x), draws)
    prior = rng.gamma(p["shape"], 1.0 / p["rate_days"], draws)
    return np.exp(-post * horizon_days), np.exp(-prior * horizon_days)


def icc_design_effect(cells, y: str = "successes") -> float:
    """Kish design effect 1 + (m - 1) ICC from per-agent cells of one arm set.

    ICC by the one-way ANOVA estimator on cluster proportions (or means) with
    ``m`` the average cluster size; 1 when fewer than two clusters.
    """
    g = cells[cells["n"] > 0]
    if len(g) < 2:
        return 1.0
    n = g["n"].astype(float).to_numpy()
    s = g[y].astype(float).to_numpy()
    ss = g["sum_sq"].astype(float).to_numpy() if "sum_sq" in g and y != "successes" else s
    N, k = n.sum(), len(n)
    mean = s.sum() / N
    within = (ss - s * s / n).sum() / max(N - k, 1)  # sum of within-cluster squared deviations / df
    between = ((s / n - mean) ** 2 * n).sum() / (k - 1)
    m0 = (N - (n * n).sum() / N) / (k - 1)
    sigma_b = max((between - within) / m0, 0.0)
    icc = sigma_b / (sigma_b + within) if (sigma_b + within) > 0 else 0.0
    return float(1 + (N / k - 1) * icc)


def hurdle(row, priors, rng, draws) -> dict[str, np.ndarray] | None:
    """Two-part (hurdle) view of money paid per account: P(pay) x amount given paid.

    ``p ~ Beta(alpha + k, beta + n - k)`` with k payers of n accounts; the mean
    amount among payers ``m ~ ybar_k + s_k / sqrt(k) t(k-1)`` from the payers' sum
    and sum of squares (zeros add nothing to either); money per account = p m.
    Returns ``None`` without a payer count.
    """
    n, k, s, ss = _f(row, "n"), _f(row, "successes", float("nan")), _f(row, "sum"), _f(row, "sum_sq")
    if not math.isfinite(k) or k < 2 or n < 1:
        return None
    b = priors["binary"]
    p = rng.beta(b["alpha"] + k, b["beta"] + n - k, draws)
    mean = s / k
    var = max((ss - s * s / k) / (k - 1), 0.0)
    m = mean + math.sqrt(var / k) * rng.standard_t(k - 1, draws)
    return {"pay_share": p, "amount_if_paid": m, "per_account": p * m}
