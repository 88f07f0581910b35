"""A tiny valid pilot built by hand, and helpers to break it one rule at a time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from workbench.contract.config import parse_config
from workbench.contract.io import write_pilot

UTC = "UTC"


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz=UTC)


def config_dict(**over) -> dict:
    d = {
        "name": "tiny",
        "arms": {"control": "pressure", "treatment": "empathy"},
        "observed_until": "2026-06-30T00:00:00Z",
        "segments": ["job_loss", "medical", "retiree"],
    }
    d.update(over)
    return d


def tables() -> dict[str, pd.DataFrame]:
    """Four accounts, two per arm, every table and every optional column."""
    accounts = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "arm": ["pressure", "empathy", "pressure", "empathy"],
            "assigned_at": [ts("2026-01-05"), ts("2026-01-05"), ts("2026-01-12"), ts("2026-01-12")],
            "balance": [1000.0, 2500.0, 800.0, 0.0],
            "segment": ["job_loss", "medical", "retiree", "job_loss"],
            "agent_id": ["G1", "G2", "G1", "G2"],
            "days_past_due": [30, 60, 90, 45],
            "prior_paid": [0.0, 120.0, 50.0, 0.0],
            "closed_at": [pd.NaT, ts("2026-03-01"), pd.NaT, pd.NaT],
        }
    )
    contacts = pd.DataFrame(
        {
            "contact_id": ["C1", "C2", "C3", "C4"],
            "account_id": ["A1", "A2", "A2", "A3"],
            "at": [ts("2026-01-06 10:00"), ts("2026-01-06 11:00"), ts("2026-01-07 09:30"), ts("2026-01-13 15:00")],
            "channel": ["call", "sms", "call", "email"],
            "direction": ["outbound", "outbound", "inbound", "outbound"],
            "reached": [True, False, True, False],
            "agent_id": ["G1", "G2", "G2", "G1"],
            "handle_seconds": [300.0, 0.0, 420.0, 0.0],
            "empathy_score": [40.0, 80.0, 85.0, 35.0],
        }
    )
    promises = pd.DataFrame(
        {
            "promise_id": ["P1", "P2"],
            "account_id": ["A1", "A2"],
            "made_at": [ts("2026-01-06 10:05"), ts("2026-01-07 09:40")],
            "due_at": [ts("2026-01-20"), ts("2026-01-21")],
            "amount": [100.0, 250.0],
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["Y1", "Y2"],
            "account_id": ["A1", "A2"],
            "paid_at": [ts("2026-01-19"), ts("2026-01-22")],
            "amount": [100.0, 250.0],
        }
    )
    complaints = pd.DataFrame(
        {"complaint_id": ["K1"], "account_id": ["A3"], "filed_at": [ts("2026-01-20")], "kind": ["internal"]}
    )
    surveys = pd.DataFrame(
        {
            "account_id": ["A1", "A2"],
            "answered_at": [ts("2026-01-08"), ts("2026-01-09")],
            "csat": pd.array([3, 5], dtype="Int64"),
            "nps": pd.array([6, 10], dtype="Int64"),
        }
    )
    return {
        "accounts": accounts,
        "contacts": contacts,
        "promises": promises,
        "payments": payments,
        "complaints": complaints,
        "surveys": surveys,
    }


def make_pilot(root: Path, fmt: str = "parquet", config: dict | None = None, edit=None) -> Path:
    """Write the tiny pilot; ``edit(tables)`` may break it first."""
    t = tables()
    if edit is not None:
        edit(t)
    write_pilot(root, parse_config(config_dict()), t, fmt=fmt)
    if config is not None:
        # Written as given, unchecked: tests also break pilot.yml itself.
        raw = dict(config)
        if fmt == "duckdb":
            raw["source"] = {"kind": "duckdb", "path": "pilot.duckdb"}
        (root / "pilot.yml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return root
