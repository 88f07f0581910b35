"""Segments under agent randomization account for the agents, like the overall effect."""

from __future__ import annotations

import pytest

from workbench.effects.analyze import analyze_stats
from workbench.effects.spec import Settings, design_from_config
from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import sufficient_stats
from workbench.simulate.pilot import simulate_pilot


@pytest.fixture(scope="module")
def agent_pilot(tmp_path_factory):
    path = simulate_pilot(
        tmp_path_factory.mktemp("agents") / "p", accounts=3000, seed=4, agents=24, randomization="agent", with_truth=False
    )
    p = open_pilot(path)
    by = {
        k: sufficient_stats(p.tables, p.config, by=v)
        for k, v in {"arm": [], "agent": ["agent_id"], "segment": ["segment"], "seg_agent": ["segment", "agent_id"]}.items()
    }
    return p.config, by


def test_segment_intervals_use_the_agents(agent_pilot):
    cfg, by = agent_pilot
    design = design_from_config(cfg)
    doc = analyze_stats(by["arm"], design, Settings(draws=2000), by["agent"], by["segment"], segment_agent_stats=by["seg_agent"])
    segs = doc["metrics"]["complaints"]["segments"]
    judged = {k: v for k, v in segs.items() if not v.get("suppressed")}
    assert judged
    for name, s in judged.items():
        assert "cluster" in s["model"], (name, s["model"])
