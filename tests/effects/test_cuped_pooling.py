"""Covariates in the decision (CUPED, incl. ratios) and pooling priors fixed in advance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.design.meta import meta_analysis
from workbench.effects import cuped
from workbench.effects.analyze import Design, Settings, analyze_stats, design_from_config
from workbench.effects.pooling import pool


def _sums(y, c, x=None) -> dict:
    r = {"n": len(y), "sum": y.sum(), "sum_sq": (y * y).sum(), "cov_n": len(y)}
    r |= {"cov_sum": c.sum(), "cov_sum_sq": (c * c).sum(), "cov_cross": (c * y).sum()}
    if x is not None:
        r |= {"denom": x.sum(), "denom_sq": (x * x).sum(), "cross": (x * y).sum(), "cov_cross_denom": (c * x).sum()}
    return r


def test_ratio_cuped_equals_regression_of_the_linearized_ratio_on_the_covariate():
    rng = np.random.default_rng(3)
    arms = []
    for lift in (1.0, 1.05):
        x = rng.gamma(2.0, 100.0, 3000)
        c = x * rng.beta(2, 8, 3000) * np.exp(0.5 * rng.standard_normal(3000))
        y = lift * (0.3 * c + 0.05 * x) * rng.gamma(4.0, 0.25, 3000)
        arms.append((y, c, x))
    a = cuped.adjusted_effect(*[_sums(*arm) for arm in arms], 0.95, ratio=True)
    # By hand, per unit: L = (y - R x) / xbar within each arm, pooled within-arm slope on c.
    ls, cs = [], []
    for y, c, x in arms:
        ls.append((y - y.sum() / x.sum() * x) / x.mean())
        cs.append(c - c.mean())
    theta = sum((lc * cc).sum() for lc, cc in zip(ls, cs, strict=True)) / sum((cc * cc).sum() for cc in cs)
    assert a["theta"] == pytest.approx(theta, rel=1e-9)
    cbar = np.concatenate([c for _, c, _ in arms]).mean()
    est = [y.sum() / x.sum() - theta * (c.mean() - cbar) for y, c, x in arms]
    assert a["difference"]["mean"] == pytest.approx(est[1] - est[0], rel=1e-9)
    var = [np.var(lc - theta * cc, ddof=1) / len(lc) for lc, cc in zip(ls, cs, strict=True)]
    raw = [np.var(lc, ddof=1) / len(lc) for lc in ls]
    assert a["variance_reduction"] == pytest.approx(1 - sum(var) / sum(raw), rel=1e-6)
    assert a["variance_reduction"] > 0.2


def test_cuped_below_the_stated_minimum_is_shown_not_used():
    rng = np.random.default_rng(4)
    rows = []
    for arm in ("pressure", "empathy"):
        y = (rng.random(4000) < 0.3).astype(float)
        c = rng.gamma(2, 100, 4000)  # unrelated to y
        rows.append(dict(_sums(y, c), metric="kept_ptp", family="binary", arm=arm, successes=y.sum(), accounts=4000))
    import pandas as pd

    doc = analyze_stats(pd.DataFrame(rows), Design("pressure", ["empathy"], primary="kept_ptp"), Settings(seed=1))
    r = doc["metrics"]["kept_ptp"]
    assert r["adjusted"]["used_in_decision"] is False and "effect_basis" not in r
    assert r["adjusted"]["variance_reduction"] < cuped.MIN_VARIANCE_REDUCTION
    assert "under the stated minimum" in r["adjusted"]["note"]


def test_recovery_verdict_uses_cuped_on_a_simulated_realistic_pilot(tmp_path):
    from workbench.metrics.engine import open_pilot
    from workbench.metrics.stats import sufficient_stats
    from workbench.simulate.pilot import simulate_pilot

    p = open_pilot(simulate_pilot(tmp_path / "p", accounts=6000, seed=1, preset="realistic", with_truth=False))
    stats = sufficient_stats(p.tables, p.config, metrics=["recovery"])
    doc = analyze_stats(stats, design_from_config(p.config), Settings(seed=1, draws=2000))
    r = doc["metrics"]["recovery"]
    adj = r["adjusted"]
    assert adj["method"] == "cuped_linearized_ratio" and adj["used_in_decision"]
    assert adj["variance_reduction"] >= cuped.MIN_VARIANCE_REDUCTION
    assert "CUPED" in r["effect_basis"] and f"{adj['variance_reduction']:.1%}" in r["effect_basis"]
    # The verdict reads the adjusted effect; the unadjusted one stays beside it.
    assert r["effect"]["difference"]["mean"] == pytest.approx(adj["difference"]["mean"], abs=2e-3 * abs(adj["arm_sd"][0]) + 1e-3)
    assert r["unadjusted"]["effect"]["difference"]["interval"] != r["effect"]["difference"]["interval"]
    width = np.diff(r["effect"]["difference"]["interval"])[0]
    assert width < np.diff(r["unadjusted"]["effect"]["difference"]["interval"])[0]
    if r["role"] == "guardrail":
        lo, hi = r["decision"]["harm_interval"]
        assert hi - lo == pytest.approx(width, rel=0.05)


def test_two_near_identical_pilots_pool_close_to_fixed_effect_and_say_spread_not_identified():
    r = pool([0.030, 0.032], [0.004, 0.004])
    fixed = np.diff(r["fixed_effect"]["interval"])[0]
    assert np.diff(r["mu"]["interval"])[0] < 1.5 * fixed  # was about 5x with a scale that grew with the effect
    assert r["tau"]["identified"] is False and "not identified" in r["tau"]["statement"]
    assert [s["tau_scale"] for s in r["sensitivity"]] == pytest.approx([0.002, 0.004, 0.008])
    widths = [np.diff(s["mu"]["interval"])[0] for s in r["sensitivity"]]
    assert widths == sorted(widths)


def test_the_spread_prior_does_not_grow_with_the_effect():
    a, b = pool([0.030, 0.032], [0.004, 0.004]), pool([0.300, 0.302], [0.004, 0.004])
    assert a["tau"]["prior"]["scale"] == b["tau"]["prior"]["scale"]
    assert np.diff(a["mu"]["interval"])[0] == pytest.approx(np.diff(b["mu"]["interval"])[0], rel=1e-3)


def test_many_consistent_effects_identify_the_spread():
    rng = np.random.default_rng(0)
    r = pool(0.03 + 0.02 * rng.standard_normal(30), [0.004] * 30)
    assert r["tau"]["identified"] is True and "statement" not in r["tau"]


def _doc(path, base, ratio_med, ratio_iv, diff, diff_iv):
    m = {
        "level": 0.95,
        "higher_is_better": True,
        "control": {"mean": base},
        "effect": {"difference": {"mean": diff, "interval": diff_iv}, "ratio": {"median": ratio_med, "interval": ratio_iv}},
    }
    path.write_text(json.dumps({"pilot": path.stem, "level": 0.95, "metrics": {"kept_ptp": m}}), encoding="utf-8")
    return path


def test_meta_pools_log_ratios_when_baselines_differ(tmp_path):
    a = _doc(tmp_path / "a.json", 0.20, 1.10, [1.02, 1.19], 0.02, [0.004, 0.036])
    b = _doc(tmp_path / "b.json", 0.40, 1.10, [1.04, 1.16], 0.04, [0.016, 0.064])
    r = meta_analysis([a, b], "kept_ptp")
    assert r["scale"] == "log ratio" and "control means differ" in r["scale_reason"]
    assert r["ratio"]["median"] == pytest.approx(1.10, rel=1e-3)
    same = _doc(tmp_path / "c.json", 0.21, 1.10, [1.02, 1.19], 0.021, [0.005, 0.037])
    assert meta_analysis([a, same], "kept_ptp")["scale"] == "difference"
