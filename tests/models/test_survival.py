"""Retention as survival: pieces, Kaplan-Meier, the supported horizon and one model for both arms."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.effects.retention import retention
from workbench.models import survival
from workbench.models.conjugate import DEFAULT_PRIORS

FLAT = {**DEFAULT_PRIORS, "hazard": {"shape": 1e-9, "rate_days": 1e-9}}


def table(arm: str, rows: list[tuple[int, int, int, float]]) -> pd.DataFrame:
    """Rows (day, exits, events, time_sum) of one arm."""
    return pd.DataFrame([{"arm": arm, "day": d, "exits": x, "events": e, "time_sum": s} for d, x, e, s in rows])


# 100 accounts: 10 leave on day 10 (exactly), 90 are followed to day 60.
TEN_OF_HUNDRED = [(10, 10, 10, 100.0), (60, 90, 0, 5400.0)]


def test_pieces_and_kaplan_meier_by_hand():
    t = table("a", TEN_OF_HUNDRED)
    ev, ex = survival.pieces(t, np.array([0.0, 30.0, 60.0]))
    assert ev.tolist() == [10, 0]
    # piece [0, 30): 10 accounts x 10 days + 90 accounts x 30 days; piece [30, 60): 90 x 30
    assert ex.tolist() == [100 + 2700, 2700]
    km = survival.kaplan_meier(t, 60)
    assert km["survival"] == pytest.approx(0.9)
    assert km["se"] == pytest.approx(math.sqrt(0.9 * 0.1 / 100))  # Greenwood = binomial without censoring
    assert survival.supported_horizon(t) == 60
    assert survival.supported_horizon(t, min_at_risk=91) == 10


def test_piecewise_posterior_matches_the_hazards():
    t = table("a", TEN_OF_HUNDRED)
    post, _ = survival.piecewise_survival(t, FLAT, np.random.default_rng(0), 20_000, 60)
    assert np.mean(np.log(post)) == pytest.approx(-(10 / 2800) * 30, rel=0.02)


def test_censored_accounts_count():
    # Half the accounts are censored at day 90 (assigned late): Kaplan-Meier and the model use them.
    t = table("a", [(20, 40, 40, 40 * 20.0), (90, 200, 0, 200 * 90.0), (180, 160, 0, 160 * 180.0)])
    km = survival.kaplan_meier(t, 180)
    assert km["survival"] == pytest.approx(1 - 40 / 400)
    assert km["at_risk"] == 160


def two_arms(last_day: int) -> pd.DataFrame:
    return pd.concat(
        [
            table("c", [(30, 50, 50, 1500.0), (last_day, 450, 0, 450.0 * last_day)]),
            table("t", [(60, 50, 50, 3000.0), (last_day, 450, 0, 450.0 * last_day)]),
        ]
    )


def test_no_estimate_past_the_longest_follow_up():
    rng = np.random.default_rng(1)
    r = retention({"arm": "c", "n": 0}, {"arm": "t", "n": 0}, two_arms(129), 180, DEFAULT_PRIORS, rng, 2000, 0.95)
    assert r.model == "piecewise_exponential_survival"
    assert r.horizon_days == 129 and not r.observable
    assert "not yet observable at 180 days" in r.reason
    assert r.extra["kaplan_meier"]["horizon_days"] == 129


def test_observed_horizon_gives_a_verdict_and_one_model():
    rng = np.random.default_rng(1)
    r = retention({"arm": "c", "n": 450}, {"arm": "t", "n": 3}, two_arms(180), 180, DEFAULT_PRIORS, rng, 2000, 0.95)
    assert r.observable and r.reason is None and r.horizon_days == 180
    # same events by 180 days in both arms: the difference holds 0
    assert np.quantile(r.treatment - r.control, 0.025) < 0 < np.quantile(r.treatment - r.control, 0.975)


def test_without_table_both_arms_get_the_same_model():
    rng = np.random.default_rng(2)
    c = {"arm": "c", "n": 500, "successes": 400, "events": 100, "exposure": 60_000.0}
    t = {"arm": "t", "n": 10, "successes": 8, "events": 50, "exposure": 80_000.0}
    r = retention(c, t, None, 180, DEFAULT_PRIORS, rng, 1000, 0.95)
    assert r.model == "beta_binomial_at_horizon" and r.observable
    r = retention(c, dict(t, n=0, successes=0), None, 180, DEFAULT_PRIORS, rng, 1000, 0.95)
    assert r.model == "exponential_survival_extrapolated" and not r.observable
    assert "extrapolation" in r.reason


def test_clustered_survival_by_hand():
    # Two agents, one piece [0, 30): agent a 2 events in 100 account-days, agent b none in 100.
    t = pd.DataFrame(
        [
            {"arm": "c", "agent_id": "a", "day": 5, "exits": 2, "events": 2, "time_sum": 10.0},
            {"arm": "c", "agent_id": "a", "day": 30, "exits": 3, "events": 0, "time_sum": 90.0},
            {"arm": "c", "agent_id": "b", "day": 30, "exits": 5, "events": 0, "time_sum": 150.0},
        ]
    )
    post, g = survival.clustered_survival(t, np.random.default_rng(0), 200_000, 30)
    lam = 2 / (10 + 90 + 150 - 0)  # exposure: 10 + 3 x 30 + 5 x 30 = 250 account-days
    psi = np.array([-(2 - lam * 100) * 30 / 250, -(0 - lam * 150) * 30 / 250])
    se = math.sqrt(float(np.sum(psi**2 / (1 - np.array([0.5, 0.5])))))
    assert g == 2
    # exp is monotone: quantiles of S are exp of the quantiles of log S = -lam w + se t(1)
    assert math.log(np.median(post)) == pytest.approx(-lam * 30, abs=0.005)
    assert math.log(np.quantile(post, 0.025) / np.median(post)) == pytest.approx(-12.706 * se, rel=0.05)
