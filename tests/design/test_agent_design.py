"""Agent-randomized pilots are sized with the models analyze uses: per-agent cells, CR2, the hierarchical check."""

from __future__ import annotations

import math

import pytest
from typer.testing import CliRunner

from workbench.defaults import MIN_AGENTS_PER_ARM
from workbench.design import agents as agent_sizing
from workbench.design.agents import CR2, HIERARCHICAL, agent_power, confirm, decide, simulate_agents
from workbench.design.sizing import DesignSpec, closed_form_n, plan_pilot, requested_pilot


def _spec(**over) -> DesignSpec:
    base = {"baseline": 0.10, "effect": 0.40, "unit": "agent", "icc": 0.0, "accounts_per_agent": 40, "sims": 20}
    return DesignSpec("kept_ptp", **{**base, **over})


def test_simulated_cells_are_what_analyze_reads_and_the_same_agents_at_every_size():
    spec = _spec(agent_size_cv=0.6)
    small, big = simulate_agents(spec, 6, 0), simulate_agents(spec, 9, 0)
    assert {"arm", "agent_id", "n", "successes"} <= set(small.columns)
    assert small.groupby("arm")["agent_id"].nunique().to_dict() == {"control": 6, "treatment": 6}
    assert small["n"].nunique() > 1  # unequal agents
    # common random numbers: agent j is the same agent whatever the number of agents
    same = big.set_index("agent_id").loc[small["agent_id"], ["n", "successes"]].to_numpy()
    assert (same == small[["n", "successes"]].to_numpy()).all()
    doc = decide(spec, small, seed=0)
    assert doc["metrics"]["kept_ptp"]["model"] == CR2


def test_two_agents_per_arm_give_no_verdict_however_large_the_effect():
    spec = _spec(sims=10)  # +40 points: five agents per arm detect it almost always
    at_two, at_five = agent_power(spec, 2), agent_power(spec, MIN_AGENTS_PER_ARM)
    assert at_two["power"] == 0 and at_two["no_verdict"] == 1
    assert at_five["power"] > 0.8 and at_five["no_verdict"] == 0
    aa = _spec(effect=0.0, rope=0.05, sims=10)
    assert agent_power(aa, 2)["power"] == 0  # no "equivalent" either
    req = requested_pilot(aa, 2)
    assert not req["verdict_possible"] and "cannot be separated from the agents" in req["reason"]


def test_never_fewer_than_the_minimum_agents_per_arm():
    doc = plan_pilot(_spec(accounts_per_agent=400, confirm_sims=0))  # one agent of 400 would do, were it allowed
    assert doc["agents_per_arm"] == MIN_AGENTS_PER_ARM == doc["minimum_agents_per_arm"]
    assert doc["closed_form"]["agents_per_arm"] == MIN_AGENTS_PER_ARM
    assert min(e["agents"] for e in doc["search"]["evaluations"]) >= MIN_AGENTS_PER_ARM
    assert doc["sized_with"] == {"search": CR2, "confirmation": None} and doc["confirmation"] is None


def test_large_icc_needs_more_accounts_than_account_randomization():
    acc = DesignSpec("kept_ptp", 0.10, 0.10)
    n = math.ceil(closed_form_n(acc))  # about 80% power when accounts are randomized
    spec = _spec(effect=0.10, icc=0.2, accounts_per_agent=20, sims=40)
    assert spec.design_effect == pytest.approx(4.8)
    clustered = agent_power(spec, math.ceil(n / 20))
    assert clustered["power"] < 0.5  # the same accounts in agents of 20 fall far short
    assert agent_power(spec, math.ceil(4.8 * n / 20))["power"] > clustered["power"] + 0.25


def test_a_short_confirmation_steps_up_until_the_hierarchical_power_holds(monkeypatch):
    real = agent_sizing.agent_power
    asked = []

    def fake(spec, agents, model=CR2, sims=None, stream=0):
        if model != HIERARCHICAL:
            return real(spec, agents, model, sims, stream)
        asked.append(agents)  # the hierarchical model falls short at the first size only
        p = 0.5 if len(asked) == 1 else 0.85
        return {"power": p, "power_mc_error": 0.05, "gate_failed": 0.0, "seconds_per_pilot": 1.0, "agents_per_arm": agents}

    monkeypatch.setattr(agent_sizing, "agent_power", fake)
    spec = _spec(effect=0.15, confirm_sims=100)
    agents, block = confirm(spec, 6, [])
    assert asked[0] == 6 and agents == asked[-1] > 6
    assert block["passed"] and len(block["steps"]) == 2 and block["model"] == HIERARCHICAL


def test_design_verb_names_the_model_and_says_when_the_pilot_is_too_small():
    from workbench.cli.main import app

    args = ["design", "--metric", "kept_ptp", "--baseline", "0.1", "--effect", "0.4", "--unit", "agent", "--sims", "20"]
    r = CliRunner().invoke(app, [*args, "--accounts-per-agent", "40", "--confirm-sims", "0", "--agents-per-arm", "2"])
    assert r.exit_code == 0, r.output
    assert f"searched with {CR2}" in r.output and "not confirmed with the hierarchical logistic model" in r.output
    assert "2 agents per arm: too small for any verdict" in r.output


@pytest.mark.slow
def test_hierarchical_confirmation_runs_analyze_runs_model():
    spec = _spec(effect=0.25, sims=20, confirm_sims=6, smoke=True)
    doc = plan_pilot(spec)
    c = doc["confirmation"]
    assert doc["sized_with"] == {"search": CR2, "confirmation": HIERARCHICAL}
    assert c["model"] == HIERARCHICAL and c["sims"] == 6 and c["steps"][0]["model"] == HIERARCHICAL
    assert doc["agents_per_arm"] == c["agents_per_arm"] >= doc["search"]["agents"] >= MIN_AGENTS_PER_ARM
    assert decide(spec, simulate_agents(spec, 6, 0, 1), 0, HIERARCHICAL)["metrics"]["kept_ptp"]["model"] == HIERARCHICAL
