"""Hierarchical logistic model for binary metrics, fitted on grouped binomial cells.

One row per arm x segment x agent cell (``n`` units, ``successes`` of them with
y = 1); the binomial likelihood on cells gives the same posterior as a
Bernoulli per account, at a cost that grows with cells, not accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from workbench.defaults import DEFAULT_SEED
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


@dataclass
class BinaryCells:
    """Cells after checks: aggregated per arm x segment x agent, n = 0 dropped."""

    frame: pd.DataFrame  # columns arm, [segment], [agent_id], n, successes
    arms: list[str]
    segments: list[str]  # [] when no segment column or a single segment
    agents: list[str]  # [] when no agent_id column or a single agent

    def data(self) -> dict[str, np.ndarray]:
        f = self.frame
        n = f["n"].to_numpy(dtype="int64")
        out = {
            "n": n,
            "successes": f["successes"].to_numpy(dtype="int64"),
            "arm_idx": f["arm"].map({a: i for i, a in enumerate(self.arms)}).to_numpy(dtype="int64"),
            "weight": n / n.sum(),
        }
        if self.segments:
            seg = f["segment"].map({s: i for i, s in enumerate(self.segments)}).to_numpy(dtype="int64")
            onehot = (seg[None, :] == np.arange(len(self.segments))[:, None]) * n[None, :]
            out["segment_idx"] = seg
            out["segment_weight"] = onehot / onehot.sum(axis=1, keepdims=True)
        if self.agents:
            out["agent_idx"] = f["agent_id"].map({g: i for i, g in enumerate(self.agents)}).to_numpy(dtype="int64")
        return out


def _zero_sum_effect(prefix: str, name: str, sd, dims, centred: bool):
    """Group deviations summing to zero over the last dim, with scale ``sd``.

    Centred: ``name ~ ZeroSumNormal(sd)``; non-centred: ``name = sd * <prefix>_z``
    with ``<prefix>_z ~ ZeroSumNormal(1)`` (a deterministic of that name).
    """
    if centred:
        return pm.ZeroSumNormal(name, sd, dims=dims)
    z = pm.ZeroSumNormal(f"{prefix}_z", 1.0, dims=dims)
    return pm.Deterministic(name, sd * z, dims=dims)


class HierarchicalBinary:
    r"""Hierarchical logistic regression on binomial cells.

    .. math::

        y_c &\sim \mathrm{Binomial}(n_c, p_c), \quad
        \mathrm{logit}\, p_c = \alpha + \beta_{a[c]} + \sigma_s z^{s}_{s[c]}
            + \sigma_{as} z^{as}_{a[c], s[c]} + \sigma_g z^{g}_{g[c]} \\
        \beta_{\text{control}} &= 0, \quad \beta_t \sim N(\mu_\beta, \sigma_\beta), \quad
        z \sim \mathrm{ZeroSumNormal}(1), \quad \sigma_\cdot \sim \mathrm{HalfNormal}

    The interaction exists for treatment arms only, so each segment's
    treatment effect shrinks toward the overall effect. Segment, agent and
    interaction deviations sum to zero (``ZeroSumNormal``): the intercept is
    then the average logit and is identified by the data, instead of trading
    off against the mean of the segment and agent effects along a ridge that
    only the prior bounds (at 100k accounts that ridge kept the intercept's
    bulk ESS under 200 in 2,000 draws). Segment terms are dropped when there
    are fewer than two segments, agent terms when there are fewer than two
    agents.

    Parametrization (``parametrization="auto"``): segment (agent) effects are
    sampled *centred* (``effect ~ ZeroSumNormal(sigma)``) when the data pin
    them, and *non-centred* (``effect = sigma * z``) otherwise, judged from
    the cells before fitting (:meth:`centred`). Either form is the same model;
    the wrong one for the data makes a funnel in ``sigma`` (divergences, low
    ESS). The interaction, informed only by the arm difference within a
    segment, is always non-centred.

    The arm's marginal mean is the intention-to-treat standardized mean
    (g-computation over the pilot's observed mix): for each draw,

    .. math::  \bar p_a = \sum_c w_c\, \mathrm{expit}(\eta_c \text{ with arm set to } a),
               \quad w_c = n_c / \sum n

    over every cell of every arm, so both arms are averaged over the same
    segments and the same agents (under agent randomization each agent's
    estimated effect enters both counterfactual means). Within a segment the
    same average runs over that segment's cells.

    Deterministics: ``arm_mean`` (arm), ``difference`` (treatment; arm_mean
    minus control), ``segment_mean`` (segment, arm) when segments exist.
    """

    name = "hierarchical_logistic"
    DEFAULT_PRIORS: ClassVar[dict[str, dict[str, float]]] = {
        # logit of the control rate: N(0, 1.5) is nearly flat on (0.05, 0.95)
        "intercept": {"mu": 0.0, "sigma": 1.5},
        # treatment log-odds ratio: 95% within OR 0.14..7, wide enough for the
        # industry's "3-5x" claims yet regularising tiny cells
        "arm_effect": {"mu": 0.0, "sigma": 1.0},
        # between-segment sd of the logit: situations (job loss vs retiree) can
        # differ by a log-odds of 1-2
        "segment_sd": {"sigma": 1.0},
        # sd of segment-specific treatment deviations: smaller than the main
        # effect's scale, so segment effects are pulled toward the overall one
        "interaction_sd": {"sigma": 0.25},
        # between-agent sd of the logit
        "agent_sd": {"sigma": 0.5},
    }

    PARAMETRIZATIONS = ("auto", "centred", "non-centred")

    def __init__(self, priors: dict | None = None, parametrization: str = "auto"):
        self.priors = merge_priors(self.DEFAULT_PRIORS, priors, type(self).__name__)
        if parametrization not in self.PARAMETRIZATIONS:
            raise ModelInputError(
                f"{type(self).__name__}: unknown parametrization {parametrization!r}; "
                f"choose from {', '.join(self.PARAMETRIZATIONS)}"
            )
        self.parametrization = parametrization

    def centred(self, prepared: BinaryCells) -> dict[str, bool]:
        r"""Which group effects are sampled centred: ``{"segment": bool, "agent": bool}``.

        ``auto``: per arm x group, the empirical logit and its sampling variance

        .. math::  \ell_{ag} = \log\frac{s + 1/2}{n - s + 1/2}, \quad
                   v_{ag} = \frac{1}{s + 1/2} + \frac{1}{n - s + 1/2};

        with :math:`r_{ag} = \ell_{ag} - \bar\ell_a` (deviation from the arm's
        mean, so agents nested in arms are not confused with the arm effect),
        the method-of-moments between-group variance is
        :math:`\hat\tau^2 = \mathrm{var}(r) - \bar v`. Centred when
        :math:`\hat\tau^2 > \bar v`: the data would pull a group's effect more
        than halfway from the pooled mean (shrinkage factor
        :math:`\bar v / (\bar v + \hat\tau^2) < 1/2`), the regime in which the
        non-centred form funnels.
        """
        f = prepared.frame
        out = {}
        for key, col, groups in (("segment", "segment", prepared.segments), ("agent", "agent_id", prepared.agents)):
            if self.parametrization != "auto" or not groups:
                out[key] = self.parametrization == "centred"
                continue
            g = f.groupby(["arm", col])[["n", "successes"]].sum()
            s, n = g["successes"].astype(float), g["n"].astype(float)
            logit = np.log((s + 0.5) / (n - s + 0.5))
            v = 1 / (s + 0.5) + 1 / (n - s + 0.5)
            r = logit - logit.groupby(level="arm").transform("mean")
            tau2 = float(r.var(ddof=1)) - float(v.mean()) if len(r) > 1 else -np.inf
            out[key] = bool(tau2 > float(v.mean()))
        return out

    # ------------------------------------------------------------ inputs

    def prepare(self, cells: pd.DataFrame, control: str, treatments: list[str]) -> BinaryCells:
        """Check and aggregate the cells (see :class:`BinaryCells`)."""
        owner = type(self).__name__
        arms = check_arms(control, treatments, owner)
        f = check_cells(cells, ["n", "successes"], arms, owner)
        over = f["successes"] > f["n"]
        if over.any():
            raise ModelInputError(f"{owner}: successes exceed n at row(s) {list(f.index[over][:5])}")
        keys = ["arm"] + [c for c in ("segment", "agent_id") if c in f.columns]
        f = f.groupby(keys, sort=True, as_index=False)[["n", "successes"]].sum()
        f = f[f["n"] > 0].reset_index(drop=True)
        require_units(f.groupby("arm")["n"].sum(), arms, owner, "accounts")
        segments = sorted(f["segment"].unique()) if "segment" in f.columns else []
        agents = sorted(f["agent_id"].unique()) if "agent_id" in f.columns else []
        return BinaryCells(f, arms, segments if len(segments) > 1 else [], agents if len(agents) > 1 else [])

    # ------------------------------------------------------------ model

    def build(self, prepared: BinaryCells, likelihood: str = "binomial") -> pm.Model:
        """The PyMC model for the structure of ``prepared`` (data in ``pm.Data``).

        ``likelihood="bernoulli"`` (cells of one account each, ``n`` = 1) is the
        row-by-row twin used by the benchmark to check the binomial shortcut.
        """
        arms, segs, agents = prepared.arms, prepared.segments, prepared.agents
        data = prepared.data()
        centred = self.centred(prepared)
        coords = {"arm": arms, "treatment": arms[1:], "cell": np.arange(len(prepared.frame))}
        if segs:
            coords["segment"] = segs
        if agents:
            coords["agent"] = agents
        p = self.priors
        with pm.Model(coords=coords) as model:
            n = pm.Data("n", data["n"], dims="cell")
            successes = pm.Data("successes", data["successes"], dims="cell")
            arm_idx = pm.Data("arm_idx", data["arm_idx"], dims="cell")
            weight = pm.Data("weight", data["weight"], dims="cell")

            intercept = pm.Normal("intercept", p["intercept"]["mu"], p["intercept"]["sigma"])
            beta_t = pm.Normal("arm_effect", p["arm_effect"]["mu"], p["arm_effect"]["sigma"], dims="treatment")
            beta = pt.concatenate([pt.zeros(1), beta_t])  # control is the reference

            base = intercept * pt.ones(n.shape[0])  # cell logit without the arm terms
            inter = None
            if segs:
                seg_idx = pm.Data("segment_idx", data["segment_idx"], dims="cell")
                seg_w = pm.Data("segment_weight", data["segment_weight"], dims=("segment", "cell"))
                sd_s = pm.HalfNormal("segment_sd", p["segment_sd"]["sigma"])
                base = base + _zero_sum_effect("segment", "segment_effect", sd_s, "segment", centred["segment"])[seg_idx]
                sd_i = pm.HalfNormal("interaction_sd", p["interaction_sd"]["sigma"])
                inter_t = _zero_sum_effect("interaction", "interaction", sd_i, ("treatment", "segment"), False)
                inter = pt.concatenate([pt.zeros((1, len(segs))), inter_t], axis=0)  # (arm, segment)
            if agents:
                agent_idx = pm.Data("agent_idx", data["agent_idx"], dims="cell")
                sd_g = pm.HalfNormal("agent_sd", p["agent_sd"]["sigma"])
                base = base + _zero_sum_effect("agent", "agent_effect", sd_g, "agent", centred["agent"])[agent_idx]

            # likelihood: the observed arm of each cell
            eta = base + beta[arm_idx]
            if inter is not None:
                eta = eta + inter[arm_idx, seg_idx]
            if likelihood == "bernoulli":
                pm.Bernoulli("y", logit_p=eta, observed=successes, dims="cell")
            else:
                pm.Binomial("y", n=n, logit_p=eta, observed=successes, dims="cell")

            # g-computation: every cell under every arm, (cell, arm)
            eta_cf = base[:, None] + beta[None, :]
            if inter is not None:
                eta_cf = eta_cf + inter[:, seg_idx].T
            p_cf = pm.math.sigmoid(eta_cf)
            arm_mean = pm.Deterministic("arm_mean", pt.dot(weight, p_cf), dims="arm")
            pm.Deterministic("difference", arm_mean[1:] - arm_mean[0], dims="treatment")
            if segs:
                pm.Deterministic("segment_mean", pt.dot(seg_w, p_cf), dims=("segment", "arm"))
        return model

    def compiled(self, prepared: BinaryCells, target_accept: float = 0.9, sampler: str = DEFAULT_SAMPLER) -> Compiled:
        """The cached compiled model for this structure, holding ``prepared``'s data."""
        centred = self.centred(prepared)
        key = (
            type(self).__name__,
            freeze(self.priors),
            tuple(prepared.arms),
            tuple(prepared.segments),
            tuple(prepared.agents),
            len(prepared.frame),
            freeze(centred),
            target_accept,
            sampler,
        )
        comp = cached(key, lambda: Compiled(self.build(prepared), list(prepared.data()), target_accept, sampler))
        comp.set_data(prepared.data())
        return comp

    # ------------------------------------------------------------ fit

    def fit(
        self,
        cells: pd.DataFrame,
        control: str,
        treatments: list[str],
        *,
        draws: int = 2000,
        tune: int = 2000,
        chains: int = 2,
        seed: int = DEFAULT_SEED,
        smoke: bool = False,
        target_accept: float = 0.9,
        sampler: str = DEFAULT_SAMPLER,
    ) -> Fit:
        """Sample the posterior and the prior of the arms' marginal means.

        Parameters
        ----------
        cells : columns ``arm``, ``n``, ``successes`` and optionally ``segment``,
            ``agent_id``; other columns are ignored, rows with the same keys summed.
        control, treatments : arm labels; every arm in ``cells`` must be one of them.
        draws, tune, chains : NUTS settings; prior draws number ``draws * chains``.
            2000 + 2000 by default: at 100k accounts in 480 cells, 1000 + 1000
            passed the production gate in 3 of 5 seeds (bulk ESS of
            ``interaction_sd`` near 400, a divergence), 2000 + 2000 in 5 of 5
            (ESS 548-1139), at 4-9 s a fit (docs/models.md).
        seed : the same seed gives identical draws.
        smoke : judge convergence with the smoke thresholds (tests only).
        target_accept : NUTS target acceptance; 0.9 (PyMC: 0.8) because the
            variance components with few segments or agents make funnels.
        sampler : ``"nutpie"`` (default, chosen by measurement) or ``"pymc"``
            (see :data:`workbench.models.base.SAMPLERS`).
        """
        prepared = self.prepare(cells, control, treatments)
        comp = self.compiled(prepared, target_accept, sampler)
        idata = comp.sample(draws, tune, chains, seed)
        watch = ["arm_mean", "intercept", "arm_effect"] + [
            v
            for v in (
                "segment_sd",
                "interaction_sd",
                "agent_sd",
                "segment_z",
                "interaction_z",
                "agent_z",
                "segment_effect",
                "agent_effect",
            )
            if v in comp.model.named_vars and comp.model[v] in comp.model.free_RVs
        ]
        diag = diagnostics(idata, watch, smoke)
        names = ["arm_mean"] + (["segment_mean"] if prepared.segments else [])
        prior = comp.prior(names, draws * chains, seed)
        idata.extend(prior)
        arms = prepared.arms
        post = stacked(idata, "arm_mean")
        pri = stacked(idata, "arm_mean", "prior")
        segments = {}
        if prepared.segments:
            sm = stacked(idata, "segment_mean")
            segments = {s: {a: sm.sel(segment=s, arm=a).values.copy() for a in arms} for s in prepared.segments}
        return Fit(
            model=self.name,
            draws={a: post.sel(arm=a).values.copy() for a in arms},
            prior_draws={a: pri.sel(arm=a).values.copy() for a in arms},
            diagnostics=diag,
            segments=segments,
            idata=idata,
        )
