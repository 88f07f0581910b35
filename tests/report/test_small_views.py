"""The monitoring view of an early stop's estimate, the design verb's guardrail sizing, and the CLI's verdict table."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from workbench.cli.main import app
from workbench.report.claims import estimate_lines, monitor_lines


def test_monitor_lines_name_the_estimate_to_quote():
    est = {
        "naive": 0.052,
        "bias_adjusted": 0.031,
        "sceptical": {"mean": 0.02, "interval": [0.0, 0.04]},
        "quote": "bias_adjusted: the naive estimate of a trial stopped early overstates the effect",
    }
    lines = estimate_lines(est)
    assert lines[0] == "Effect at the stop: naive +5.2 points, bias-adjusted +3.1 points, sceptical prior +2.0 points."
    assert lines[1].startswith("Quote the bias-adjusted estimate: the naive estimate")
    mon = {
        "rule": {"u": 0.99, "e": 0.95, "max_looks": 8},
        "stop": {"stopped": True, "reason": "benefit", "look": 3, "date": "2026-02-01", "prob_better": 0.995, "estimate": est},
    }
    assert lines[1] in monitor_lines(mon)
    assert estimate_lines(None) == []


def test_design_prints_guardrail_sizing():
    args = ["design", "--metric", "kept_ptp", "--baseline", "0.1", "--effect", "0.03", "--sims", "40"]
    r = CliRunner().invoke(app, [*args, "--guardrail", "complaints=0.001,0.07"])
    assert r.exit_code == 0, r.output
    assert "guardrail complaints: accounts per arm to show no harm beyond 0.001:" in r.output
    assert "(driven by complaints)" in r.output
    bad = CliRunner().invoke(app, [*args, "--guardrail", "complaints=x"])
    assert bad.exit_code == 1 and "NAME=MARGIN,SD" in bad.output


def test_analyze_summary_prints_a_table_and_json_on_request(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("metric,arm,n,successes\nkept_ptp,pressure,4000,400\nkept_ptp,empathy,4000,520\n")
    args = ["analyze-summary", str(f), "--control", "pressure", "--treatment", "empathy", "--primary", "kept_ptp"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split() == ["outcome", "role", "control", "treatment", "difference", "95%", "interval", "state"]
    assert lines[2].startswith("Kept promise to pay") and "10.0%" in lines[2] and "+ better" in lines[2]
    assert "Verdict: Kept promise to pay (primary): better" in r.output and len(r.output) < 2000
    j = CliRunner().invoke(app, [*args, "--json"])
    assert json.loads(j.output)["decision"]["verdict"] == "better"
    out = tmp_path / "r.json"
    w = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert json.loads(out.read_text())["decision"]["verdict"] == "better" and "Verdict:" in w.output


def test_balance_table_names_each_covariate_with_its_smd():
    from workbench.report.views import balance_frame

    nums = {
        "smd": {"empathy": {"balance": 0.3, "segment=medical": -0.12}},
        "means": {"balance": {"pressure": 2000.0, "empathy": 2300.0}, "segment=medical": {"pressure": 0.1, "empathy": 0.07}},
        "warn": 0.1,
        "fail": 0.25,
    }
    t = balance_frame(nums)
    assert list(t["covariate"]) == ["balance", "share in segment medical"]
    assert list(t["SMD, empathy"]) == ["+0.300", "-0.120"] and list(t["flag, empathy"]) == ["FAIL", "warn"]
    assert list(t["mean, pressure"]) == ["2,000.0", "10.0%"]


def test_check_summary_names_no_undeclared_segment():
    from workbench.report.views import scrub_undeclared

    nums = {"smd": {"empathy": {"segment=Jane Roe +1-555-0199": 0.03, "segment=stable": 0.05}}}
    text = "largest |SMD| = 0.05: segment=stable +0.05, segment=Jane Roe +1-555-0199 +0.03"
    out = scrub_undeclared(text, nums, ["stable"])
    assert "Jane" not in out and "555" not in out and "segment=stable +0.05" in out and "segment=other +0.03" in out
    assert scrub_undeclared(text, nums, None) == text
