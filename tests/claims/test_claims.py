"""The claims register and its verdicts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from shared import cli

from workbench.claims import Claim, evaluate, load_register
from workbench.contract.config import ConfigError


def _cli(*args):
    return cli(*args)  # in this process (tests/shared.py): the verb's answer without 3-4 s of imports


def test_shipped_register_has_the_industry_claims():
    ids = {c.id for c in load_register()}
    assert {
        "symend-engagement-3-5x",
        "officegurus-recovery-35pct",
        "officegurus-retention-60pct",
        "foundever-ptp-6pct",
        "foundever-collections-30pct-6mo",
        "encore-positive-92-5pct",
        "fusioncx-fewer-complaints",
        "fusioncx-more-kept-promises",
    } <= ids
    six = next(c for c in load_register() if c.id == "foundever-collections-30pct-6mo")
    assert six.horizon_days == 180


def test_bad_register_lists_every_problem(tmp_path):
    f = tmp_path / "c.yml"
    f.write_text(
        "claims:\n  - {id: a, text: x, metric: ptp, scale: bigger, range: [1, 2]}\n"
        "  - {id: b, text: y, metric: ptp, scale: ratio, range: [null, null]}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_register(f)
    assert len(e.value.lines()) == 2
    assert "claim a: scale" in e.value.lines()[0] and "claim b" in e.value.lines()[1]


def _draws(c_mean, t_mean, sd, n=20000, seed=0):
    rng = np.random.default_rng(seed)
    return {"engagement": {"c": rng.normal(c_mean, sd, n), "t": rng.normal(t_mean, sd, n)}}


def test_verdicts_supported_contradicted_inconclusive():
    claim = Claim(id="x", text="3-5x", metric="engagement", scale="ratio", range=(3, 5))
    stats = pd.DataFrame({"metric": ["engagement"] * 2, "arm": ["c", "t"], "n": [1000, 1000]})
    sup = evaluate([claim], _draws(0.1, 0.4, 0.002), stats, "c", "t")[0]
    con = evaluate([claim], _draws(0.1, 0.12, 0.002), stats, "c", "t")[0]
    inc = evaluate([claim], _draws(0.1, 0.3, 0.02), stats, "c", "t")[0]
    assert (sup["verdict"], con["verdict"], inc["verdict"]) == ("supported", "contradicted", "inconclusive")
    assert sup["probability"] > 0.95 and con["probability"] < 0.05
    assert inc["to_settle"]["accounts_per_arm"] > 1000


def test_arithmetic_check_five_times_thirty_percent_is_not_a_rate():
    claim = Claim(id="x", text="5x", metric="engagement", scale="ratio", range=(5, None))
    r = evaluate([claim], _draws(0.3, 0.35, 0.01), None, "c", "t")[0]
    assert r["arithmetic"]["feasible"] is False
    assert "cannot exceed" in r["arithmetic"]["note"]


def test_claims_on_summary_counts_via_cli(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text(
        "metric,arm,n,successes\nengagement,pressure,5000,500\nengagement,empathy,5000,2000\n"
        "kept_ptp,pressure,5000,300\nkept_ptp,empathy,5000,290\n"
    )
    out = tmp_path / "claims.json"
    r = _cli("claims", "--summary", str(f), "--control", "pressure", "--treatment", "empathy", "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = {c["id"]: c for c in json.loads(out.read_text())["claims"]}
    assert doc["symend-engagement-3-5x"]["verdict"] == "supported"  # 4x
    assert set(doc["fusioncx-more-kept-promises"]) >= {"id", "probability", "verdict", "mean", "interval"}
    assert doc["industry-retention-improves"]["verdict"] == "not testable"
    assert doc["officegurus-retention-60pct"]["verdict"] == "not a causal contrast"


def test_claims_cli_custom_register_errors(tmp_path):
    f = tmp_path / "c.yml"
    f.write_text("- {id: a, text: x, metric: ptp, scale: ratio}\n")
    r = _cli("claims", "--summary", "x.csv", "--control", "a", "--treatment", "b", "--claims", str(f))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "claim a: range: Field required" in r.stderr


@pytest.fixture(scope="module")
def demo_claims(tmp_path_factory):
    from workbench.simulate.pilot import simulate_pilot

    tmp = tmp_path_factory.mktemp("claims")
    root = simulate_pilot(tmp / "p", accounts=3000, seed=5, preset="vendor-claims", agents=10, with_truth=False)
    extra = tmp / "extra.yml"
    extra.write_text("- {id: mine, text: mine, metric: ptp, scale: difference, range: [0, null], note: my reading}\n")
    out = tmp / "c.json"
    r = _cli("claims", str(root), "--out", str(out), "--claims", str(extra))
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text()), r.stdout


def test_every_claim_gets_a_verdict_on_a_pilot(demo_claims):
    doc, _ = demo_claims
    claims = doc["claims"]
    assert len(claims) == len(load_register()) + 1  # --claims adds to the shipped register
    assert claims[-1]["id"] == "mine"
    known = {"supported", "contradicted", "inconclusive", "not testable", "not testable at this horizon"}
    assert all(c["verdict"] in known | {"not a causal contrast", "depends on the reading"} for c in claims)


def test_no_claim_beyond_the_pilot_horizon_is_judged(demo_claims):
    doc, out = demo_claims
    for c in doc["claims"]:
        h = c["horizon"]
        if h["claim_days"] and h["pilot_days"] and h["claim_days"] > h["pilot_days"]:
            assert c["verdict"] not in ("supported", "contradicted") and c["probability"] is None
    six = next(c for c in doc["claims"] if c["id"] == "foundever-collections-30pct-6mo")
    assert six["verdict"] == "not testable at this horizon"
    assert "180 days" in six["horizon_note"] and "60 days" in six["horizon_note"]
    assert six["at_pilot_horizon"]["days"] == 60 and six["at_pilot_horizon"]["readings"][0]["probability"] is not None
    assert "not testable at this horizon" in out and "figures beside are at 60 days" in out


def test_conditional_retention_is_not_a_causal_contrast(demo_claims):
    doc, out = demo_claims
    c = next(c for c in doc["claims"] if c["id"] == "officegurus-retention-60pct")
    assert c["verdict"] == "not a causal contrast" and c["population"] == "kept_promise"
    d = c["descriptive"]
    assert d["label"] == "descriptive, not causal" and d["mean"] is not None and set(d["share"]) == {"pressure", "empathy"}
    assert len(c["readings"]) == 2 and "churn" in c["reading"]
    assert "descriptive, not causal" in out


def test_every_reading_reaches_json_cli_and_report(demo_claims):
    from workbench.report.claims import claims_frame, claims_notes

    doc, out = demo_claims
    frame = claims_frame(doc)
    notes = " ".join(claims_notes(doc))
    for c, row in zip(doc["claims"], frame.to_dict("records"), strict=True):
        for r in c["readings"]:
            assert r["reading"] and r["reading"] in c["reading"]
            assert r["reading"] in out
        assert row["reading"] == c["reading"]
    multi = [c for c in doc["claims"] if len(c["readings"]) > 1]
    assert multi and all(c["text"] in notes for c in multi)


def test_thresholds_come_from_defaults():
    from workbench.defaults import Thresholds

    claim = Claim(id="x", text="3-5x", metric="engagement", scale="ratio", range=(3, 5))
    stats = pd.DataFrame({"metric": ["engagement"] * 2, "arm": ["c", "t"], "n": [1000, 1000]})
    r = evaluate([claim], _draws(0.1, 0.33, 0.004), stats, "c", "t")[0]
    strict = evaluate([claim], _draws(0.1, 0.33, 0.004), stats, "c", "t", thresholds=Thresholds(support=0.9999))[0]
    assert r["verdict"] == "supported" and strict["verdict"] == "inconclusive"


def test_sizing_says_when_the_claimed_direction_cannot_be_reached():
    claim = Claim(id="x", text="fewer", metric="engagement", scale="difference", range=(None, 0.0))
    stats = pd.DataFrame({"metric": ["engagement"] * 2, "arm": ["c", "t"], "n": [1000, 1000]})
    r = evaluate([claim], _draws(0.1, 0.104, 0.003), stats, "c", "t")[0]  # points the other way
    assert r["verdict"] == "inconclusive"
    assert r["to_settle"]["note"].startswith("cannot be settled in the claimed direction")


def test_level_claim_uses_a_flat_prior_on_the_share():
    claim = Claim(id="x", text="92.5%", metric="csat", scale="level", quantity="top2", range=(0.9, 0.95))
    row = {"metric": "csat", "arm": "t", "n": 60, "cat_1": 0, "cat_2": 1, "cat_3": 4, "cat_4": 20, "cat_5": 35}
    stats = pd.DataFrame([row, {**row, "arm": "c"}])
    rng = np.random.default_rng(0)
    r = evaluate([claim], {"csat": {"c": rng.normal(4, 0.1, 4000), "t": rng.normal(4, 0.1, 4000)}}, stats, "c", "t")[0]
    from scipy import stats as st

    exact = st.beta(56, 6).cdf(0.95) - st.beta(56, 6).cdf(0.9)
    assert r["probability"] == pytest.approx(exact, abs=0.02)


def test_heterogeneity_claim_reads_the_segment_model():
    claim = Claim(id="h", text="not a monolith", metric="ptp", scale="between_segment_sd", range=(0.02, None))
    seg = lambda m, half: {"effect": {"difference": {"mean": m, "interval": [m - half, m + half]}}, "diagnostics": {"ok": True}}  # noqa: E731
    spread = {"metrics": {"ptp": {"segments": {f"s{i}": seg(m, 0.01) for i, m in enumerate([-0.1, 0.0, 0.1, 0.2])}}}}
    flat = {"metrics": {"ptp": {"segments": {f"s{i}": seg(0.05, 0.01) for i in range(4)}}}}
    assert evaluate([claim], {}, None, "c", "t", doc=spread)[0]["verdict"] == "supported"
    assert evaluate([claim], {}, None, "c", "t", doc=flat)[0]["verdict"] == "contradicted"


def test_retention_is_not_read_past_the_longest_follow_up():
    claim = Claim(id="r", text="retention", metric="retention", scale="difference", range=(0, None), horizon_days=180)
    stats = pd.DataFrame({"metric": ["retention"] * 2, "arm": ["c", "t"], "n": [500, 500]})
    rng = np.random.default_rng(1)
    draws = {"retention": {"c": rng.normal(0.5, 0.01, 4000), "t": rng.normal(0.6, 0.01, 4000)}}
    windows = {"outcome_days": 60, "retention_days": 180}
    full = evaluate([claim], draws, stats, "c", "t", windows=windows, follow_up_days=200)[0]
    short = evaluate([claim], draws, stats, "c", "t", windows=windows, follow_up_days=120)[0]
    assert full["verdict"] == "supported"
    assert short["verdict"] == "not testable at this horizon" and short["horizon"]["pilot_days"] == 120
    assert short["at_pilot_horizon"]["readings"][0]["verdict"] == "supported"  # labelled, beside


def test_readings_that_disagree_say_so():
    claim = Claim.model_validate(
        {
            "id": "two",
            "text": "60% better retention",
            "readings": [
                {"id": "lift", "metric": "engagement", "scale": "relative_lift", "range": [0.6, None], "note": "+60% retained"},
                {
                    "id": "churn",
                    "metric": "engagement",
                    "scale": "ratio",
                    "transform": "complement",
                    "range": [None, 0.4],
                    "note": "60% less churn",
                },
            ],
        }
    )
    r = evaluate([claim], _draws(0.5, 0.85, 0.005), None, "c", "t")[0]  # +70% retained, churn 0.3 of control's
    assert r["verdict"] == "supported" and r["agreement"] == "every reading: supported"
    r = evaluate([claim], _draws(0.6, 0.85, 0.005), None, "c", "t")[0]  # +42% retained, churn 0.375 of control's
    assert r["verdict"] == "depends on the reading"
    assert "contradicted under lift" in r["agreement"] and "supported under churn" in r["agreement"]


def test_only_needs_a_register():
    r = _cli("claims", "--summary", "x.csv", "--control", "a", "--treatment", "b", "--only")
    assert r.returncode == 1 and "Traceback" not in r.stderr and "--only needs" in r.stderr
