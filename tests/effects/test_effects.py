"""The effect engine's pieces against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from workbench.effects import compare as effects
from workbench.effects import cuped, frequentist
from workbench.models import conjugate


def test_compare_direction_and_keys():
    rng = np.random.default_rng(0)
    c = rng.normal(0.10, 0.005, 20000)
    t = rng.normal(0.12, 0.005, 20000)
    up = effects.compare(c, t, higher_is_better=True)
    down = effects.compare(c, t, higher_is_better=False)
    assert up["prob_better"] > 0.99 and down["prob_better"] < 0.01
    assert up["expected_loss"] < 1e-4 < down["expected_loss"]
    assert down["expected_loss"] == pytest.approx(0.02, rel=0.05)
    d = up["effect"]["difference"]
    assert d["mean"] == pytest.approx(0.02, abs=1e-3)
    assert d["interval"][0] < 0.02 < d["interval"][1]
    assert up["effect"]["relative_lift"]["median"] == pytest.approx(0.2, abs=0.02)
    assert up["level"] == 0.95


def test_interval_is_equal_tailed_at_the_level():
    x = np.random.default_rng(1).standard_normal(200_000)
    lo, hi = effects.interval(x, 0.9)
    assert lo == pytest.approx(stats.norm.ppf(0.05), abs=0.02)
    assert hi == pytest.approx(stats.norm.ppf(0.95), abs=0.02)


def test_rope_and_harm():
    c = np.full(1000, 0.5)
    t = c + np.linspace(-0.002, 0.002, 1000)
    r = effects.compare(c, t, higher_is_better=True, rope=0.01)
    assert r["prob_rope"] == 1.0
    # Handle time has no direction; harm is an increase (longer contacts cost).
    assert effects.prob_harm(np.zeros(4), np.array([1, 1, 1, -1.0]), higher_is_better=None, margin=0) == 0.75
    assert effects.prob_harm(np.zeros(4), np.array([1, 1, 1, -1.0]), higher_is_better=False, margin=0.5) == 0.75


def test_beta_binomial_posterior_matches_closed_form():
    rng = np.random.default_rng(2)
    post, prior = conjugate.binary({"n": 200, "successes": 30}, conjugate.DEFAULT_PRIORS, rng, 200_000)
    assert post.mean() == pytest.approx(31 / 202, abs=1e-3)
    assert np.quantile(post, 0.975) == pytest.approx(stats.beta(31, 171).ppf(0.975), abs=2e-3)
    assert prior.mean() == pytest.approx(0.5, abs=5e-3)


def test_design_effect_widens():
    rng = np.random.default_rng(3)
    a, _ = conjugate.binary({"n": 1000, "successes": 100}, conjugate.DEFAULT_PRIORS, rng, 50_000)
    b, _ = conjugate.binary({"n": 1000, "successes": 100}, conjugate.DEFAULT_PRIORS, rng, 50_000, design_effect=4)
    assert b.std() == pytest.approx(2 * a.std(), rel=0.05)


def test_gamma_poisson_overdispersion_scales_information():
    rng = np.random.default_rng(4)
    pois = {"n": 1000, "sum": 100, "sum_sq": 100}  # 0/1 counts: variance < mean -> phi = 1
    over = {"n": 1000, "sum": 100, "sum_sq": 1000}  # clumped counts: phi ~ 9
    assert conjugate.dispersion(pois) == 1.0
    assert conjugate.dispersion(over) == pytest.approx((1000 - 10) / 999 / 0.1, rel=1e-6)
    a, _ = conjugate.count(pois, conjugate.DEFAULT_PRIORS, rng, 50_000)
    b, _ = conjugate.count(over, conjugate.DEFAULT_PRIORS, rng, 50_000)
    assert a.mean() == pytest.approx(101 / 1001, rel=0.01)
    assert b.std() / a.std() == pytest.approx(conjugate.dispersion(over) ** 0.5, rel=0.1)


def test_ordinal_quantities():
    rng = np.random.default_rng(5)
    row = {f"cat_{k}": v for k, v in zip(range(1, 6), [0, 0, 0, 0, 5000], strict=True)}
    mean, _ = conjugate.ordinal(row, conjugate.DEFAULT_PRIORS, rng, 2000, list(range(1, 6)), "mean")
    top2, _ = conjugate.ordinal(row, conjugate.DEFAULT_PRIORS, rng, 2000, list(range(1, 6)), "top2")
    assert mean.mean() == pytest.approx(5, abs=0.01) and top2.mean() == pytest.approx(1, abs=0.01)
    nps_row = {f"cat_{k}": (100 if k in (0, 10) else 0) for k in range(11)}
    nps, _ = conjugate.ordinal(nps_row, conjugate.DEFAULT_PRIORS, rng, 2000, list(range(11)), "nps")
    assert nps.mean() == pytest.approx(0, abs=0.03)


def test_ratio_delta_method_matches_simulation():
    rng = np.random.default_rng(6)
    x = rng.gamma(2, 500, 5000)
    y = np.where(rng.random(5000) < 0.3, x * rng.uniform(0, 0.4, 5000), 0)
    row = {
        "n": 5000,
        "sum": y.sum(),
        "sum_sq": (y * y).sum(),
        "denom": x.sum(),
        "denom_sq": (x * x).sum(),
        "cross": (x * y).sum(),
    }
    post, _ = conjugate.ratio(row, conjugate.DEFAULT_PRIORS, rng, 20000)
    boot = [(y[i].sum() / x[i].sum()) for i in (rng.integers(0, 5000, 5000) for _ in range(400))]
    assert post.mean() == pytest.approx(y.sum() / x.sum(), rel=1e-3)
    assert post.std() == pytest.approx(np.std(boot), rel=0.15)


def test_merge_priors_rejects_unknown_keys():
    assert conjugate.merge_priors({"binary": {"alpha": 2}})["binary"] == {"alpha": 2.0, "beta": 1.0}
    with pytest.raises(ValueError, match="unknown parameter"):
        conjugate.merge_priors({"binary": {"a": 2}})
    with pytest.raises(ValueError, match="unknown family"):
        conjugate.merge_priors({"poisson": {}})


def test_sceptical_prior_shrinks_toward_zero():
    rng = np.random.default_rng(7)
    c = rng.normal(0.1, 0.01, 20000)
    t = rng.normal(0.13, 0.01, 20000)
    s = effects.sceptical(c, t, higher_is_better=True, level=0.95)
    assert 0 < s["difference"]["mean"] < 0.03


def test_frequentist_binary_matches_newcombe_and_glm():
    c = {"arm": "p", "n": 5000, "successes": 500}
    t = {"arm": "e", "n": 5000, "successes": 600}
    r = frequentist.binary(c, t, 0.95)
    assert r["difference"] == pytest.approx(0.02)
    assert r["interval"][0] < 0.02 < r["interval"][1]
    import pandas as pd

    cells = pd.DataFrame(
        {
            "arm": ["p"] * 5 + ["e"] * 5,
            "agent_id": [f"g{i}" for i in range(10)],
            "n": [1000] * 10,
            "successes": [90, 110, 100, 95, 105, 120, 115, 125, 118, 122],
        }
    )
    g = frequentist.binary(c, t, 0.95, cells)
    assert g["method"] == "glm_binomial_cluster_robust_by_agent"
    assert g["difference"] == pytest.approx(0.02, abs=1e-9)


def test_cuped_reduces_variance_when_covariate_predicts():
    rng = np.random.default_rng(8)
    rows = {}
    for arm, eff in (("c", 0.0), ("t", 1.0)):
        cov = rng.normal(10, 3, 4000)
        y = 2 * cov + eff + rng.normal(0, 1, 4000)
        rows[arm] = {
            "n": 4000,
            "sum": y.sum(),
            "sum_sq": (y * y).sum(),
            "cov_n": 4000,
            "cov_sum": cov.sum(),
            "cov_sum_sq": (cov * cov).sum(),
            "cov_cross": (cov * y).sum(),
        }
    a = cuped.adjusted_difference(rows["c"], rows["t"], 0.95)
    assert a["variance_reduction"] > 0.9
    half = (a["difference"]["interval"][1] - a["difference"]["interval"][0]) / 2
    assert half == pytest.approx(1.96 * (2 / 4000) ** 0.5, rel=0.1)  # residual sd 1 per arm
    assert abs(a["difference"]["mean"] - 1.0) < 2 * half  # within 4 standard errors


def test_hurdle_decomposes_money_per_account():
    rng = np.random.default_rng(9)
    y = np.where(rng.random(5000) < 0.2, rng.gamma(2, 300, 5000), 0.0)
    row = {"n": 5000, "successes": int((y > 0).sum()), "sum": y.sum(), "sum_sq": (y * y).sum()}
    h = conjugate.hurdle(row, conjugate.DEFAULT_PRIORS, rng, 20000)
    assert h["pay_share"].mean() == pytest.approx((y > 0).mean(), abs=0.003)
    assert h["amount_if_paid"].mean() == pytest.approx(y[y > 0].mean(), rel=0.01)
    assert h["per_account"].mean() == pytest.approx(y.mean(), rel=0.02)
    assert conjugate.hurdle({"n": 10, "sum": 5.0}, conjugate.DEFAULT_PRIORS, rng, 10) is None
