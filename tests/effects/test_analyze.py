"""analyze and analyze-summary: the results document, its keys and its bytes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pilot_factory import make_pilot
from shared import cli

from workbench.effects.analyze import Design, Settings, analyze_pilot, analyze_stats, to_json

REQUIRED = {
    "control",
    "treatment",
    "effect",
    "level",
    "prob_better",
    "expected_loss",
    "prob_rope",
    "model",
    "sensitivity",
    "frequentist",
    "diagnostics",
}


def _cli(*args):
    return cli(*args)  # in this process (tests/shared.py): the verb's answer without 3-4 s of imports


def _binary_stats(nc=4000, sc=400, nt=4000, st=520, metric="kept_ptp"):
    return pd.DataFrame(
        [
            {
                "metric": metric,
                "family": "binary",
                "arm": "pressure",
                "n": nc,
                "successes": sc,
                "sum": sc,
                "accounts": nc,
                "excluded": 3,
                "mean": sc / nc,
            },
            {
                "metric": metric,
                "family": "binary",
                "arm": "empathy",
                "n": nt,
                "successes": st,
                "sum": st,
                "accounts": nt,
                "excluded": 5,
                "mean": st / nt,
            },
        ]
    )


def test_document_has_the_public_keys():
    doc = analyze_stats(_binary_stats(), Design("pressure", ["empathy"], primary="kept_ptp"), Settings(seed=1))
    m = doc["metrics"]["kept_ptp"]
    assert set(m) >= REQUIRED
    for k in ("difference", "ratio", "relative_lift"):
        assert set(m["effect"][k]) >= {"mean", "interval"} and len(m["effect"][k]["interval"]) == 2
    assert set(m["control"]) >= {"n", "mean", "excluded"}
    assert m["control"]["excluded"] == 3
    assert set(m["diagnostics"]) >= {"r_hat_max", "ess_bulk_min", "divergences", "ok"}
    assert m["effect"]["difference"]["mean"] == pytest.approx(0.03, abs=0.002)
    assert m["decision"]["verdict"] == "better" and doc["decision"]["verdict"] == "better"


def test_same_seed_same_bytes_and_level_is_written():
    s = _binary_stats()
    a = to_json(analyze_stats(s, Design("pressure", ["empathy"]), Settings(seed=3, level=0.9)))
    b = to_json(analyze_stats(s, Design("pressure", ["empathy"]), Settings(seed=3, level=0.9)))
    c = to_json(analyze_stats(s, Design("pressure", ["empathy"]), Settings(seed=4, level=0.9)))
    assert a == b and a != c
    assert json.loads(a)["metrics"]["kept_ptp"]["level"] == 0.9


def test_three_arms_give_comparisons():
    s = pd.concat([_binary_stats(), _binary_stats().iloc[[1]].assign(arm="hybrid", successes=450, sum=450)])
    doc = analyze_stats(s, Design("pressure", ["empathy", "hybrid"]), Settings())
    comps = doc["metrics"]["kept_ptp"]["comparisons"]
    assert set(comps) == {"empathy", "hybrid"}
    assert comps["hybrid"]["effect"]["difference"]["mean"] == pytest.approx(0.0125, abs=0.002)


def test_guardrail_shows_harm():
    s = _binary_stats(sc=100, st=200, metric="complaints").assign(family="count", sum_sq=lambda d: d["sum"])
    doc = analyze_stats(
        s, Design("pressure", ["empathy"], guardrails={"complaints": {"margin": 0.0, "threshold": 0.05}}), Settings()
    )
    assert doc["metrics"]["complaints"]["decision"]["verdict"] == "harm"


def test_failed_diagnostics_never_give_a_verdict():
    # Handle time from two contacts per arm: the large-sample posterior is not trusted.
    s = pd.DataFrame(
        [
            {
                "metric": "handle_time",
                "family": "continuous",
                "arm": a,
                "n": 2,
                "sum": v,
                "sum_sq": v * v / 2 + 10,
                "accounts": 2,
                "excluded": 0,
            }
            for a, v in (("pressure", 600.0), ("empathy", 900.0))
        ]
    )
    doc = analyze_stats(s, Design("pressure", ["empathy"], primary="handle_time"), Settings())
    m = doc["metrics"]["handle_time"]
    assert m["diagnostics"]["ok"] is False
    assert m["decision"]["verdict"] == "inconclusive"
    assert doc["decision"]["verdict"] == "inconclusive"


def test_analyze_pilot_runs_every_available_metric(tmp_path):
    doc = analyze_pilot(make_pilot(tmp_path / "p"), Settings(draws=500))
    assert {"engagement", "ptp", "kept_ptp", "complaints", "csat", "recovery", "contact_intensity"} <= set(doc["metrics"])
    assert doc["metrics"]["kept_rate"]["decision"]["verdict"] == "descriptive"
    assert doc["metrics"]["kept_ptp"]["role"] == "primary"


def test_cli_analyze_summary(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text(
        "metric,arm,n,successes,mean,sd,exposure,events,higher_is_better,design_effect\n"
        "engagement,pressure,1000,120,,,,,,\n"
        "engagement,empathy,1000,300,,,,,,1.5\n"
        "paid,pressure,1000,,52,80,,,true,\n"
        "paid,empathy,1000,,60,85,,,true,\n"
        "complaints,pressure,,,,,1000,9,false,\n"
        "complaints,empathy,,,,,1000,4,false,\n"
    )
    out = tmp_path / "r.json"
    r = _cli("analyze-summary", str(f), "--control", "pressure", "--treatment", "empathy", "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["metrics"]["engagement"]["design_effect"] == 1.5
    ratio = doc["metrics"]["engagement"]["effect"]["ratio"]
    assert 2.0 < ratio["median"] < 3.0
    assert doc["metrics"]["complaints"]["higher_is_better"] is False
    assert doc["metrics"]["paid"]["model"] == "normal_mean_jeffreys"
    assert json.loads(out.read_text()) == json.loads(to_json(doc))


def test_cli_analyze_summary_bad_input_one_line_each(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("metric,arm,n,successes\nengagement,pressure,100,120\nengagement,empathy,abc,3\nptp,pressure,10,\n")
    r = _cli("analyze-summary", str(f), "--control", "pressure", "--treatment", "empathy")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert any("line 2" in x and "successes <= n" in x for x in lines)
    assert any("line 3" in x and "must be numbers" in x for x in lines)
    assert any("line 4" in x and "needs successes" in x for x in lines)


def test_cli_analyze_writes_sorted_json(tmp_path):
    root = make_pilot(tmp_path / "p")
    out = tmp_path / "r.json"
    r = _cli("analyze", str(root), "--out", str(out), "--draws", "500")
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    doc = json.loads(text)
    assert text == json.dumps(doc, sort_keys=True, indent=2) + "\n"
    assert "tmp" not in text  # no path inside
    # again in a new process (another hash seed, nothing cached): the same bytes
    again = [sys.executable, "-m", "workbench", "analyze", str(root), "--out", str(tmp_path / "r2.json"), "--draws", "500"]
    r2 = subprocess.run(again, capture_output=True, text=True, check=False)
    assert r2.returncode == 0 and (tmp_path / "r2.json").read_text() == text


def test_binary_coverage_on_a_few_pilots():
    """Short version of the calibration benchmark: 95% intervals cover the truth."""
    rng = np.random.default_rng(11)
    hits = 0
    for i in range(60):
        p0, p1 = 0.2, 0.25
        s = _binary_stats(2000, rng.binomial(2000, p0), 2000, rng.binomial(2000, p1))
        doc = analyze_stats(s, Design("pressure", ["empathy"]), Settings(seed=i, draws=2000))
        lo, hi = doc["metrics"]["kept_ptp"]["effect"]["difference"]["interval"]
        hits += lo < p1 - p0 < hi
    assert hits >= 52  # 95% of 60 = 57; 52 is more than three Monte-Carlo SEs below


def test_failed_srm_makes_the_headline_inconclusive(tmp_path):
    from pilot_factory import config_dict
    from pilot_factory import tables as base_tables

    from workbench.contract.config import parse_config
    from workbench.contract.io import write_pilot

    t = base_tables()
    acc = t["accounts"]
    # 60 control accounts against 4 treated ones: a broken assignment.
    extra = pd.concat([acc.iloc[[0]]] * 60, ignore_index=True)
    extra["account_id"] = [f"X{i}" for i in range(60)]
    t["accounts"] = pd.concat([acc, extra], ignore_index=True)
    root = write_pilot(tmp_path / "p", parse_config(config_dict()), t)
    doc = analyze_pilot(root, Settings(draws=300))
    assert doc["checks"]["srm"]["status"] == "fail"
    assert doc["data_quality"]["ok"] is False
    assert doc["decision"]["verdict"] == "inconclusive" and "srm" in doc["decision"]["reason"]
    # every arm says the same, and no rollout reads as a green light beside it
    arm = doc["decision"]["arms"]["empathy"]
    assert arm["verdict"] == "inconclusive" and "srm" in arm["reason"]
    assert arm["rollout"].startswith("no decision: data quality check(s) failed") and "srm" in arm["rollout"]
    assert "rollout_before_checks" in arm and "verdict_before_checks" in arm
    # the failed check blocks every guardrail's reading too: harm is ruled out on none of them
    guardrails = sorted(k for k, m in doc["metrics"].items() if m.get("role") == "guardrail")
    assert guardrails and arm["harm_not_ruled_out"] == guardrails
    from workbench.report.terminal import verdict_lines

    lines = verdict_lines(doc)
    assert any(x.strip().startswith("rollout: no decision") for x in lines), lines
    assert not any(x.strip() == "rollout: not blocked" for x in lines), lines


def test_analyze_flags_deviation_from_a_locked_plan(tmp_path):
    from workbench.contract.config import load_config
    from workbench.contract.plan import plan_from_config, write_plan

    root = make_pilot(tmp_path / "p")
    assert analyze_pilot(root, Settings(draws=300))["plan"] == {"locked": False}
    cfg = load_config(root / "pilot.yml")
    write_plan(plan_from_config(cfg), root / "plan.lock")
    assert analyze_pilot(root, Settings(draws=300))["plan"]["followed"] is True
    write_plan(plan_from_config(cfg.model_copy(update={"primary_metric": "ptp"})), root / "plan.lock")
    doc = analyze_pilot(root, Settings(draws=300))
    assert doc["plan"]["locked"] is True
    assert any("primary metric changed" in d for d in doc["plan"]["deviations"])


def test_segment_effects_are_partially_pooled():
    rows = []
    for seg, (sc, st) in {"a": (100, 160), "b": (100, 100), "c": (100, 130), "d": (100, 125)}.items():
        for arm, s in (("pressure", sc), ("empathy", st)):
            rows.append(
                {
                    "metric": "ptp",
                    "family": "binary",
                    "arm": arm,
                    "segment": seg,
                    "n": 1000,
                    "successes": s,
                    "sum": s,
                    "accounts": 1000,
                    "excluded": 0,
                }
            )
    seg = pd.DataFrame(rows)
    overall = seg.groupby("arm", as_index=False)[["n", "successes", "sum", "accounts", "excluded"]].sum()
    overall["metric"], overall["family"] = "ptp", "binary"
    doc = analyze_stats(overall, Design("pressure", ["empathy"]), Settings(), segment_stats=seg)
    segs = doc["metrics"]["ptp"]["segments"]
    raw = {k: v["effect"]["difference"]["mean"] for k, v in segs.items()}
    pooled = {k: v["pooled"]["difference"]["mean"] for k, v in segs.items()}
    mid = sum(raw.values()) / len(raw)
    # Every segment moves toward the common mean, none past it.
    for k, r in raw.items():
        assert abs(pooled[k] - mid) <= abs(r - mid) + 1e-9
    assert pooled["a"] < raw["a"] and pooled["b"] > raw["b"]
