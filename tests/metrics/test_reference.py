"""The plain-pandas reference metrics on tiny hand-built pilots with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.contract.config import parse_config
from workbench.metrics.reference import kept_promises, reference_metrics

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def day(d: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=d)


def cfg(observed_day: float = 400):
    return parse_config(
        {"name": "t", "arms": {"control": "c", "treatment": "t"}, "observed_until": day(observed_day).to_pydatetime()}
    )


def accounts(rows):
    """rows: (id, arm, assigned day, balance, closed day or None)."""
    return pd.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "arm": [r[1] for r in rows],
            "assigned_at": [day(r[2]) for r in rows],
            "balance": [float(r[3]) for r in rows],
            "closed_at": pd.Series([day(r[4]) if r[4] is not None else pd.NaT for r in rows], dtype="datetime64[us, UTC]"),
        }
    )


def frame(cols, rows, times):
    df = pd.DataFrame(rows, columns=cols)
    for c in times:
        df[c] = df[c].map(day)
    return df


def promises(rows):
    return frame(["promise_id", "account_id", "made_at", "due_at", "amount"], rows, ["made_at", "due_at"])


def payments(rows):
    return frame(["payment_id", "account_id", "paid_at", "amount"], rows, ["paid_at"])


def value(out, metric, arm):
    r = out[(out["metric"] == metric) & (out["arm"] == arm)]
    assert len(r) == 1
    return r.iloc[0]


def kept(p, y, c=None):
    return list(kept_promises(c or cfg(), promises(p), payments(y)))


def test_kept_needs_the_full_amount_within_due_plus_grace():
    p = [("P1", "A", 0, 10, 100.0)]
    assert kept(p, [("Y1", "A", 13, 100.0)]) == [True]  # on the last grace day
    assert kept(p, [("Y1", "A", 13.01, 100.0)]) == [False]  # late
    assert kept(p, [("Y1", "A", 5, 60.0), ("Y2", "A", 9, 40.0)]) == [True]  # two instalments
    assert kept(p, [("Y1", "A", 5, 99.99)]) == [False]  # short
    assert kept(p, [("Y1", "A", -1, 100.0)]) == [False]  # before the promise
    assert kept(p, [("Y1", "B", 5, 100.0)]) == [False]  # another account's money


def test_due_date_beyond_max_due_days_is_judged_at_that_horizon():
    p = [("P1", "A", 0, 50, 100.0)]  # due in 50 days; judged at 30 + 3 grace
    assert kept(p, [("Y1", "A", 33, 100.0)]) == [True]
    assert kept(p, [("Y1", "A", 40, 100.0)]) == [False]


def test_each_payment_counts_once_money_goes_to_the_first_due():
    # Both windows hold the one payment: the earlier due date gets it.
    p = [("P1", "A", 0, 20, 100.0), ("P2", "A", 1, 10, 100.0)]
    assert kept(p, [("Y1", "A", 5, 100.0)]) == [False, True]
    # Two payments, two promises: each kept by its own payment.
    assert kept(p, [("Y1", "A", 5, 100.0), ("Y2", "A", 6, 100.0)]) == [True, True]
    # A payment larger than both amounts is split down the waterfall (its money counts once).
    assert kept(p, [("Y1", "A", 5, 500.0)]) == [True, True]
    assert kept(p, [("Y1", "A", 5, 150.0)]) == [False, True]


def test_money_goes_to_the_first_due_even_when_it_falls_short():
    # P1 (due 10, 100) takes the 50 paid on day 5: neither is kept; a later 50 then keeps P2.
    p = [("P1", "A", 0, 10, 100.0), ("P2", "A", 2, 20, 50.0)]
    assert kept(p, [("Y1", "A", 5, 50.0)]) == [False, False]
    assert kept(p, [("Y1", "A", 5, 50.0), ("Y2", "A", 15, 50.0)]) == [False, True]
    assert kept(p, [("Y1", "A", 5, 99.996)]) == [True, False]  # compared to the cent


def test_metrics_on_a_tiny_pilot():
    acc = accounts(
        [
            ("A1", "c", 0, 1000, None),
            ("A2", "c", 0, 1000, 100),  # left the lender on day 100
            ("A3", "t", 0, 500, 181),  # left after the retention window
            ("A4", "t", 0, 500, 180),  # left exactly at its end: churned
            ("A5", "t", 350, 500, None),  # window not over: excluded everywhere
        ]
    )
    contacts = pd.DataFrame(
        {
            "contact_id": ["C1", "C2", "C3", "C4", "C5", "C6", "C7"],
            "account_id": ["A1", "A1", "A2", "A3", "A3", "A4", "A5"],
            "at": [day(1), day(2), day(61), day(3), day(4), day(59.9), day(351)],
            "channel": ["call", "sms", "call", "call", "portal", "call", "call"],
            "direction": ["outbound", "outbound", "outbound", "outbound", "inbound", "outbound", "inbound"],
            "reached": [False, False, True, True, True, False, True],
            "handle_seconds": [30.0, 0.0, 300.0, 400.0, 0.0, 20.0, 100.0],
        }
    )
    prom = promises(
        [("P1", "A1", 10, 20, 100.0), ("P2", "A3", 5, 15, 50.0), ("P3", "A3", 20, 25, 50.0), ("P4", "A2", 60, 70, 10.0)]
    )
    pay = payments([("Y1", "A1", 25, 100.0), ("Y2", "A3", 14, 50.0), ("Y3", "A2", 65, 10.0), ("Y4", "A4", 10, 250.0)])
    comp = frame(["complaint_id", "account_id", "filed_at"], [("K1", "A2", 30), ("K2", "A2", 31), ("K3", "A4", 80)], ["filed_at"])
    surv = frame(
        ["account_id", "answered_at", "csat", "nps"],
        [("A1", 5, 2, 3), ("A1", 4, 4, 10), ("A3", 10, 5, 9), ("A3", 10, 3, 7), ("A4", 70, 1, 0)],
        ["answered_at"],
    )
    out = reference_metrics(
        cfg(), {"accounts": acc, "contacts": contacts, "promises": prom, "payments": pay, "complaints": comp, "surveys": surv}
    )
    exp = {
        ("engagement", "c"): 0.0,  # A1 unreached, A2 reached only after the window
        ("engagement", "t"): 0.5,  # A3 yes, A4's call not reached
        ("contact_intensity", "c"): 1.0,  # C1, C2 (C3 is day 61)
        ("contact_intensity", "t"): 1.0,  # C4, C6
        ("handle_time", "t"): 200.0,  # C4 400 and C5 0 (reached inbound)
        ("ptp", "c"): 0.5,  # P4 at day 60 is outside [0, 60)
        ("ptp", "t"): 0.5,
        ("kept_ptp", "c"): 0.5,  # P1 paid on day 25 (due 20 + 3 grace)? no: kept? see below
        ("kept_ptp", "t"): 0.5,
        ("kept_rate", "t"): 0.5,  # P2 kept, P3 not
        ("complaints", "c"): 1.0,  # two complaints over two accounts
        ("complaints", "t"): 0.0,  # K3 after the window
        ("csat", "c"): 4.0,  # first answer (day 4) counts
        ("csat", "t"): 3.0,  # ties on the same instant: lowest score
        ("nps", "c"): 1.0,
        ("nps", "t"): 0.0,  # the first in-window nps of A3 is 7 (tie: lowest) -> passive
        ("retention", "c"): 0.5,
        ("retention", "t"): 0.5,
        ("recovery", "c"): 100 / 2000,
        ("recovery", "t"): (50 + 250) / 1000,
    }
    # P1: made day 10, due day 20, deadline day 23; paid day 25 -> late, not kept.
    exp[("kept_ptp", "c")] = 0.0
    for (metric, arm), want in exp.items():
        assert value(out, metric, arm)["mean"] == pytest.approx(want), (metric, arm)
    assert value(out, "engagement", "t")["excluded"] == 1 and value(out, "engagement", "t")["n"] == 2
    assert value(out, "csat", "t")["n"] == 1 and value(out, "handle_time", "t")["n"] == 2
    assert set(out.columns) >= {"arm", "metric", "n", "mean", "excluded"}


def test_eligibility_depends_on_the_window_of_each_metric():
    # observed until day 100: 60-day metrics eligible, kept_ptp (93 days) eligible, retention (180) not.
    acc = accounts([("A1", "c", 0, 100, None), ("A2", "t", 10, 100, None), ("A3", "t", 50, 100, None)])
    tables = {"accounts": acc, "promises": promises([]), "payments": payments([])}
    out = reference_metrics(cfg(100), tables)
    assert value(out, "ptp", "t")["n"] == 1 and value(out, "ptp", "t")["excluded"] == 1  # A3: 50 + 60 > 100
    assert value(out, "kept_ptp", "t")["n"] == 0 and value(out, "kept_ptp", "t")["excluded"] == 2  # 10 + 93 > 100
    assert value(out, "kept_ptp", "c")["n"] == 1
    assert value(out, "retention", "c")["n"] == 0 and pd.isna(value(out, "retention", "c")["mean"])
