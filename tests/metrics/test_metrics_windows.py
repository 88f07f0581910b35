"""Window semantics and every metric on hand-built pilots with known answers.

observed_until is 2026-06-30T00:00Z; windows: outcome 60, grace 3, max_due 30,
retention 180 days (the defaults).
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import config, frames

from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import account_outcomes, sufficient_stats


def acc(aid, arm="empathy", at="2026-01-01", **kw):
    return {"account_id": aid, "arm": arm, "assigned_at": at, "balance": kw.pop("balance", 100.0), **kw}


def per_account(build, cfg, tables) -> pd.DataFrame:
    p = open_pilot(build(cfg, frames(**tables)))
    out, _, _ = account_outcomes(p.tables, p.config)
    return out.execute().set_index("account_id").sort_index()


def stats(build, cfg, tables, **kw) -> pd.DataFrame:
    p = open_pilot(build(cfg, frames(**tables)))
    return sufficient_stats(p.tables, p.config, **kw)


def row(s, metric, arm="empathy") -> SimpleNamespace:
    """One statistics row as attributes (a Series would shadow .sum and .mean)."""
    return SimpleNamespace(**s[(s.metric == metric) & (s.arm == arm)].iloc[0].to_dict())


def test_eligibility_depends_on_assignment_time_only(build):
    accounts = [
        acc("on_edge", at="2026-05-01"),  # + 60 days == observed_until: in
        acc("late", at="2026-05-01T00:00:01"),  # one second later: out
        acc("kept_edge", at="2026-03-29"),  # + 60 + 30 + 3 == observed_until
        acc("kept_late", at="2026-03-29T00:00:01"),
        acc("ret_edge", at="2026-01-01"),  # + 180 == observed_until
        acc("ret_late", at="2026-01-01T00:00:01"),
    ]
    accounts = [a | {"closed_at": None} for a in accounts]
    o = per_account(build, config(), {"accounts": accounts})
    assert o.e_out.to_dict() == dict.fromkeys(o.index, 1) | {"late": 0}
    assert o.loc[["kept_edge", "ret_edge", "ret_late"], "e_kept"].tolist() == [1, 1, 1]
    assert o.loc[["on_edge", "late", "kept_late"], "e_kept"].tolist() == [0, 0, 0]
    assert o.loc["ret_edge", "e_ret"] == 1 and o.e_ret.sum() == 1
    s = stats(build, config(), {"accounts": accounts})
    assert (row(s, "retention").accounts, row(s, "retention").excluded) == (1, 5)


def test_engagement_window_is_half_open_and_needs_reply_or_inbound(build):
    accounts = [acc(a) for a in ("inb", "reached", "unreached", "before", "at_end", "sms_reply")]
    c = [
        ("inb", "2026-01-05", "call", "inbound", False),
        ("reached", "2026-01-05", "call", "outbound", True),
        ("unreached", "2026-01-05", "call", "outbound", False),
        ("before", "2025-12-31T23:59:59", "call", "inbound", True),
        ("at_end", "2026-03-02", "call", "inbound", True),  # assigned_at + 60 days: outside
        ("sms_reply", "2026-03-01T23:59:59", "sms", "outbound", True),
    ]
    contacts = [
        {"contact_id": f"c{i}", "account_id": a, "at": t, "channel": ch, "direction": d, "reached": r}
        for i, (a, t, ch, d, r) in enumerate(c)
    ]
    o = per_account(build, config(), {"accounts": accounts, "contacts": contacts})
    assert o.engaged.to_dict() == {"inb": 1, "reached": 1, "unreached": 0, "before": 0, "at_end": 0, "sms_reply": 1}
    assert o.outbound_n.to_dict() == {"inb": 0, "reached": 1, "unreached": 1, "before": 0, "at_end": 0, "sms_reply": 1}
    s = stats(build, config(), {"accounts": accounts, "contacts": contacts})
    e = row(s, "engagement")
    assert (e.n, e.successes, e.mean) == (6, 3, 0.5)
    assert row(s, "contact_intensity").mean == pytest.approx(0.5)
    assert "handle_time" not in set(s.metric)  # no handle_seconds column: skipped with a note
    assert any("handle_seconds" in n for n in s.attrs["notes"])


def _promise(pid, aid, made, due, amount):
    return {"promise_id": pid, "account_id": aid, "made_at": made, "due_at": due, "amount": amount}


def _payment(pid, aid, paid, amount):
    return {"payment_id": pid, "account_id": aid, "paid_at": paid, "amount": amount}


# account: (promises [(made, due, amount)], payments [(paid_at, amount)], kept promises)
KEPT_CASES = {
    "on_deadline": ([("2026-01-02", "2026-01-10", 100)], [("2026-01-13", 100)], 1),  # due + 3 grace days
    "after_deadline": ([("2026-01-02", "2026-01-10", 100)], [("2026-01-13T00:00:01", 100)], 0),
    "paid_before_promise": ([("2026-01-05", "2026-01-10", 100)], [("2026-01-04", 100)], 0),
    "two_payments": ([("2026-01-02", "2026-01-10", 100)], [("2026-01-03", 60), ("2026-01-09", 40)], 1),
    "short": ([("2026-01-02", "2026-01-10", 100)], [("2026-01-03", 99.99)], 0),
    "cents": ([("2026-01-02", "2026-01-10", 0.3)], [("2026-01-03", 0.1), ("2026-01-04", 0.2)], 1),
    # one payment counts once: two promises made together, money goes to the earlier due date
    "counted_once": ([("2026-01-02", "2026-01-10", 100), ("2026-01-02", "2026-01-20", 100)], [("2026-01-05", 100)], 1),
    "covers_both": ([("2026-01-02", "2026-01-10", 100), ("2026-01-02", "2026-01-20", 100)], [("2026-01-05", 200)], 2),
    "installments": (
        [("2026-01-02", "2026-01-10", 100), ("2026-01-02", "2026-01-20", 100)],
        [("2026-01-05", 150), ("2026-01-18", 50)],
        2,
    ),
    "first_short_second_kept": (
        [("2026-01-02", "2026-01-10", 100), ("2026-01-02", "2026-01-20", 50)],
        [("2026-01-05", 30), ("2026-01-15", 50)],
        1,
    ),
    # a due date beyond made_at + 30 days is judged at made_at + 30 + 3
    "far_due_late": ([("2026-01-05", "2026-03-30", 100)], [("2026-02-07T00:00:01", 100)], 0),
    "far_due_in_time": ([("2026-01-05", "2026-03-30", 100)], [("2026-02-07", 100)], 1),
    # sequential promises: the second is judged on its own window
    "sequential": (
        [("2026-01-02", "2026-01-09", 100), ("2026-01-20", "2026-01-27", 50)],
        [("2026-01-05", 50), ("2026-01-25", 50)],
        1,
    ),
    # overlapping, made at different times: money paid before the later promise cannot keep it
    "overlap_early_money": (
        [("2026-01-02", "2026-01-20", 100), ("2026-01-10", "2026-01-25", 60)],
        [("2026-01-05", 200), ("2026-01-15", 50)],
        1,
    ),
    "overlap_kept": (
        [("2026-01-02", "2026-01-20", 100), ("2026-01-10", "2026-01-25", 50)],
        [("2026-01-05", 20), ("2026-01-15", 130)],
        2,
    ),
    "promise_outside_window": ([("2026-03-02", "2026-03-05", 10)], [("2026-03-03", 10)], 0),
    "no_payment": ([("2026-01-02", "2026-01-10", 100)], [], 0),
}


def test_kept_promise_rule(build):
    accounts, promises, payments = [], [], []
    for aid, (prs, pays, _) in KEPT_CASES.items():
        accounts.append(acc(aid))
        promises += [_promise(f"{aid}_p{i}", aid, m, d, float(a)) for i, (m, d, a) in enumerate(prs)]
        payments += [_payment(f"{aid}_y{i}", aid, t, float(a)) for i, (t, a) in enumerate(pays)]
    o = per_account(build, config(), {"accounts": accounts, "promises": promises, "payments": payments})
    assert o.kept_n.to_dict() == {aid: case[2] for aid, case in KEPT_CASES.items()}
    made = {aid: len(case[0]) for aid, case in KEPT_CASES.items()} | {"promise_outside_window": 0}
    assert o.made_n.to_dict() == made
    assert o.kept.to_dict() == {aid: int(case[2] > 0) for aid, case in KEPT_CASES.items()}
    s = stats(build, config(), {"accounts": accounts, "promises": promises, "payments": payments})
    kr = row(s, "kept_rate")
    assert kr.sum == sum(c[2] for c in KEPT_CASES.values()) and kr.denom == sum(made.values())
    assert kr.mean == pytest.approx(kr.sum / kr.denom)
    assert row(s, "ptp").successes == len(KEPT_CASES) - 1


def test_complaints_recovery_handle_time(build):
    accounts = [
        acc("a", balance=1000.0, prior_paid=10.0),
        acc("b", balance=500.0, prior_paid=0.0),
        acc("c", arm="pressure", balance=400.0),
    ]
    complaints = [
        {"complaint_id": "k1", "account_id": "a", "filed_at": "2026-01-05"},
        {"complaint_id": "k2", "account_id": "a", "filed_at": "2026-02-05"},
        {"complaint_id": "k3", "account_id": "b", "filed_at": "2026-03-05"},  # after the window
    ]
    payments = [
        _payment("y1", "a", "2026-01-10", 100.0),
        _payment("y2", "b", "2026-01-10", 50.0),
        _payment("y3", "b", "2026-04-10", 500.0),
        _payment("y4", "c", "2025-12-10", 40.0),
    ]
    contacts = [
        {
            "contact_id": "c1",
            "account_id": "a",
            "at": "2026-01-03",
            "channel": "call",
            "direction": "outbound",
            "reached": True,
            "handle_seconds": 300.0,
        },
        {
            "contact_id": "c2",
            "account_id": "a",
            "at": "2026-01-04",
            "channel": "call",
            "direction": "inbound",
            "reached": True,
            "handle_seconds": 100.0,
        },
        {
            "contact_id": "c3",
            "account_id": "b",
            "at": "2026-01-04",
            "channel": "call",
            "direction": "outbound",
            "reached": False,
            "handle_seconds": 20.0,
        },  # not reached: not handle time
    ]
    s = stats(build, config(), {"accounts": accounts, "complaints": complaints, "payments": payments, "contacts": contacts})
    c = row(s, "complaints")
    assert (c.n, c.sum, c.sum_sq, c.mean) == (2, 2.0, 4.0, 1.0)
    r = row(s, "recovery")
    assert (r.sum, r.denom, r.cross, r.denom_sq) == (150.0, 1500.0, 100_000 + 25_000, 1_250_000.0)
    assert r.mean == pytest.approx(0.1) and r.per_account == pytest.approx(75.0)
    assert (r.cov_n, r.cov_sum, r.cov_cross, r.cov_cross_denom) == (2, 10.0, 1000.0, 10_000.0)
    assert row(s, "recovery", "pressure").sum == 0.0  # paid before assignment
    h = row(s, "handle_time")
    assert (h.n, h.sum, h.sum_sq, h.mean, h.reached_contacts) == (2, 400.0, 100_000.0, 200.0, 2)


def test_surveys_first_in_window_answer(build):
    accounts = [acc(a) for a in ("a", "b", "c", "d")]
    surveys = [
        {"account_id": "a", "answered_at": "2025-12-30", "csat": 1, "nps": 0},  # before assignment
        {"account_id": "a", "answered_at": "2026-01-10", "csat": 4, "nps": 10},
        {"account_id": "a", "answered_at": "2026-01-20", "csat": 1, "nps": 0},  # second answer: ignored
        {"account_id": "b", "answered_at": "2026-01-10", "csat": 2, "nps": 6},
        {"account_id": "c", "answered_at": "2026-03-10", "csat": 5, "nps": 9},  # after the window
    ]
    s = stats(build, config(), {"accounts": accounts, "surveys": surveys})
    c = row(s, "csat")
    assert (c.accounts, c.n, c.sum, c.cat_4, c.cat_2, c.cat_1) == (4, 2, 6.0, 1, 1, 0)
    assert (c.mean, c.response_rate, c.top2) == (3.0, 0.5, 0.5)
    n = row(s, "nps")
    assert (n.n, n.cat_10, n.cat_6, n.mean) == (2, 1, 1, 0.0)


def test_retention_binary_and_censored_exposure(build):
    accounts = [
        acc("stay", closed_at=None),
        acc("left", closed_at="2026-01-31"),  # 30 days
        acc("after_horizon", closed_at="2026-07-15"),  # closed after 180 days: retained, censored
        acc("young", at="2026-06-20", closed_at=None),  # 10 days of follow-up, not eligible
        acc("future", at="2026-07-02", closed_at=None),  # assigned after observed_until: no exposure
    ]
    s = stats(build, config(), {"accounts": accounts})
    r = row(s, "retention")
    assert (r.accounts, r.excluded, r.successes, r.mean) == (3, 2, 2, pytest.approx(2 / 3))
    assert (r.events, r.exposure) == (1, pytest.approx(180 + 30 + 180 + 10))


def test_grouping_by_segment_week_agent(build):
    accounts = [
        acc("a", segment="medical", agent_id="g1", at="2026-01-07"),  # Wednesday
        acc("b", segment="retiree", agent_id="g1", at="2026-01-12"),
        acc("c", arm="pressure", segment="medical", agent_id="g2", at="2026-01-11"),
    ]
    accounts = [a | {"closed_at": None} for a in accounts]
    s = stats(build, config(), {"accounts": accounts}, by=["segment", "week", "agent_id"])
    r = s[s.metric == "retention"]
    assert r[["arm", "segment", "week", "agent_id"]].values.tolist() == [
        ["pressure", "medical", "2026-01-05", "g2"],
        ["empathy", "medical", "2026-01-05", "g1"],
        ["empathy", "retiree", "2026-01-12", "g1"],
    ]
