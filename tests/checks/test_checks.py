"""Pilot checks on hand-built pilots: each status reached for a known reason."""

from __future__ import annotations

from conftest import config, frames

from workbench.checks import check_pilot, checks_frame, run_checks
from workbench.metrics.engine import open_pilot


def _run(build, cfg, **tables):
    p = open_pilot(build(cfg, frames(**tables)))
    return {r.check: r for r in run_checks(p.tables, p.config)}


def _accounts(n_emp, n_pre, **kw):
    rows = []
    for arm, n in (("empathy", n_emp), ("pressure", n_pre)):
        rows += [
            {"account_id": f"{arm}{i}", "arm": arm, "assigned_at": "2026-01-01", "balance": 100.0 + i % 7, **kw} for i in range(n)
        ]
    return rows


def test_srm_fails_on_a_lopsided_split_and_passes_on_an_even_one(build):
    assert _run(build, config(), accounts=_accounts(600, 400))["srm"].status == "fail"
    ok = _run(build, config(), accounts=_accounts(505, 495))["srm"]
    assert ok.status == "pass" and ok.numbers["observed"] == {"empathy": 505, "pressure": 495}
    # a configured 60/40 allocation makes the same split right
    cfg = config(allocation={"empathy": 0.6, "pressure": 0.4})
    assert _run(build, cfg, accounts=_accounts(600, 400))["srm"].status == "pass"


def test_srm_counts_agents_under_agent_randomization(build):
    acc = _accounts(600, 400)
    for i, a in enumerate(acc):  # 10 agents per arm, however many accounts each holds
        a["agent_id"] = f"{a['arm']}_g{i % 10}"
    r = _run(build, config(randomization="agent"), accounts=acc)["srm"]
    assert r.numbers["unit"] == "agents" and r.numbers["observed"] == {"empathy": 10, "pressure": 10}
    assert r.status == "pass"


def test_balance_flags_a_shifted_covariate(build):
    acc = _accounts(200, 200)
    for i, a in enumerate(acc):
        a["prior_paid"] = float(i % 10) + (5.0 if a["arm"] == "empathy" else 0.0)
        a["segment"] = "medical" if i % 2 else "retiree"
    r = _run(build, config(), accounts=acc)["balance"]
    assert r.status == "fail" and r.numbers["smd"]["empathy"]["prior_paid"] > 1
    assert abs(r.numbers["smd"]["empathy"]["segment=medical"]) < 0.1


def test_contamination_under_agent_randomization(build):
    acc = _accounts(50, 50)
    for a in acc:
        a["agent_id"] = "gE" if a["arm"] == "empathy" else "gP"
    contacts = [
        {
            "contact_id": f"c{i}",
            "account_id": f"pressure{i}",
            "at": "2026-01-05",
            "channel": "call",
            "direction": "outbound",
            "reached": True,
            "agent_id": "gE",
        }
        for i in range(10)
    ]
    r = _run(build, config(randomization="agent"), accounts=acc, contacts=contacts)["contamination"]
    assert r.numbers["pressure"]["contacted"] == 10 and r.numbers["share"] == 0.1
    assert r.status == "fail"
    clean = _run(build, config(randomization="agent"), accounts=acc)["contamination"]
    assert clean.status == "pass" and clean.numbers["share"] == 0


def _calls(account, days, arm_score=None):
    return [
        {
            "contact_id": f"{account}_{i}",
            "account_id": account,
            "at": d,
            "channel": "call",
            "direction": "outbound",
            "reached": False,
            "empathy_score": arm_score,
        }
        for i, d in enumerate(days)
    ]


