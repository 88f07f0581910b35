"""Monitoring: weekly replay of a tiny simulated pilot; the tuned bar and its A/A false-win rate."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from shared import cli

from workbench.design.monitor import apply_rule, look_dates, monitor_pilot, operating_characteristics, tune_threshold


@pytest.fixture(scope="module")
def tiny_pilot(tmp_path_factory):
    from workbench.contract.io import write_pilot
    from workbench.simulate.pilot import simulate_tables

    cfg, tables, _ = simulate_tables(400, seed=5, with_truth=False)
    return write_pilot(tmp_path_factory.mktemp("mon") / "pilot", cfg, tables, "parquet"), cfg, tables


def test_replay_gives_one_entry_per_weekly_look(tiny_pilot):
    path, cfg, tables = tiny_pilot
    doc = monitor_pilot(path, sims=300, seed=2)
    first = tables["accounts"]["assigned_at"].min().to_pydatetime()
    monday = first.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=first.weekday())
    expected = math.ceil((cfg.observed_until - monday) / timedelta(days=7))
    assert len(doc["looks"]) == expected
    assert [x["look"] for x in doc["looks"]] == list(range(1, expected + 1))
    assert doc["looks"][-1]["date"] == cfg.observed_until.isoformat()
    # Eligibility: nobody is eligible before the kept_ptp window (93 days) is over; n only grows.
    n = [x["n_control"] for x in doc["looks"]]
    assert n[0] == 0 and n == sorted(n) and n[-1] > 0
    assert doc["rule"]["max_looks"] == sum(x["new_data"] for x in doc["looks"])
    assert doc["rule"]["u"] > 0.95
    assert "stop" in doc and set(doc["operating_characteristics"]) == {"tuned", "fixed_095"}


def test_look_dates_are_mondays_then_the_cut_off():
    from datetime import UTC, datetime

    d = look_dates(datetime(2026, 1, 7, 15, tzinfo=UTC), datetime(2026, 2, 4, tzinfo=UTC))
    assert [x.day for x in d] == [12, 19, 26, 2, 4] and all(x.weekday() == 0 for x in d[:-1])


def test_tuned_threshold_rises_with_looks():
    u1 = tune_threshold(1, 0.1, 200, sims=4000, seed=0)
    u10 = tune_threshold(10, 0.1, 200, sims=4000, seed=0)
    assert u1 == pytest.approx(0.975, abs=0.006)  # one look: the engine's own bar
    assert u10 > 0.99  # near the one-sided Pocock bar for ten looks at 2.5% (z about 2.6)


def test_aa_false_win_rate_tuned_vs_fixed():
    u = tune_threshold(10, 0.1, 200, sims=4000, seed=0)
    tuned = operating_characteristics(u, 10, 0.1, 0.03, 200, sims=2000, seed=7)
    fixed = operating_characteristics(0.95, 10, 0.1, 0.03, 200, sims=2000, seed=7)
    assert tuned["false_win"]["rate"] == pytest.approx(0.025, abs=0.015)
    assert fixed["false_win"]["rate"] > 0.10  # weekly looks at 0.95: far more than 5%
    assert fixed["power"]["rate"] > tuned["power"]["rate"] > 0.5
    assert 1 <= tuned["aa"]["looks"]["mean"] <= 10


def test_apply_rule_outcomes():
    pb = np.array([[0.5, 0.999, 0.5], [0.001, 0.5, 0.5], [0.5, 0.5, 0.5]])
    pr = np.array([[0, 0, 0], [0, 0, 0], [0, 0.99, 0]])
    look, outcome = apply_rule(pb, pr, np.ones_like(pb), u=0.99)
    assert look.tolist() == [2, 1, 2] and outcome.tolist() == [1, -1, 0]


def test_cli_rejects_bad_cadence(tmp_path):
    r = cli("monitor", tmp_path, "--looks", "daily")
    assert r.returncode == 1 and "Traceback" not in r.stderr and "weekly" in r.stderr


def test_estimate_after_an_early_stop_is_corrected_toward_the_truth():
    # With a true +0.02 on a 0.10 baseline, benefit stops over 6 looks overstate the effect;
    # inverting the mean estimate where the rule ends recovers the truth (Whitehead).
    from workbench.design.monitor import _diff_posterior, _paths, bias_adjusted_estimate, rule_quantities

    u, k, base, m, theta = 0.99, 6, 0.10, 300, 0.02
    rng = np.random.default_rng([11, 3])
    s_c, s_t, n = _paths(rng, 3000, k, base, base + theta, m)
    mean, sd = _diff_posterior(s_c, n, s_t, n)
    look, out = apply_rule(*rule_quantities(mean, sd), u)
    stopped = mean[np.arange(3000), look - 1][out == 1]
    naive = float(stopped.mean())
    assert naive > 1.5 * theta  # stopping for benefit inflates the estimate
    ended = float(mean[np.arange(3000), look - 1].mean())
    est = bias_adjusted_estimate(ended, u, k, base, m, sims=3000, seed=11)
    assert est["bias_adjusted"] == pytest.approx(theta, abs=0.002)
    # A single inflated stop is pulled toward zero.
    assert bias_adjusted_estimate(naive, u, k, base, m, sims=3000, seed=11)["bias_adjusted"] < naive
