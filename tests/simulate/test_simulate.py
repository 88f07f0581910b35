"""The pilot simulator: determinism, contract shape, rules, presets and recovery of the truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.contract.tables import CHANNELS, COMPLAINT_KINDS, DIRECTIONS, TABLES
from workbench.metrics.reference import eligible_accounts, in_window, reference_metrics
from workbench.simulate.pilot import simulate_pilot, simulate_tables

KINDS = {
    "string": pd.api.types.is_string_dtype,
    "float": pd.api.types.is_float_dtype,
    "int": pd.api.types.is_integer_dtype,
    "bool": pd.api.types.is_bool_dtype,
    "timestamp": lambda s: isinstance(s.dtype, pd.DatetimeTZDtype) and str(s.dtype) == "datetime64[us, UTC]",
}


@pytest.fixture(scope="module")
def small():
    return simulate_tables(3_000, seed=7, preset="realistic", with_truth=False)


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = simulate_pilot(tmp_path / "a", accounts=800, seed=3, preset="null")
    b = simulate_pilot(tmp_path / "b", accounts=800, seed=3, preset="null")
    c = simulate_pilot(tmp_path / "c", accounts=800, seed=4, preset="null")
    for name in TABLES:
        assert (a / f"{name}.parquet").read_bytes() == (b / f"{name}.parquet").read_bytes(), name
    assert (a / "truth.json").read_bytes() == (b / "truth.json").read_bytes()
    assert (a / "contacts.parquet").read_bytes() != (c / "contacts.parquet").read_bytes()


def test_every_table_and_column_with_contract_dtype(small):
    _, tables, _ = small
    assert set(tables) == set(TABLES)
    for name, spec in TABLES.items():
        df = tables[name]
        assert list(df.columns) == list(spec.columns), name
        for col, c in spec.columns.items():
            assert KINDS[c.kind](df[col]), f"{name}.{col}: {df[col].dtype}"
            if not c.nullable:
                assert df[col].notna().all(), f"{name}.{col} has nulls"
        assert len(df) > 0, name


def test_rules_hold(small):
    cfg, t, _ = small
    acc = t["accounts"]
    for name, spec in TABLES.items():
        if spec.key:
            assert t[name][spec.key].is_unique, name
        if name != "accounts":
            assert t[name]["account_id"].isin(acc["account_id"]).all(), name
    assert set(acc["arm"]) == {"pressure", "empathy"}
    assert acc["segment"].nunique() >= 6 and (acc["balance"] > 0).all() and (acc["prior_paid"] >= 0).all()
    assert (acc["days_past_due"] >= 0).all()
    cut = pd.Timestamp(cfg.observed_until)
    weeks = (acc["assigned_at"] - acc["assigned_at"].min()).dt.days // 7
    assert weeks.nunique() >= 8  # arrival week by week
    assert (acc["closed_at"].dropna() < cut).all() and acc["closed_at"].isna().any()
    p = t["promises"]
    assert (p["due_at"] >= p["made_at"]).all() and (p["amount"] > 0).all()
    assert ((p["due_at"] - p["made_at"]) <= pd.Timedelta(days=cfg.windows.max_due_days)).mean() > 0.9
    assert p.groupby("account_id").size().max() > 1  # several promises per account happen
    assert (t["payments"]["amount"] > 0).all()
    c = t["contacts"]
    assert set(c["channel"]) <= set(CHANNELS) and set(c["direction"]) <= set(DIRECTIONS)
    assert (c["handle_seconds"] >= 0).all() and c["empathy_score"].dropna().between(0, 100).all()
    assert set(t["complaints"]["kind"]) <= set(COMPLAINT_KINDS)
    s = t["surveys"]
    assert s["csat"].between(1, 5).all() and s["nps"].between(0, 10).all()
    assert s.groupby("account_id").size().max() <= 6
    for name, spec in TABLES.items():
        if spec.time:
            assert (t[name][spec.time] < cut).all(), name  # nothing after the data cut-off


def test_manipulation_and_complaint_rate(small):
    _, t, _ = small
    c = t["contacts"].merge(t["accounts"][["account_id", "arm"]], on="account_id")
    score = c.groupby("arm")["empathy_score"].mean()
    assert score["empathy"] > score["pressure"] + 10
    per_1000 = 1000 * len(t["complaints"]) / len(t["accounts"])
    assert 1 < per_1000 < 15  # a few per 1,000 accounts


def test_agent_randomization_puts_each_agent_in_one_arm():
    _, t, _ = simulate_tables(2_000, seed=5, agents=30, randomization="agent", with_truth=False)
    arms = t["accounts"].groupby("agent_id")["arm"].nunique()
    assert (arms == 1).all() and len(arms) == 30
    per_arm = t["accounts"].drop_duplicates("agent_id")["arm"].value_counts()
    assert per_arm["pressure"] == per_arm["empathy"] == 15


def _se(metric: str, ref: pd.DataFrame, cfg, tables) -> float:
    """Sampling standard error of the arm difference of a metric (plain formulas)."""
    r = ref[ref["metric"] == metric].set_index("arm")
    n0, n1 = r.loc["pressure", "n"], r.loc["empathy", "n"]
    m0, m1 = r.loc["pressure", "mean"], r.loc["empathy", "mean"]
    if metric in ("engagement", "ptp", "kept_ptp", "retention"):
        return np.sqrt(m0 * (1 - m0) / n0 + m1 * (1 - m1) / n1)
    if metric in ("complaints", "contact_intensity"):
        return np.sqrt(2.0 * (m0 / n0 + m1 / n1))  # Poisson, doubled for overdispersion
    if metric == "csat":
        return 1.3 * np.sqrt(1 / n0 + 1 / n1)
    if metric == "nps":
        return np.sqrt(1 / n0 + 1 / n1)
    if metric == "kept_rate":
        return 2.0 * np.sqrt(0.25 / (n0 * 0.08) + 0.25 / (n1 * 0.08))
    if metric == "handle_time":
        return 2.0 * 250.0 * np.sqrt(1 / n0 + 1 / n1)  # lognormal mixture, clustered
    if metric == "recovery":  # delta method on per-account paid / balance totals
        acc = eligible_accounts(cfg, tables["accounts"], cfg.windows.outcome_days)
        paid = in_window(tables["payments"], "paid_at", acc, cfg.windows.outcome_days).groupby("account_id")["amount"].sum()
        acc = acc.assign(y=acc["account_id"].map(paid).fillna(0.0))
        var = 0.0
        for _, g in acc.groupby("arm"):
            ratio = g["y"].sum() / g["balance"].sum()
            var += ((g["y"] - ratio * g["balance"]).var() / len(g)) / g["balance"].mean() ** 2
        return np.sqrt(var)
    raise KeyError(metric)


def _check_recovered(cfg, tables, truth, z=4.5):
    ref = reference_metrics(cfg, tables)
    bad = []
    for metric, tv in truth["metrics"].items():
        r = ref[ref["metric"] == metric].set_index("arm")["mean"]
        est = r["empathy"] - r["pressure"]
        se = _se(metric, ref, cfg, tables)
        if abs(est - tv["difference"]) > z * se:
            bad.append(f"{metric}: estimate {est:.4g}, truth {tv['difference']:.4g}, se {se:.3g}")
    assert not bad, bad


def test_realistic_truth_is_recovered_by_sample_means():
    cfg, tables, truth = simulate_tables(60_000, seed=11, preset="realistic")
    assert set(truth["metrics"]) == {
        "engagement",
        "ptp",
        "kept_ptp",
        "kept_rate",
        "complaints",
        "csat",
        "retention",
        "recovery",
        "handle_time",
        "contact_intensity",
        "nps",
    }
    m = truth["metrics"]
    assert m["engagement"]["difference"] > 0.01 and m["ptp"]["difference"] > 0 and m["kept_ptp"]["difference"] > 0
    assert m["complaints"]["difference"] < 0 and m["csat"]["difference"] > 0 and m["retention"]["difference"] > 0
    assert 1.0 < m["recovery"]["ratio"] < 1.25 and m["handle_time"]["difference"] > 0
    assert m["contact_intensity"]["difference"] < 0
    _check_recovered(cfg, tables, truth)


def test_null_preset_plants_nothing():
    cfg, tables, truth = simulate_tables(30_000, seed=12, preset="null")
    assert all(v["difference"] == 0 for v in truth["metrics"].values())
    _check_recovered(cfg, tables, truth)


def test_vendor_claims_are_as_large_as_claimed():
    cfg, tables, truth = simulate_tables(20_000, seed=13, preset="vendor-claims")
    m = truth["metrics"]
    assert 3.0 <= m["engagement"]["ratio"] <= 5.0  # Symend: 3-5x engagement
    assert 1.30 <= m["recovery"]["ratio"] <= 1.40  # Office Gurus: 35% higher recovery
    assert 1.55 <= m["retention"]["ratio"] <= 1.65  # Office Gurus: 60% better retention
    assert 1.04 <= m["ptp"]["ratio"] <= 1.08  # Foundever: 6% more PTPs
    assert m["complaints"]["ratio"] < 0.7 and m["kept_ptp"]["difference"] > 0  # Fusion CX
    _check_recovered(cfg, tables, truth)


def test_truth_json_layout(tmp_path):
    out = simulate_pilot(tmp_path / "p", accounts=500, seed=2, preset="null", fmt="csv")
    truth = json.loads((out / "truth.json").read_text())
    for key in ("preset", "seed", "windows", "metrics", "population", "definitions", "truth_seed", "arms"):
        assert key in truth
    assert truth["seed"] == 2 and truth["arms"] == {"control": "pressure", "treatment": "empathy"}
    assert set(truth["metrics"]["csat"]) >= {"control", "treatment", "difference", "ratio", "relative_lift", "unit"}
    assert (out / "contacts.csv").exists() and (out / "pilot.yml").exists()


def test_truth_shared_on_disk_equals_the_computed_one_and_follows_the_code(tmp_path, monkeypatch):
    from workbench.contract.config import Windows
    from workbench.simulate import truth as tr

    calls = []
    fake = {"preset": "null", "metrics": {"ptp": {"control": 0.1 + 0.2, "treatment": 1 / 3, "ratio": None}}}

    def computed(preset, windows_key):
        calls.append(preset)
        return fake

    monkeypatch.setattr(tr, "_truth", computed)
    monkeypatch.setenv(tr.CACHE_ENV, str(tmp_path / "cache"))
    first = tr.compute_truth("null", Windows())
    again = tr.compute_truth("null", Windows())
    assert first == again == fake and calls == ["null"]  # the second read comes from the file, floats exact
    assert len(list((tmp_path / "cache").glob("truth-null-*.json"))) == 1
    tr.compute_truth("null", Windows(retention_days=90))  # other windows: another truth
    assert calls == ["null", "null"]
    monkeypatch.setattr(tr, "_code_digest", lambda: "edited-simulator")  # other code: never a stale truth
    tr.compute_truth("null", Windows())
    assert calls == ["null", "null", "null"]
    monkeypatch.delenv(tr.CACHE_ENV)
    tr.compute_truth("null", Windows())  # without the variable nothing is read or written
    assert calls == ["null"] * 4 and len(list((tmp_path / "cache").iterdir())) == 3
