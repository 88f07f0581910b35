"""The claims register and its verdicts."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from workbench.claims import Claim, evaluate, load_register
from workbench.contract.config import ConfigError


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, check=False)


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
    assert doc["officegurus-retention-60pct"]["verdict"] == "not testable"


def test_claims_cli_custom_register_errors(tmp_path):
    f = tmp_path / "c.yml"
    f.write_text("- {id: a, text: x, metric: ptp, scale: ratio}\n")
    r = _cli("claims", "--summary", "x.csv", "--control", "a", "--treatment", "b", "--claims", str(f))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "claim a: range: Field required" in r.stderr


def test_every_claim_gets_a_verdict_on_a_pilot(tmp_path):
    from workbench.simulate.pilot import simulate_pilot

    root = simulate_pilot(tmp_path / "p", accounts=3000, seed=5, preset="vendor-claims", agents=10)
    out = tmp_path / "c.json"
    r = _cli("claims", str(root), "--out", str(out))
    assert r.returncode == 0, r.stderr
    claims = json.loads(out.read_text())["claims"]
    assert len(claims) == len(load_register())
    assert all(c["verdict"] in ("supported", "contradicted", "inconclusive") for c in claims)
