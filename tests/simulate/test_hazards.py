"""Non-constant churn hazards in the simulator, and the delayed-churn pilot the engine must not misread."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.contract.io import write_pilot
from workbench.effects.analyze import analyze_pilot
from workbench.simulate.pilot import START, simulate_tables
from workbench.simulate.presets import PRESETS

EVENTS = {"contacts": "at", "promises": "made_at", "payments": "paid_at", "complaints": "filed_at", "surveys": "answered_at"}


def cut_at(cfg, tables, days: int):
    """The same pilot observed only ``days`` after the first assignment (a shorter follow-up)."""
    obs = pd.Timestamp(START) + pd.Timedelta(days=days)
    out = {}
    for name, df in tables.items():
        col = EVENTS.get(name)
        out[name] = df[df[col] <= obs].reset_index(drop=True) if col else df.copy()
    acc = out["accounts"]
    acc.loc[acc["closed_at"] > obs, "closed_at"] = pd.NaT
    return cfg.model_copy(update={"observed_until": obs.to_pydatetime()}), out


def churn_by(tables, day: float) -> pd.Series:
    a = tables["accounts"]
    a = a[a["assigned_at"] <= pd.Timestamp(START) + pd.Timedelta(days=20)]  # observed past day 180
    left = (a["closed_at"] - a["assigned_at"]).dt.total_seconds() / 86400 <= day
    return left.groupby(a["arm"]).mean()


def test_shape_moves_churn_in_time_not_the_180_day_share():
    _, tables, _ = simulate_tables(20_000, seed=5, preset="delayed-churn", with_truth=False)
    at180, at60 = churn_by(tables, 180), churn_by(tables, 60)
    assert abs(at180["empathy"] - at180["pressure"]) < 0.02  # same share by day 180
    assert 0.15 < at180["pressure"] < 0.25  # about 80% kept
    assert at60["pressure"] > at60["empathy"] + 0.08  # early under pressure, late under empathy
    assert PRESETS["falling-hazard"].churn_shape < 1 < PRESETS["rising-hazard"].churn_shape


def test_delayed_churn_observed_130_days_gets_no_180_day_verdict(tmp_path):
    cfg, tables, _ = simulate_tables(3_000, seed=3, preset="delayed-churn", with_truth=False)
    cfg, tables = cut_at(cfg, tables, 130)
    doc = analyze_pilot(write_pilot(tmp_path / "p", cfg, tables, "parquet"))
    r = doc["metrics"]["retention"]
    assert r["model"] == "piecewise_exponential_survival"
    assert not r["observable"] and r["horizon_days"] <= 130
    assert r["decision"]["verdict"] == "inconclusive"
    assert "not yet observable at 180 days" in r["decision"]["reason"]
    assert np.isfinite(r["kaplan_meier"]["difference"])
