"""Claims judged on published arm-level counts of real randomized experiments.

Physicians' Health Study (aspirin arm), myocardial infarction over about five
years: aspirin 104 of 11,037, placebo 189 of 11,034 (Steering Committee of the
Physicians' Health Study Research Group, NEJM 1989;321:129-135; the counts as
in Agresti, Categorical Data Analysis, Table 2.3, shipped e.g. as
``vcdExtra``/``HSAUR`` teaching data). Published: relative risk 0.56 (95% CI
0.45 to 0.70), a 44% reduction.

Salk vaccine field trial 1954, randomized placebo-controlled areas: vaccine
200,000 children with 28 polio cases per 100,000 (56), placebo 200,000 with
71 per 100,000 (142) (Francis et al. 1955, as in Freedman, Pisani and Purves,
Statistics, ch. 1, Table 1). Published: the vaccine cut the rate by more than half.

There is no network at test time, so the counts are embedded here.
"""

from __future__ import annotations

import json

import pytest
from shared import cli

from workbench.claims import Claim, evaluate
from workbench.effects.analyze import Design, Settings, analyze_stats
from workbench.effects.summary import read_summary

PHS = "metric,arm,n,successes,higher_is_better\nptp,placebo,11034,189,false\nptp,aspirin,11037,104,false\n"
SALK = "metric,arm,n,successes,higher_is_better\nptp,placebo,200000,142,false\nptp,vaccine,200000,56,false\n"


def _judge(tmp_path, csv, control, treatment, claims):
    f = tmp_path / "counts.csv"
    f.write_text(csv)
    stats, hib, deff = read_summary(f, control, treatment)
    draws: dict = {}
    doc = analyze_stats(
        stats, Design(control, [treatment], higher_is_better=hib, design_effect=deff), Settings(), draws_out=draws
    )
    return {r["id"]: r for r in evaluate(claims, draws, stats, control, treatment, doc=doc)}


def _lift(cid, lo, hi):
    return Claim(id=cid, text=cid, metric="ptp", scale="relative_lift", range=(lo, hi), direction="decrease")


@pytest.mark.parametrize(
    ("cid", "lo", "hi", "verdict"),
    [
        ("at-least-25pct-fewer-mi", None, -0.25, "supported"),  # published CI upper end: 30% fewer
        ("at-least-70pct-fewer-mi", None, -0.70, "contradicted"),  # published CI lower end: 55% fewer
        ("at-least-half-fewer-mi", None, -0.50, "inconclusive"),  # 50% lies inside the published CI
        ("more-mi-on-aspirin", 0.0, None, "contradicted"),
    ],
)
def test_physicians_health_study(tmp_path, cid, lo, hi, verdict):
    r = _judge(tmp_path, PHS, "placebo", "aspirin", [_lift(cid, lo, hi)])[cid]
    assert r["verdict"] == verdict
    assert r["median"] == pytest.approx(104 / 11037 / (189 / 11034) - 1, abs=0.02)
    assert r["interval"][0] == pytest.approx(0.45 - 1, abs=0.04) and r["interval"][1] == pytest.approx(0.70 - 1, abs=0.04)


def test_physicians_health_study_sizing_says_how_to_settle(tmp_path):
    r = _judge(tmp_path, PHS, "placebo", "aspirin", [_lift("half", None, -0.50)])["half"]
    assert r["to_settle"]["method"].startswith("assurance")
    assert r["to_settle"]["max_prob_support"] < 0.8  # the truth may well be above -50%: no size supports it reliably


def test_salk_vaccine_trial(tmp_path):
    claims = [
        _lift("cut-by-at-least-40pct", None, -0.40),
        _lift("cut-by-at-least-80pct", None, -0.80),
        Claim(id="level", text="placebo polio rate", metric="ptp", scale="level", range=(0.0002, 0.0004)),
    ]
    r = _judge(tmp_path, SALK, "placebo", "vaccine", claims)
    assert r["cut-by-at-least-40pct"]["verdict"] == "supported"
    assert r["cut-by-at-least-80pct"]["verdict"] == "contradicted"
    assert r["level"]["verdict"] == "supported"  # vaccine arm: 28 per 100,000 with a flat prior on the share


def test_published_counts_via_cli_with_only(tmp_path):
    f, reg, out = tmp_path / "phs.csv", tmp_path / "phs.yml", tmp_path / "c.json"
    f.write_text(PHS)
    reg.write_text(
        "claims:\n  - id: phs-quarter\n    text: aspirin prevents a quarter of heart attacks\n"
        "    source: PHS 1989\n    direction: decrease\n    readings:\n"
        "      - {id: rr, metric: ptp, scale: ratio, range: [null, 0.75], note: risk ratio of MI at most 0.75}\n"
    )
    args = ["claims", "--summary", str(f), "--control", "placebo", "--treatment", "aspirin", "--claims", str(reg)]
    r = cli(*args, "--only", "--out", out)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())["claims"]
    assert [c["id"] for c in doc] == ["phs-quarter"] and doc[0]["verdict"] == "supported"
    assert "risk ratio of MI at most 0.75" in r.stdout and doc[0]["reading"] == "risk ratio of MI at most 0.75"
