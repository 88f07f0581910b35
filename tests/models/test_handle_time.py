"""Handle time with the account as the unit: per-account sums in the statistics, the ratio's variance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.contract.io import write_pilot
from workbench.metrics.stats import compute_metrics
from workbench.models.conjugate import DEFAULT_PRIORS, by_account, ratio
from workbench.simulate.pilot import simulate_tables


def test_ratio_of_account_totals_by_hand():
    # three accounts: (contacts, seconds) = (1, 100), (3, 900), (0, 0): R = 1000 / 4 = 250
    x, y = np.array([1.0, 3.0, 0.0]), np.array([100.0, 900.0, 0.0])
    row = {
        "accounts": 3,
        "n": 4,
        "sum": 1000.0,
        "sum_sq": 100.0**2 + 3 * 300.0**2,
        "denom": 4.0,
        "denom_sq": float((x * x).sum()),
        "cross": float((x * y).sum()),
        "acct_sum_sq": float((y * y).sum()),
    }
    acc = by_account(row)
    draws, _ = ratio(acc, DEFAULT_PRIORS, np.random.default_rng(0), 200_000)
    e = y - 250 * x  # residuals by account: -150, 150, 0
    want = (e * e).sum() / 2 / (3 * (4 / 3) ** 2)  # sample variance / (n xbar^2)
    assert draws.mean() == pytest.approx(250, abs=0.5)
    assert draws.std() == pytest.approx(math.sqrt(want), rel=0.01)
    assert by_account({"n": 4, "sum": 1000.0, "sum_sq": 1.0}) is None  # published counts: per contact as before


def test_statistics_carry_per_account_sums(tmp_path):
    cfg, tables, _ = simulate_tables(600, seed=4, preset="null", with_truth=False)
    st = compute_metrics(write_pilot(tmp_path / "p", cfg, tables, "parquet"), metrics=["handle_time"])
    ct = tables["contacts"].merge(tables["accounts"][["account_id", "arm", "assigned_at"]], on="account_id")
    days = (ct["at"] - ct["assigned_at"]).dt.total_seconds() / 86400
    obs = pd.Timestamp(cfg.observed_until)
    ok = ct["reached"] & ct["handle_seconds"].notna() & (days < cfg.windows.outcome_days) & (days >= 0)
    ok &= ct["assigned_at"] + pd.Timedelta(days=cfg.windows.outcome_days) <= obs
    per = ct[ok].groupby(["arm", "account_id"])["handle_seconds"].agg(["count", "sum"])
    for r in st.to_dict("records"):
        g = per.loc[r["arm"]]
        assert r["denom"] == pytest.approx(g["count"].sum())
        assert r["denom_sq"] == pytest.approx((g["count"] ** 2).sum())
        assert r["cross"] == pytest.approx((g["count"] * g["sum"]).sum())
        assert r["acct_sum_sq"] == pytest.approx((g["sum"] ** 2).sum(), rel=1e-9)