def test_regulation_f_more_than_seven_calls_in_seven_days(build):
    acc = _accounts(2, 2)
    eight_in_6_days = [
        f"2026-01-{d:02d}T{h:02d}:00" for d, h in [(2, 9), (3, 9), (4, 9), (5, 9), (6, 9), (7, 9), (8, 9), (8, 10)]
    ]
    eight_in_8_days = [f"2026-01-{d:02d}T09:00" for d in range(2, 10)]
    seven_in_a_day = [f"2026-01-02T{h:02d}:00" for h in range(9, 16)]
    contacts = _calls("empathy0", eight_in_6_days) + _calls("pressure0", eight_in_8_days) + _calls("pressure1", seven_in_a_day)
    r = _run(build, config(), accounts=acc, contacts=contacts)["contact_frequency"]
    assert r.status == "fail"
    assert r.numbers["empathy"]["accounts_over"] == 1 and r.numbers["pressure"]["accounts_over"] == 0
    contacts = _calls("pressure0", eight_in_8_days) + _calls("pressure1", seven_in_a_day)
    assert _run(build, config(), accounts=acc, contacts=contacts)["contact_frequency"].status == "pass"


def test_manipulation_check(build):
    acc = _accounts(20, 20)
    contacts = []
    for i in range(20):
        contacts += _calls(f"empathy{i}", ["2026-01-03"], 80.0 + i % 5)
        contacts += _calls(f"pressure{i}", ["2026-01-03"], 50.0 + i % 5)
    r = _run(build, config(), accounts=acc, contacts=contacts)["manipulation"]
    assert r.status == "pass" and r.numbers["empathy"]["difference"] == 30.0
    for c in contacts:
        c["empathy_score"] = 100.0 - c["empathy_score"]
    assert _run(build, config(), accounts=acc, contacts=contacts)["manipulation"].status == "fail"


def test_survey_response_difference_and_freshness(build):
    acc = _accounts(100, 100)
    surveys = [{"account_id": f"empathy{i}", "answered_at": "2026-01-04", "csat": 4} for i in range(60)]
    surveys += [{"account_id": f"pressure{i}", "answered_at": "2026-01-04", "csat": 4} for i in range(20)]
    res = _run(build, config(observed_until="2026-01-06T00:00:00Z", windows={"outcome_days": 5}), accounts=acc, surveys=surveys)
    assert res["survey_response"].status == "fail"
    assert res["survey_response"].numbers["response_rate"] == {"pressure": 0.2, "empathy": 0.6}
    assert res["freshness"].status == "pass" and res["freshness"].numbers["gap_days"] == 2.0
    stale = _run(build, config(), accounts=acc, surveys=surveys)["freshness"]
    assert stale.status == "fail"


def test_every_check_reports_and_frames(build):
    path = build(config(), frames(accounts=_accounts(3, 3)))
    df = checks_frame(check_pilot(path))
    assert df.check.tolist() == [
        "srm",
        "balance",
        "contamination",
        "survey_response",
        "manipulation",
        "contact_frequency",
        "freshness",
    ]
    assert set(df.status) <= {"pass", "warn", "fail"}


def test_balance_names_each_covariate_and_the_ones_that_fail(build):
    """The line says which covariate is off, by how much, and what to look at (not only the largest SMD)."""
    acc = _accounts(200, 200)
    for i, a in enumerate(acc):
        a["prior_paid"] = float(i % 10) + (5.0 if a["arm"] == "empathy" else 0.0)  # SMD = 5 / sd(0..9) = 1.736
        a["segment"] = "medical" if i % 2 else "retiree"
    r = _run(build, config(), accounts=acc)["balance"]
    assert r.summary.startswith(
        "largest |SMD| = 1.736 over 4 covariates (warn > 0.1, fail > 0.25): prior_paid +1.736 (fail), balance "
    )
    assert "segment=medical +0.000" in r.summary or "segment=medical -0.000" in r.summary
    assert r.summary.endswith(
        "; look at prior_paid by arm (accounts.prior_paid): was it recorded at assignment, and were accounts assigned at random?"
    )
    assert r.numbers["failing"] == ["prior_paid"]


def test_every_check_that_is_not_passing_says_what_to_look_at(build):
    acc = _accounts(600, 400)  # a lopsided split, no agents, no contacts or surveys
    for r in _run(build, config(), accounts=acc).values():
        assert r.status == "pass" or "; look at " in r.summary, (r.check, r.summary)
