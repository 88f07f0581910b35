"""Exact probabilities, the exposure-free count prior, summaries as rich as the peers', signed metrics.

The peer cases (docs/effects.md, "Against the peers") are embedded as numbers:
no network at test time.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from workbench.effects import compare as effects
from workbench.effects.analyze import Design, Settings, analyze_stats
from workbench.effects.summary import read_summary, srm


def _cli(*args):
    """The verb run in this process (Typer's runner): a subprocess paid 10 s of imports a call.

    ``python -m workbench`` itself is run by tests/cli; here the verb's answers and its
    error handling are what is tested.
    """
    from typer.testing import CliRunner

    from workbench.cli.main import app

    return CliRunner().invoke(app, list(args))


def _run(tmp_path, text: str, seed: int = 1, draws: int = 4000, **design) -> dict:
    f = tmp_path / "s.csv"
    f.write_text(text, encoding="utf-8")
    s, hib, deff = read_summary(f, "A", "B")
    d = Design(control="A", treatments=["B"], higher_is_better=hib, design_effect=deff, **design)
    return analyze_stats(s, d, Settings(seed=seed, draws=draws))["metrics"]


# ------------------------------------------------------------------ exact P(better) and loss


def test_normal_posteriors_have_the_closed_form_answer():
    # P(t > c) = Phi(d / s), E[max(0, c - t)] = s phi(d/s) - d Phi(-d/s) for t - c ~ N(d, s^2).
    r = effects.exact_probabilities("norm", (1.0, 0.3), (1.2, 0.4), higher_is_better=True)
    d, s = 0.2, 0.5
    assert r["prob_better"] == pytest.approx(stats.norm.cdf(d / s), abs=1e-7)
    assert r["expected_loss"] == pytest.approx(s * stats.norm.pdf(d / s) - d * stats.norm.cdf(-d / s), abs=1e-6)
    assert r["expected_loss_control"] - r["expected_loss"] == pytest.approx(d, abs=1e-7)
    down = effects.exact_probabilities("norm", (1.0, 0.3), (1.2, 0.4), higher_is_better=False)
    assert down["prob_better"] == pytest.approx(1 - r["prob_better"], abs=1e-9)
    assert down["expected_loss"] == pytest.approx(r["expected_loss_control"], abs=1e-9)


@pytest.mark.parametrize(
    "kind, c, t",
    [("beta", (50, 52), (52, 50)), ("gamma", (271.0, 100.0), (301.0, 120.0)), ("t", (9, 1.0, 0.1), (14, 1.1, 0.2))],
)
def test_quadrature_agrees_with_a_million_draws(kind, c, t):
    r = effects.exact_probabilities(kind, c, t, higher_is_better=True)
    rng = np.random.default_rng(0)
    dc, dt = effects._dist(kind, c).rvs(1_000_000, random_state=rng), effects._dist(kind, t).rvs(1_000_000, random_state=rng)
    assert r["prob_better"] == pytest.approx(np.mean(dt > dc), abs=0.002)
    assert r["expected_loss"] == pytest.approx(np.mean(np.maximum(0, dc - dt)), rel=0.02)
    assert r["expected_loss_control"] == pytest.approx(np.mean(np.maximum(0, dt - dc)), rel=0.02)


def test_49_of_100_vs_51_of_100_is_0611_whatever_the_name_and_seed(tmp_path):
    # gbstats' binomial Bayesian case; Beta(50, 52) vs Beta(52, 50): P = 0.6108.
    rows = "".join(f"{m},A,100,49\n{m},B,100,51\n" for m in ("conversion", "kept_ptp", "x_rate"))
    seen = []
    for seed in (1, 2, 3, 99):
        for m, r in _run(tmp_path, "metric,arm,n,successes\n" + rows, seed=seed, draws=500).items():
            assert r["prob_better"] == pytest.approx(0.611, abs=0.002), m
            assert r["prob_better_method"].startswith("exact") and r["prob_better_mc_se"] == 0.0
            seen.append((r["prob_better"], r["expected_loss"]))
    assert len({round(p, 12) for p, _ in seen}) == 1 and len({round(x, 12) for _, x in seen}) == 1


def test_ordinal_draws_are_enough_for_prob_better_to_0002():
    assert effects.draws_for_stable_prob(0.5) >= 250_000
    assert math.sqrt(0.25 / effects.draws_for_stable_prob(0.5)) <= effects.PROB_BETTER_TOLERANCE


# ------------------------------------------------------------------ counts: GrowthBook's case

GB_COUNT = """metric,arm,n,exposure,events,sd
per_user,A,100,100,270,
per_user,B,120,120,300,
per_100_users,A,100,1,270,
per_100_users,B,120,1.2,300,
dispersed,A,100,100,270,1.0392
dispersed,B,120,120,300,1.0
dispersed_per_100,A,100,1,270,1.0392
dispersed_per_100,B,120,1.2,300,1.0
"""
# The same data given as mean and sd (variance / mean = 0.4).
GB_MEANS = """metric,arm,n,mean,sd
as_means,A,100,2.7,1.0392
as_means,B,120,2.5,1.0
"""


def test_count_prior_does_not_depend_on_the_unit_of_exposure(tmp_path):
    m = _run(tmp_path, GB_COUNT)
    assert m["per_user"]["prob_better"] == pytest.approx(m["per_100_users"]["prob_better"], abs=0.005)
    assert m["per_user"]["prob_better"] == pytest.approx(0.18, abs=0.01)  # pure Poisson
    assert m["dispersed"]["prob_better"] == pytest.approx(m["dispersed_per_100"]["prob_better"], abs=0.005)


def test_count_dispersion_agrees_with_the_mean_sd_route(tmp_path):
    counts, means = _run(tmp_path, GB_COUNT), _run(tmp_path, GB_MEANS)
    assert counts["dispersed"]["prob_better"] == pytest.approx(means["as_means"]["prob_better"], abs=0.005)
    assert means["as_means"]["prob_better"] == pytest.approx(0.08, abs=0.01)  # the peers' answer (issue 15)
    # The cross-check uses the dispersion too: its interval matches the means' Welch-type interval.
    f = counts["dispersed"]["frequentist"]
    assert f["method"] == "quasi_poisson_rate_difference"
    assert f["interval"] == pytest.approx(means["as_means"]["frequentist"]["interval"], abs=0.01)


def test_count_prior_is_stated_on_the_pooled_rate(tmp_path):
    from workbench.models import conjugate

    pri = conjugate.merge_priors(None)
    a, b = conjugate.count_prior(pri, [{"n": 100, "sum": 270}, {"n": 120, "sum": 300}])
    assert a == 1.0 and a / b == pytest.approx(570.5 / 220)
    # Given shape and rate are taken as they are.
    assert conjugate.count_prior(conjugate.merge_priors({"count": {"shape": 2, "rate": 4}}), []) == (2.0, 4.0)


# ------------------------------------------------------------------ signed metrics, headline


def test_no_relative_lift_when_the_control_reaches_zero_and_nps_in_points():
    rng = np.random.default_rng(1)
    c, t = -0.05 + 0.04 * rng.standard_normal(20000), 0.14 + 0.04 * rng.standard_normal(20000)
    r = effects.compare(c, t, higher_is_better=True, metric="nps")
    assert r["effect"]["relative_lift"]["headline"] is None and "no relative lift" in r["effect"]["relative_lift"]["note"]
    assert r["effect"]["difference_points"]["mean"] == pytest.approx(100 * r["effect"]["difference"]["mean"])
    assert r["effect"]["difference_points"]["unit"].startswith("NPS points")
    sc = effects.sceptical(c, t, higher_is_better=True, level=0.95, floor=r["rope"])
    assert sc["prior_sd"] == pytest.approx(0.05) and "equivalence" in sc["prior_basis"]


def test_lift_headline_is_the_ratio_of_means_everywhere():
    rng = np.random.default_rng(2)
    c, t = rng.gamma(3, 0.1, 50000), rng.gamma(2, 0.1, 50000)  # skewed: mean of t/c - 1 is far from it
    r = effects.compare(c, t, higher_is_better=True)
    lift = r["effect"]["relative_lift"]
    assert lift["headline_summary"] == effects.LIFT_HEADLINE == "ratio of means"
    assert lift["headline"] == pytest.approx(np.mean(t) / np.mean(c) - 1)
    assert r["effect"]["ratio"]["headline"] == pytest.approx(lift["headline"] + 1)


# ------------------------------------------------------------------ summaries: ratio, covariates, SRM, priors


def test_summary_ratio_rows_use_the_delta_method(tmp_path):
    rng = np.random.default_rng(5)
    lines = ["metric,arm,n,sum,sum_sq,denom,denom_sq,cross"]
    for arm, lift in (("A", 1.0), ("B", 1.1)):
        x = rng.gamma(2.0, 50.0, 4000)
        y = lift * 0.1 * x * rng.gamma(2.0, 0.5, 4000)
        lines.append(f"rev,{arm},4000,{y.sum()},{(y * y).sum()},{x.sum()},{(x * x).sum()},{(x * y).sum()}")
    r = _run(tmp_path, "\n".join(lines) + "\n")["rev"]
    assert r["model"] == "ratio_of_totals_delta_normal" and r["family"] == "ratio"
    assert r["frequentist"]["interval"][0] == pytest.approx(r["effect"]["difference"]["interval"][0], abs=0.003)
    assert r["prob_better_method"].startswith("exact")


def test_summary_covariate_sums_feed_cuped(tmp_path):
    rng = np.random.default_rng(6)
    lines = ["metric,arm,n,mean,sd,cov_sum,cov_sum_sq,cov_cross"]
    for arm, eff in (("A", 0.0), ("B", 0.05)):
        cov = rng.normal(10, 2, 3000)
        y = 0.5 * cov + eff + rng.normal(0, 0.6, 3000)
        lines.append(f"m,{arm},3000,{y.mean()},{y.std(ddof=1)},{cov.sum()},{(cov**2).sum()},{(cov * y).sum()}")
    r = _run(tmp_path, "\n".join(lines) + "\n")["m"]
    assert r["adjusted"]["used_in_decision"] and r["adjusted"]["variance_reduction"] > 0.7
    assert "CUPED" in r["effect_basis"] and "effect" in r["unadjusted"]


def test_srm_from_counts_and_allocation(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("metric,arm,n,successes,allocation\nm,A,1000,100,0.5\nm,B,1200,130,0.5\n", encoding="utf-8")
    s, _, _ = read_summary(f, "A", "B")
    check = srm(s, ["A", "B"])
    assert check["status"] == "fail" and check["p_value"] == pytest.approx(stats.chisquare([1000, 1200]).pvalue)
    f.write_text("metric,arm,n,successes,allocation\nm,A,1000,100,1\nm,B,1010,130,1\n", encoding="utf-8")
    assert srm(read_summary(f, "A", "B")[0], ["A", "B"])["status"] == "pass"


def test_cli_priors_and_draws(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("metric,arm,n,successes,allocation\nm,A,100,49,1\nm,B,100,51,1\n", encoding="utf-8")
    out = tmp_path / "r.json"
    ok = _cli("analyze-summary", str(f), "--control", "A", "--treatment", "B", "--draws", "300", "--out", str(out))
    assert ok.exit_code == 0, ok.output
    doc = json.loads(out.read_text())
    assert doc["srm"]["status"] == "pass" and doc["metrics"]["m"]["prob_better"] == pytest.approx(0.6108, abs=1e-3)
    pri = '{"binary": {"alpha": 50, "beta": 50}}'
    ok = _cli("analyze-summary", str(f), "--control", "A", "--treatment", "B", "--priors", pri, "--out", str(out))
    assert ok.exit_code == 0, ok.output
    assert json.loads(out.read_text())["metrics"]["m"]["prob_better"] < 0.6  # a strong prior pulls toward no change
    bad = _cli("analyze-summary", str(f), "--control", "A", "--treatment", "B", "--priors", '{"binary": {"alpa": 2}}')
    # one problem line naming the bad key, exit 1 through the verbs' handler (not an escaped exception)
    assert bad.exit_code == 1 and isinstance(bad.exception, SystemExit), bad.output
    assert "alpa" in bad.stderr and "ERROR internal" not in bad.stderr and "Traceback" not in bad.output


def test_handle_time_per_account_ratio_is_exact_and_not_cuped():
    import pandas as pd

    rng = np.random.default_rng(8)
    rows = []
    for arm, sec in (("pressure", 300.0), ("empathy", 320.0)):
        x = rng.poisson(2.0, 500).astype(float)
        y = x * rng.gamma(4.0, sec / 4.0, 500)
        c = rng.gamma(2, 100, 500)
        rows.append(
            {
                "metric": "handle_time",
                "family": "continuous",
                "arm": arm,
                "accounts": 500,
                "n": x.sum(),
                "sum": y.sum(),
                "sum_sq": (y * y).sum(),  # contact-level in a real pilot; not used by the account route
                "denom": x.sum(),
                "denom_sq": (x * x).sum(),
                "cross": (x * y).sum(),
                "acct_sum_sq": (y * y).sum(),
                "cov_n": x.sum(),
                "cov_sum": c.sum(),
                "cov_sum_sq": (c * c).sum(),
                "cov_cross": (c * y).sum(),
            }
        )
    r = analyze_stats(pd.DataFrame(rows), Design("pressure", ["empathy"]), Settings(seed=1))["metrics"]["handle_time"]
    assert r["model"] == "ratio_of_account_totals_delta_normal"
    assert r["prob_better_method"].startswith("exact") and "adjusted" not in r
