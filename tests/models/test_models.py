"""Models: structure, priors, validation, determinism and crude recovery (tiny fits)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.models.base import DEFAULT_SAMPLER, SAMPLERS, Fit, ModelInputError
from workbench.models.binary import HierarchicalBinary
from workbench.models.ordinal import CumulativeLogit

FAST = {"draws": 150, "tune": 150, "chains": 2, "smoke": True}


def binary_cells(seed=0, n=300, arms=(("control", 0.0), ("empathy", 0.3)), segments=("a", "b"), agents=("g1", "g2", "g3")):
    rng = np.random.default_rng(seed)
    rows = []
    for arm, b in arms:
        for i, s in enumerate(segments):
            for j, g in enumerate(agents):
                p = 1 / (1 + np.exp(-(-1.0 + b + 0.4 * i - 0.2 * j)))
                rows.append({"arm": arm, "segment": s, "agent_id": g, "n": n, "successes": int(rng.binomial(n, p))})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- structure


def test_structure_coords_dims_and_deterministics():
    m = HierarchicalBinary(parametrization="non-centred")
    cells = binary_cells()
    model = m.build(m.prepare(cells, "control", ["empathy"]))
    assert list(model.coords["arm"]) == ["control", "empathy"]
    assert list(model.coords["treatment"]) == ["empathy"]
    assert list(model.coords["segment"]) == ["a", "b"]
    assert list(model.coords["agent"]) == ["g1", "g2", "g3"]
    assert len(model.coords["cell"]) == 12
    dims = model.named_vars_to_dims
    assert dims["arm_mean"] == ("arm",)
    assert dims["difference"] == ("treatment",)
    assert dims["segment_mean"] == ("segment", "arm")
    assert dims["interaction_z"] == ("treatment", "segment")
    assert dims["agent_z"] == ("agent",)
    assert dims["y"] == ("cell",)
    det = {v.name for v in model.deterministics}
    assert {"arm_mean", "difference", "segment_mean", "segment_effect", "interaction", "agent_effect"} <= det


def test_parametrization_auto_follows_the_data():
    m = HierarchicalBinary()
    # segments 0.4 apart on the logit, agents 0.2 apart, 300 accounts a cell: the data pin them -> centred
    clear = m.prepare(binary_cells(n=300), "control", ["empathy"])
    assert m.centred(clear) == {"segment": True, "agent": True}
    free = {v.name for v in m.build(clear).free_RVs}
    assert {"segment_effect", "agent_effect"} <= free and not {"segment_z", "agent_z"} & free
    assert "interaction_z" in free  # the interaction stays non-centred
    # identical rates in every group (only the arm differs): nothing to pin -> non-centred
    flat = binary_cells(n=300).assign(successes=lambda d: np.where(d["arm"] == "control", 90, 120))
    prepared = m.prepare(flat, "control", ["empathy"])
    assert m.centred(prepared) == {"segment": False, "agent": False}
    assert {"segment_z", "agent_z"} <= {v.name for v in m.build(prepared).free_RVs}
    # agents nested in arms with a large arm difference but equal agents: still non-centred
    nested = pd.DataFrame(
        {
            "arm": ["control"] * 3 + ["empathy"] * 3,
            "agent_id": list("abcdef"),
            "n": [1000] * 6,
            "successes": [200] * 3 + [500] * 3,
        }
    )
    assert m.centred(m.prepare(nested, "control", ["empathy"])) == {"segment": False, "agent": False}
    forced = HierarchicalBinary(parametrization="centred")
    assert forced.centred(prepared) == {"segment": True, "agent": True}
    with pytest.raises(ModelInputError, match="unknown parametrization 'centered'; choose from auto, centred, non-centred"):
        HierarchicalBinary(parametrization="centered")


def test_structure_without_segment_or_agent():
    m = HierarchicalBinary()
    cells = binary_cells().groupby("arm", as_index=False)[["n", "successes"]].sum()
    model = m.build(m.prepare(cells, "control", ["empathy"]))
    assert "segment" not in model.coords and "agent" not in model.coords
    assert {v.name for v in model.deterministics} == {"arm_mean", "difference"}


def test_ordinal_structure():
    m = CumulativeLogit()
    counts, arms, scores = m.prepare(ordinal_cells(), "control", ["empathy"])
    model = m.build(counts, arms, scores)
    assert list(model.coords["category"]) == ["1", "2", "3", "4", "5"]
    assert model.named_vars_to_dims["category_prob"] == ("arm", "category")
    assert {"cutpoints", "category_prob", "mean_score", "top2"} <= {v.name for v in model.deterministics}


# ---------------------------------------------------------------- priors


def test_priors_merge_over_defaults():
    m = HierarchicalBinary({"arm_effect": {"sigma": 0.2}})
    assert m.priors["arm_effect"] == {"mu": 0.0, "sigma": 0.2}
    assert m.priors["intercept"] == HierarchicalBinary.DEFAULT_PRIORS["intercept"]
    assert HierarchicalBinary.DEFAULT_PRIORS["arm_effect"]["sigma"] == 1.0  # defaults untouched


@pytest.mark.parametrize(
    ("priors", "message"),
    [
        ({"arm_efect": {"sigma": 1}}, "unknown prior 'arm_efect'; known priors: agent_sd, arm_effect"),
        ({"arm_effect": {"scale": 1}}, "unknown parameter 'scale' of prior 'arm_effect'; known: mu, sigma"),
        ({"arm_effect": {"sigma": -1}}, "prior arm_effect.sigma must be > 0"),
        ({"arm_effect": {"sigma": float("nan")}}, "prior arm_effect.sigma must be a finite number"),
        ({"arm_effect": 0.5}, "prior 'arm_effect' must be a dict"),
    ],
)
def test_priors_errors(priors, message):
    with pytest.raises(ModelInputError, match=message.replace(".", r"\.").replace("(", r"\(")):
        HierarchicalBinary(priors)


def test_ordinal_priors_unknown_key():
    with pytest.raises(ModelInputError, match="CumulativeLogit: unknown prior 'cutpoints'"):
        CumulativeLogit({"cutpoints": {"sigma": 1}})


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("mutate", "control", "treatments", "message"),
    [
        (lambda c: c.drop(columns="successes"), "control", ["empathy"], "cells lack column\\(s\\) successes"),
        (lambda c: c.assign(successes=c["n"] + 1), "control", ["empathy"], "successes exceed n at row\\(s\\) \\[0, 1"),
        (lambda c: c.assign(n=-1), "control", ["empathy"], "column 'n' must hold whole numbers >= 0"),
        (lambda c: c.assign(n=c["n"] + 0.5), "control", ["empathy"], "column 'n' must hold whole numbers"),
        (lambda c: c.assign(segment=None), "control", ["empathy"], "column 'segment' has missing values"),
        (lambda c: c, "control", ["other"], "arm\\(s\\) empathy that are neither control nor treatments"),
        (lambda c: c, "control", ["empathy", "extra"], "arm\\(s\\) extra have no accounts"),
        (lambda c: c, "control", "empathy", "treatments must be a list"),
        (lambda c: c, "control", ["control"], "arm labels repeated"),
        (lambda c: c, "control", [], "at least one treatment arm"),
    ],
)
def test_binary_input_errors(mutate, control, treatments, message):
    with pytest.raises(ModelInputError, match=message):
        HierarchicalBinary().prepare(mutate(binary_cells()), control, treatments)


def test_zero_cells_dropped_and_rows_summed():
    cells = binary_cells()
    extra = pd.DataFrame([{"arm": "empathy", "segment": "c", "agent_id": "g9", "n": 0, "successes": 0}])
    p = HierarchicalBinary().prepare(pd.concat([cells, cells, extra], ignore_index=True), "control", ["empathy"])
    assert len(p.frame) == 12 and "c" not in p.segments and "g9" not in p.agents
    assert p.frame["n"].sum() == 2 * cells["n"].sum()


def test_ordinal_input_errors():
    m = CumulativeLogit()
    with pytest.raises(ModelInputError, match="quantity must be one of mean, nps, top2"):
        m.fit(ordinal_cells(), "control", ["empathy"], quantity="median")
    with pytest.raises(ModelInputError, match="quantity 'nps' needs the 0-10 scale"):
        m.fit(ordinal_cells(), "control", ["empathy"], quantity="nps")
    with pytest.raises(ModelInputError, match="cells lack column\\(s\\) cat_5"):
        m.prepare(ordinal_cells().drop(columns="cat_5"), "control", ["empathy"])


# ---------------------------------------------------------------- fits


def _check_layout(f):
    assert isinstance(f, Fit) and f.model == "hierarchical_logistic"
    assert set(f.draws) == set(f.prior_draws) == {"control", "empathy"}
    assert f.draws["control"].shape == (300,) and f.prior_draws["control"].shape == (300,)
    assert set(f.segments) == {"a", "b"} and set(f.segments["a"]) == {"control", "empathy"}
    d = f.diagnostics
    assert set(d) == {"r_hat_max", "ess_bulk_min", "divergences", "ok", "thresholds"}
    assert d["thresholds"] == {"r_hat": 1.1, "ess_bulk": 50.0, "label": "smoke"}
    assert d["r_hat_max"] < 1.1
    # the prior is wide, the posterior narrow
    assert f.prior_draws["control"].std() > 5 * f.draws["control"].std()


def _check_group_effects_sum_to_zero(f):
    post = f.idata.posterior
    for name in ("segment_effect", "agent_effect", "interaction"):
        assert np.abs(post[name].sum(post[name].dims[-1])).max() < 1e-9, name


def _check_same_seed_same_draws(f, again):
    for arm in ("control", "empathy"):
        np.testing.assert_array_equal(again.draws[arm], f.draws[arm])
        np.testing.assert_array_equal(again.prior_draws[arm], f.prior_draws[arm])


@pytest.mark.xdist_group("numba")  # the fits that compile a structure share one worker: see tests/conftest.py
def test_fit_layout_zero_sum_effects_and_same_seed_same_draws():
    """Three checks on one structure (2 arms x 2 segments x 3 agents), in one test: compiling the
    structure costs 15-45 s, sampling it 0.5 s, and xdist gave separate tests of one module fixture
    to both workers (two compilations, 46 + 38 s; a file-locked shared fit only made one worker wait)."""
    fit = HierarchicalBinary().fit(binary_cells(), "control", ["empathy"], seed=3, **FAST)
    _check_layout(fit)
    _check_group_effects_sum_to_zero(fit)
    # the same cells and seed again, in the same process (the compiled model reused)
    _check_same_seed_same_draws(fit, HierarchicalBinary().fit(binary_cells(), "control", ["empathy"], seed=3, **FAST))


@pytest.mark.slow  # parameter recovery on 18,000 accounts: a benchmark-sized fit
def test_recovery_grouped_difference():
    # 2 arms x 3 segments, 3000 accounts per cell: the marginal difference
    # is recovered within 3 standard errors of the truth
    rng = np.random.default_rng(11)
    seg_logit = {"a": -1.5, "b": -0.8, "c": 0.0}
    rows, truth = [], {}
    for arm, b in (("control", 0.0), ("empathy", 0.25)):
        tot = 0.0
        for s, base in seg_logit.items():
            p = 1 / (1 + np.exp(-(base + b)))
            tot += p / 3
            rows.append({"arm": arm, "segment": s, "n": 3000, "successes": int(rng.binomial(3000, p))})
        truth[arm] = tot
    fit = HierarchicalBinary().fit(pd.DataFrame(rows), "control", ["empathy"], seed=1, **FAST)
    diff = fit.draws["empathy"] - fit.draws["control"]
    se = np.sqrt(sum(truth[a] * (1 - truth[a]) / 9000 for a in truth))
    assert abs(diff.mean() - (truth["empathy"] - truth["control"])) < 3 * se
    assert 0.5 * se < diff.std() < 2 * se


# agents nested in arms (agent randomization): tests/models/test_hard_fits.py, one structure for two datasets


@pytest.mark.xdist_group("numba")
def test_three_arms_no_segment_no_agent():
    cells = pd.DataFrame({"arm": ["control", "a", "b", "b"], "n": [800, 800, 800, 0], "successes": [160, 240, 200, 0]})
    fit = HierarchicalBinary().fit(cells, "control", ["a", "b"], seed=4, **FAST)
    assert set(fit.draws) == {"control", "a", "b"}
    means = {k: v.mean() for k, v in fit.draws.items()}
    assert means["control"] < means["b"] < means["a"]
    assert abs(means["a"] - 0.3) < 0.05


@pytest.mark.slow  # two samplers, two compilations of the same model
def test_samplers_agree_and_unknown_sampler_refused():
    # PyMC's NUTS stays available beside the default (nutpie): same model, same posterior
    cells = pd.DataFrame({"arm": ["control", "empathy"], "n": [2000, 2000], "successes": [400, 500]})
    fits = {s: HierarchicalBinary().fit(cells, "control", ["empathy"], seed=5, sampler=s, **FAST) for s in SAMPLERS}
    assert DEFAULT_SAMPLER == "nutpie"
    diffs = {s: f.draws["empathy"] - f.draws["control"] for s, f in fits.items()}
    sd = np.sqrt(0.2 * 0.8 / 2000 + 0.25 * 0.75 / 2000)
    for s, d in diffs.items():
        assert abs(d.mean() - 0.05) < 3 * sd, s
        assert abs(d.std() - sd) < 0.25 * sd, s
    assert abs(diffs["nutpie"].mean() - diffs["pymc"].mean()) < 0.3 * sd
    with pytest.raises(ModelInputError, match="unknown sampler 'stan'; choose from nutpie, pymc"):
        HierarchicalBinary().fit(cells, "control", ["empathy"], sampler="stan", **FAST)


def ordinal_cells(seed=2, n=500):
    rng = np.random.default_rng(seed)
    rows = []
    for arm, pr in (("control", [0.1, 0.15, 0.3, 0.3, 0.15]), ("empathy", [0.05, 0.1, 0.25, 0.35, 0.25])):
        c = rng.multinomial(n, pr)
        rows.append({"arm": arm, **{f"cat_{k + 1}": int(c[k]) for k in range(5)}})
    return pd.DataFrame(rows)


@pytest.mark.slow  # parameter recovery of the cumulative logit (compiles a model the engine does not run by default)
def test_ordinal_mean_recovery():
    cells = ordinal_cells()
    fit = CumulativeLogit().fit(cells, "control", ["empathy"], quantity="mean", seed=1, **FAST)
    assert fit.model == "cumulative_logit" and fit.segments == {}
    for _, row in cells.iterrows():
        counts = row[[f"cat_{k}" for k in range(1, 6)]].to_numpy(dtype=float)
        observed = (counts * np.arange(1, 6)).sum() / counts.sum()
        sd = np.sqrt((counts * (np.arange(1, 6) - observed) ** 2).sum() / counts.sum() / counts.sum())
        assert abs(fit.draws[row["arm"]].mean() - observed) < 3 * sd
    assert fit.diagnostics["r_hat_max"] < 1.1


def _nps_rows():
    rng = np.random.default_rng(9)
    pr = np.full(11, 1 / 11)
    return [{"arm": a, **{f"cat_{k}": int(c) for k, c in enumerate(rng.multinomial(600, pr))}} for a in ("control", "empathy")]


def test_ordinal_nps_is_promoters_minus_detractors():
    # The model's nps (the quantity="nps" of a fit) evaluated at chosen parameters, no sampling: with
    # C_k the control's cumulative share of scores 0..k and the treatment's shift b on the latent scale,
    #   nps = P(9-10) - P(0-6) = 1 - expit(logit C_8 - b) - expit(logit C_6 - b).
    # The fitted version (posterior recovery, a Numba compilation of its own) is the slow test below.
    import pymc as pm  # PyMC only where a model is built
    import pytensor

    rows = _nps_rows()
    m = CumulativeLogit()
    counts, arms, scores = m.prepare(pd.DataFrame(rows), "control", ["empathy"])
    assert scores == list(range(11))  # read as the 0-10 scale from the columns
    model = m.build(counts, arms, scores)
    nps = pytensor.function([model["control_probs"], model["arm_effect"]], model["nps"], on_unused_input="ignore")
    c = rows[0]
    share = np.array([c[f"cat_{k}"] for k in range(11)], dtype=float) / 600
    observed = (c["cat_9"] + c["cat_10"] - sum(c[f"cat_{k}"] for k in range(7))) / 600
    cum = np.cumsum(share)
    for b in (0.0, 0.7, -1.2):
        out = nps(share, np.array([b]))
        np.testing.assert_allclose(out[0], observed, atol=1e-12)  # control: the observed shares' NPS
        expected = (
            1 - 1 / (1 + np.exp(-(np.log(cum[8] / (1 - cum[8])) - b))) - 1 / (1 + np.exp(-(np.log(cum[6] / (1 - cum[6])) - b)))
        )
        np.testing.assert_allclose(out[1], expected, atol=1e-12)
        assert (out[1] > out[0]) == (b > 0)  # a positive shift moves answers up the scale
    with model:
        prior = pm.sample_prior_predictive(draws=300, var_names=["nps"], random_seed=1).prior["nps"].values
    assert prior.min() >= -1 and prior.max() <= 1 and prior.std() > 0.1


@pytest.mark.slow  # the cumulative logit's own Numba compilation (the engine does not run it by default): 18-33 s
def test_ordinal_nps_quantity():
    rows = _nps_rows()
    fit = CumulativeLogit().fit(pd.DataFrame(rows), "control", ["empathy"], quantity="nps", seed=1, **FAST)
    for row in rows:
        # the arm's own NPS, promoters (9-10) minus detractors (0-6): the sample's, not the scale's -5/11
        # (with 600 answers the two differ by up to 0.09 here, more than the posterior's sd of about 0.03)
        observed = (row["cat_9"] + row["cat_10"] - sum(row[f"cat_{k}"] for k in range(7))) / 600
        assert abs(fit.draws[row["arm"]].mean() - observed) < 0.05
        assert fit.prior_draws[row["arm"]].min() >= -1 and fit.prior_draws[row["arm"]].max() <= 1


def test_unknown_sampler_refused():
    cells = pd.DataFrame({"arm": ["control", "empathy"], "n": [200, 200], "successes": [40, 50]})
    with pytest.raises(ModelInputError, match="unknown sampler 'stan'; choose from nutpie, pymc"):
        HierarchicalBinary().fit(cells, "control", ["empathy"], sampler="stan", **FAST)
