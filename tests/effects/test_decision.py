"""Decision rules pinned on hand-built statistics with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.defaults import THRESHOLDS, Thresholds, better_bar, worse_bar
from workbench.effects.analyze import Design, Settings, analyze_stats, final_look_thresholds
from workbench.effects.decision import (
    bh_adjust,
    control_fdr,
    judge_effect,
    judge_guardrail,
    prob_best,
    settle_n,
)

Z80 = stats.norm.ppf(0.8)


def _res(pb, lo, hi, *, pr=0.0, rope=0.005, loss=1e-5, loss_c=1e-5, n=1000, level=0.95, direction="higher is better"):
    return {
        "level": level,
        "prob_better": pb,
        "prob_rope": pr,
        "rope": rope,
        "expected_loss": loss,
        "expected_loss_control": loss_c,
        "effect": {"difference": {"mean": (lo + hi) / 2, "interval": [lo, hi]}},
        "control": {"n": n},
        "treatment": {"n": n},
        "direction": direction,
    }


def test_bar_is_two_sided_consistent_with_the_level():
    assert better_bar(THRESHOLDS, 0.95) == pytest.approx(0.975)
    assert worse_bar(THRESHOLDS, 0.95) == pytest.approx(0.025)
    assert better_bar(THRESHOLDS, 0.80) == pytest.approx(0.95)  # the floor holds at lower levels
    assert better_bar(Thresholds(better=0.99), 0.95) == pytest.approx(0.99)


def test_one_sided_095_beside_a_zero_holding_interval_is_not_better():
    # The A/A case of the issue: P(better) 0.969, 95% interval [-0.0004, +0.0254].
    d = judge_effect("exploratory", _res(0.969, -0.0004, 0.0254), THRESHOLDS)
    assert d.state == "inconclusive"
    assert d.as_dict()["exploratory"] is True


def test_better_and_worse_need_the_interval_and_the_loss():
    assert judge_effect("primary", _res(0.99, 0.001, 0.02), THRESHOLDS).state == "better"
    assert judge_effect("primary", _res(0.01, -0.02, -0.001), THRESHOLDS).state == "worse"
    # Lower is better: a negative difference is the better side.
    assert judge_effect("primary", _res(0.99, -0.02, -0.001, direction="lower is better"), THRESHOLDS).state == "better"
    # A clear direction whose expected loss exceeds the smallest change that matters is not a verdict.
    d = judge_effect("primary", _res(0.99, 0.001, 0.02, loss=0.01), THRESHOLDS)
    assert d.state == "inconclusive" and "expected loss" in d.reason


def test_equivalent_and_the_size_that_would_reach_it():
    assert judge_effect("primary", _res(0.6, -0.001, 0.002, pr=0.97), THRESHOLDS).state == "equivalent"
    d = judge_effect("primary", _res(0.6, -0.0196, 0.0196, rope=0.005, n=1000), THRESHOLDS)
    assert d.state == "inconclusive"
    sd = 0.0196 / stats.norm.ppf(0.975)
    want = int(np.ceil(1000 * ((stats.norm.ppf(0.975) + Z80) * sd / 0.005) ** 2))
    assert d.to_settle["accounts_per_arm"] == want
    assert f"{want:,}" in d.reason


def _harm(p, lo, hi, sd=0.001):
    return {"prob_harm": p, "interval": [lo, hi], "sd": sd, "mean": (lo + hi) / 2}


def test_guardrail_three_states():
    res = _res(0.5, -0.01, 0.01, n=5000)
    assert judge_guardrail(res, _harm(0.99, 0.002, 0.004), margin=0.001, threshold=0.05).state == "harm"
    assert judge_guardrail(res, _harm(0.01, -0.003, 0.0005), margin=0.001, threshold=0.05).state == "no harm beyond margin"
    d = judge_guardrail(res, _harm(0.20, -0.0025, 0.0015), margin=0.001, threshold=0.05)
    assert d.state == "not enough data"
    want = int(np.ceil(5000 * ((stats.norm.ppf(0.95) + Z80) * 0.001 / 0.001) ** 2))
    assert d.to_settle["accounts_per_arm"] == want and "zero" in d.to_settle["assumes"]
    # Some harm under the margin, interval holding zero: no-change size, the observed one beside it.
    d = judge_guardrail(res, _harm(0.30, -0.0015, 0.0025), margin=0.001, threshold=0.05)
    obs = int(np.ceil(5000 * ((stats.norm.ppf(0.95) + Z80) * 0.001 / 0.0005) ** 2))
    assert d.to_settle["accounts_per_arm"] == want and d.to_settle["if_observed"]["accounts_per_arm"] == obs
    # Harm under the margin shown (interval excludes zero): sized on the observed difference.
    d = judge_guardrail(res, _harm(0.30, 0.0002, 0.0008, sd=0.0002), margin=0.001, threshold=0.05)
    obs = int(np.ceil(5000 * ((stats.norm.ppf(0.95) + Z80) * 0.0002 / 0.0005) ** 2))
    assert d.to_settle["accounts_per_arm"] == obs and "observed" in d.to_settle["assumes"]
    # P(harm) high but the interval still reaches inside the margin: not "harm".
    d = judge_guardrail(res, _harm(0.96, 0.0005, 0.004), margin=0.001, threshold=0.05)
    assert d.state == "not enough data" and d.to_settle["question"].startswith("harm beyond")


def test_settle_n_closed_form():
    assert settle_n(100, 1.0, 1.0, 1.96, power=0.5) == int(np.ceil(100 * 1.96**2))
    assert settle_n(100, 1.0, 0.0, 1.96) is None


def test_benjamini_hochberg():
    assert bh_adjust([0.01, 0.04, 0.03, 0.2]) == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])
    entries = {
        "a": {"role": "exploratory", "decision": {"verdict": "better", "reason": "x"}, "frequentist": {"p_value": 0.04}},
        "b": {"role": "exploratory", "decision": {"verdict": "inconclusive", "reason": "x"}, "frequentist": {"p_value": 0.5}},
        "c": {"role": "exploratory", "decision": {"verdict": "worse", "reason": "x"}, "frequentist": {"p_value": 0.001}},
        "p": {"role": "primary", "decision": {"verdict": "better", "reason": "x"}, "frequentist": {"p_value": 0.04}},
    }
    control_fdr(entries, 0.95)
    assert entries["a"]["decision"]["verdict"] == "inconclusive"  # q = 0.04 x 3 / 2 = 0.06 >= 0.05
    assert entries["a"]["decision"]["q_value"] == pytest.approx(0.06)
    assert entries["c"]["decision"]["verdict"] == "worse"
    assert entries["p"]["decision"]["verdict"] == "better"  # the primary is not part of the family
    assert "Benjamini-Hochberg" in entries["b"]["decision"]["multiplicity"]


def test_prob_best_and_loss_against_the_best():
    draws = {"c": np.array([0.0, 0.0, 0.0, 0.0]), "a": np.array([1.0, 1.0, -1.0, -1.0]), "b": np.array([2.0, -2.0, 2.0, -2.0])}
    out = prob_best(draws, True)
    assert out["b"]["prob_best"] == 0.5 and out["a"]["prob_best"] == 0.25 and out["c"]["prob_best"] == 0.25
    # best per draw: 2, 1, 2, 0 -> c loses mean(2, 1, 2, 0) = 1.25
    assert out["c"]["expected_loss_vs_best"] == pytest.approx(1.25)


def _binary(arm, n, s, metric="kept_ptp"):
    return {
        "metric": metric,
        "family": "binary",
        "arm": arm,
        "n": n,
        "successes": s,
        "sum": s,
        "accounts": n,
        "excluded": 0,
        "mean": s / n,
    }


def test_three_arms_headline_names_each_arm():
    s = pd.DataFrame([_binary("pressure", 4000, 400), _binary("empathy", 4000, 520), _binary("hybrid", 4000, 300)])
    doc = analyze_stats(s, Design("pressure", ["empathy", "hybrid"], primary="kept_ptp"), Settings())
    dec = doc["decision"]
    assert dec["verdict"] == "empathy: better; hybrid: worse"
    assert dec["arms"]["hybrid"]["verdict"] == "worse"
    best = doc["metrics"]["kept_ptp"]["best_arm"]
    assert best["empathy"]["prob_best"] > 0.99 and best["hybrid"]["expected_loss_vs_best"] > 0.05


def _count(arm, n, y, metric="complaints"):
    return {
        "metric": metric,
        "family": "count",
        "arm": arm,
        "n": n,
        "sum": y,
        "sum_sq": y,
        "accounts": n,
        "excluded": 0,
        "mean": y / n,
    }


def test_guardrail_states_through_the_engine():
    g = {"complaints": {"margin": 0.001, "threshold": 0.05}}
    design = Design("pressure", ["empathy"], primary="kept_ptp", guardrails=g)
    base = [_binary("pressure", 5000, 400), _binary("empathy", 5000, 400)]
    same = analyze_stats(pd.DataFrame([*base, _count("pressure", 5000, 25), _count("empathy", 5000, 25)]), design, Settings())
    dec = same["metrics"]["complaints"]["decision"]
    assert dec["verdict"] == "not enough data" and dec["to_settle"]["accounts_per_arm"] > 5000
    harm = analyze_stats(pd.DataFrame([*base, _count("pressure", 5000, 25), _count("empathy", 5000, 200)]), design, Settings())
    assert harm["metrics"]["complaints"]["decision"]["verdict"] == "harm"
    assert harm["decision"]["arms"]["empathy"]["rollout"].startswith("blocked")
    big = 2_000_000
    ok = analyze_stats(pd.DataFrame([*base, _count("pressure", big, 10_000), _count("empathy", big, 10_000)]), design, Settings())
    assert ok["metrics"]["complaints"]["decision"]["verdict"] == "no harm beyond margin"


def test_no_verdict_contradicts_its_interval_on_aa_statistics():
    rng = np.random.default_rng(7)
    for i in range(20):
        sc, st = rng.binomial(3000, 0.1, 2)
        doc = analyze_stats(
            pd.DataFrame([_binary("pressure", 3000, sc), _binary("empathy", 3000, st)]),
            Design("pressure", ["empathy"], primary="kept_ptp"),
            Settings(seed=i, draws=1000),
        )
        m = doc["metrics"]["kept_ptp"]
        lo, hi = m["effect"]["difference"]["interval"]
        if m["decision"]["verdict"] in ("better", "worse"):
            assert lo > 0 or hi < 0


def test_final_look_uses_the_locked_monitoring_bar(tmp_path):
    import yaml

    (tmp_path / "pilot.yml").write_text("name: x\n")
    plan = {
        "plan": 1,
        "primary_metric": "kept_ptp",
        "guardrails": {},
        "rope": {},
        "thresholds": {},
        "looks": {"planned": 8, "threshold": 0.99},
    }
    (tmp_path / "plan.lock").write_text(yaml.safe_dump(plan))
    t, u = final_look_thresholds(tmp_path, THRESHOLDS)
    assert u == 0.99 and t.better == 0.99 and t.worse == pytest.approx(0.01)
    plan["looks"] = {"planned": 1}
    (tmp_path / "plan.lock").write_text(yaml.safe_dump(plan))
    assert final_look_thresholds(tmp_path, THRESHOLDS) == (THRESHOLDS, None)


def test_every_view_says_what_the_decision_says():
    from workbench.report import views
    from workbench.report.terminal import verdict_lines

    g = {"complaints": {"margin": 0.001, "threshold": 0.05}}
    design = Design("pressure", ["empathy", "hybrid"], primary="kept_ptp", guardrails=g)
    s = pd.DataFrame(
        [
            _binary("pressure", 5000, 400),
            _binary("empathy", 5000, 520),
            _binary("hybrid", 5000, 400),
            _count("pressure", 5000, 25),
            _count("empathy", 5000, 200),
            _count("hybrid", 5000, 25),
        ]
    )
    doc = analyze_stats(s, design, Settings())
    doc["data_quality"] = {"ok": True, "failed": []}
    dec = doc["decision"]
    assert dec["arms"]["empathy"]["verdict"] == "better, but a guardrail shows harm"
    assert dec["arms"]["hybrid"]["guardrails"]["complaints"] == "not enough data"
    lines = "\n".join(verdict_lines(doc))
    row = {(r.split()[0], r.split()[1]): r for r in lines.splitlines() if r.startswith("Complaints")}
    assert row[("Complaints", "empathy")].endswith("! harm")
    assert "? not enough data (~" in row[("Complaints", "hybrid")] and "per arm to settle)" in lines
    assert "hybrid: no clear change" in lines
    head = views.headline(doc)
    assert "EMPATHY: BETTER, BUT A GUARDRAIL SHOWS HARM" in head and "rollout blocked" in head
    assert views.role_note(doc, "complaints").startswith("Guardrail HARM")
    assert views.role_note(doc, "complaints", arm="hybrid").startswith("Guardrail not enough data")
    frame = views.effects_frame(doc)
    for _, row in frame.iterrows():
        lo, hi = doc["metrics"][row["metric"]]["effect"]["difference"]["interval"]
        if row["verdict"] in ("better", "worse", "harm"):
            assert lo > 0 or hi < 0
    assert set(views.guardrails_frame(doc)["result"]) == {"HARM"}


def test_cli_analyze_summary_judges_several_treatments(tmp_path):
    import json

    from shared import cli

    f = tmp_path / "s.csv"
    f.write_text("metric,arm,n,successes\nkept_ptp,pressure,4000,400\nkept_ptp,empathy,4000,520\nkept_ptp,hybrid,4000,300\n")
    out = tmp_path / "r.json"
    args = ["analyze-summary", str(f), "--control", "pressure", "--treatment", "empathy", "--treatment", "hybrid"]
    r = cli(*args, "--primary", "kept_ptp", "--out", out)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["decision"]["verdict"] == "empathy: better; hybrid: worse"
    assert set(doc["metrics"]["kept_ptp"]["comparisons"]) == {"empathy", "hybrid"}
    bad = cli(*args[:-1], "nowhere")
    assert bad.returncode == 1 and "nowhere" in bad.stderr and "Traceback" not in bad.stderr
