"""Cumulative-logit (proportional odds) model for ordinal metrics (csat, nps),
fitted on category counts per arm."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from workbench.defaults import DEFAULT_SEED
from workbench.metrics.catalogue import SCALES as CATALOGUE_SCALES
from workbench.models.base import (
    DEFAULT_SAMPLER,
    Compiled,
    Fit,
    ModelInputError,
    cached,
    check_arms,
    check_cells,
    diagnostics,
    freeze,
    merge_priors,
    require_units,
    stacked,
)

SCALES = {k: list(v) for k, v in CATALOGUE_SCALES.items()}  # the catalogue's ordinal scales
QUANTITIES = ("mean", "nps", "top2")


class CumulativeLogit:
    r"""Proportional-odds model on category counts.

    .. math::

        \mathbf{y}_a &\sim \mathrm{Multinomial}(n_a, \boldsymbol\pi_a), \quad
        P(Y \le k \mid a) = \mathrm{expit}(\kappa_k - \beta_a) \\
        \kappa_k &= \mathrm{logit}\textstyle\sum_{j \le k} \pi_{0j}, \quad
        \boldsymbol\pi_0 \sim \mathrm{Dirichlet}(\alpha \mathbf 1), \quad
        \beta_{\text{control}} = 0, \ \beta_t \sim N(\mu, \sigma)

    The multinomial on the per-arm counts is the product of the responders'
    categorical likelihoods up to a constant, so it gives the same posterior
    as one ordered-logistic term per responder. The cutpoints come from the
    control arm's category probabilities (a Dirichlet: uniform over the
    control distribution by default), so they are ordered by construction.
    Segment and agent columns are summed over (no segment model yet).

    Quantities (``fit(quantity=...)``): ``mean`` = sum_k score_k pi_ak;
    ``nps`` = P(9-10) - P(0-6) (0-10 scale only); ``top2`` = the top two
    categories' share (csat: 4-5). Deterministics: ``cutpoints``,
    ``category_prob`` (arm, category), ``mean_score``, ``top2`` and (0-10
    scale) ``nps``, each with dim arm.
    """

    name = "cumulative_logit"
    DEFAULT_PRIORS: ClassVar[dict[str, dict[str, float]]] = {
        # control category shares: Dirichlet(1) is uniform over distributions
        "control_probs": {"alpha": 1.0},
        # treatment shift on the latent logistic scale (log cumulative odds ratio)
        "arm_effect": {"mu": 0.0, "sigma": 1.0},
    }

    def __init__(self, priors: dict | None = None):
        self.priors = merge_priors(self.DEFAULT_PRIORS, priors, type(self).__name__)

    def prepare(
        self, cells: pd.DataFrame, control: str, treatments: list[str], scale: str | None = None
    ) -> tuple[pd.DataFrame, list[str], list[int]]:
        """Counts per arm (rows in arm order), the arms and the scores of the scale.

        ``scale`` is ``"csat"`` (cat_1..cat_5) or ``"nps"`` (cat_0..cat_10);
        ``None`` reads it from a ``metric`` column, else from the columns: any
        count in cat_0 or cat_6..cat_10 means nps.
        """
        owner = type(self).__name__
        arms = check_arms(control, treatments, owner)
        if scale is None:
            if "metric" in cells.columns and cells["metric"].nunique() == 1 and cells["metric"].iloc[0] in SCALES:
                scale = cells["metric"].iloc[0]
            else:
                extra = [f"cat_{k}" for k in (0, *range(6, 11)) if f"cat_{k}" in cells.columns]
                scale = "nps" if extra and pd.to_numeric(cells[extra].stack(), errors="coerce").fillna(0).gt(0).any() else "csat"
        if scale not in SCALES:
            raise ModelInputError(f"{owner}: scale must be one of {', '.join(SCALES)}, got {scale!r}")
        scores = SCALES[scale]
        cols = [f"cat_{k}" for k in scores]
        f = check_cells(cells, cols, arms, owner)
        if scale == "csat":
            stray = [
                c
                for c in ("cat_0", *[f"cat_{k}" for k in range(6, 11)])
                if c in f.columns and pd.to_numeric(f[c], errors="coerce").fillna(0).gt(0).any()
            ]
            if stray:
                raise ModelInputError(f"{owner}: csat scores are 1-5 but column(s) {', '.join(stray)} hold counts")
        counts = f.groupby("arm")[cols].sum().reindex(arms, fill_value=0)
        require_units(counts.sum(axis=1), arms, owner, "responders")
        return counts, arms, scores

    def build(self, counts: pd.DataFrame, arms: list[str], scores: list[int]) -> pm.Model:
        coords = {"arm": arms, "treatment": arms[1:], "category": [str(s) for s in scores]}
        p = self.priors
        K = len(scores)
        with pm.Model(coords=coords) as model:
            y = pm.Data("counts", counts.to_numpy(dtype="int64"), dims=("arm", "category"))
            pi0 = pm.Dirichlet("control_probs", a=np.full(K, p["control_probs"]["alpha"]), dims="category")
            beta_t = pm.Normal("arm_effect", p["arm_effect"]["mu"], p["arm_effect"]["sigma"], dims="treatment")
            beta = pt.concatenate([pt.zeros(1), beta_t])
            cum0 = pt.clip(pt.cumsum(pi0)[:-1], 1e-12, 1 - 1e-12)
            cut = pm.Deterministic("cutpoints", pt.log(cum0) - pt.log1p(-cum0))
            cdf = pm.math.sigmoid(cut[None, :] - beta[:, None])  # (arm, K-1)
            ones = pt.ones((len(arms), 1))
            probs = pt.concatenate([cdf, ones], axis=1) - pt.concatenate([0 * ones, cdf], axis=1)
            probs = pm.Deterministic("category_prob", pt.clip(probs, 1e-15, 1.0), dims=("arm", "category"))
            pm.Multinomial("y", n=y.sum(axis=1), p=probs, observed=y, dims=("arm", "category"))
            pm.Deterministic("mean_score", pt.dot(probs, np.asarray(scores, dtype="float64")), dims="arm")
            if K == 11:
                pm.Deterministic("nps", probs[:, 9:].sum(axis=1) - probs[:, :7].sum(axis=1), dims="arm")
            pm.Deterministic("top2", probs[:, -2:].sum(axis=1), dims="arm")
        return model

    def fit(
        self,
        cells: pd.DataFrame,
        control: str,
        treatments: list[str],
        *,
        quantity: str = "mean",
        scale: str | None = None,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 2,
        seed: int = DEFAULT_SEED,
        smoke: bool = False,
        target_accept: float = 0.8,
        sampler: str = DEFAULT_SAMPLER,
    ) -> Fit:
        """Sample; ``Fit.draws`` holds ``quantity`` per arm (mean | nps | top2).

        ``cells`` has ``arm`` and ``cat_<score>`` counts (other rows and columns
        summed over / ignored). See :meth:`prepare` for ``scale``; ``sampler``:
        ``"nutpie"`` (default) or ``"pymc"``.
        """
        owner = type(self).__name__
        if quantity not in QUANTITIES:
            raise ModelInputError(f"{owner}: quantity must be one of {', '.join(QUANTITIES)}, got {quantity!r}")
        counts, arms, scores = self.prepare(cells, control, treatments, scale)
        if quantity == "nps" and len(scores) != 11:
            raise ModelInputError(f"{owner}: quantity 'nps' needs the 0-10 scale (cat_0..cat_10)")
        key = (type(self).__name__, freeze(self.priors), tuple(arms), tuple(scores), target_accept, sampler)
        comp = cached(key, lambda: Compiled(self.build(counts, arms, scores), ["counts"], target_accept, sampler))
        comp.set_data({"counts": counts.to_numpy(dtype="int64")})
        idata = comp.sample(draws, tune, chains, seed)
        name = {"mean": "mean_score", "nps": "nps", "top2": "top2"}[quantity]
        post = stacked(idata, name)
        diag = diagnostics(idata, ["control_probs", "arm_effect", name], smoke)
        idata.extend(comp.prior([name], draws * chains, seed))
        pri = stacked(idata, name, "prior")
        return Fit(
            model=self.name,
            draws={a: post.sel(arm=a).values.copy() for a in arms},
            prior_draws={a: pri.sel(arm=a).values.copy() for a in arms},
            diagnostics=diag,
            segments={},
            idata=idata,
        )
