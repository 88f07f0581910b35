"""Agent randomization: CR2 errors by hand, too few agents means no verdict on any metric."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.defaults import MIN_AGENTS_PER_ARM
from workbench.effects import frequentist
from workbench.effects.analyze import Design, Settings, analyze_stats
from workbench.effects.clusters import cr2_mean, too_few_agents


def test_cr2_by_hand():
    # m = 4 / 4 = 1; residuals -1, +1; leverage 1/2 each: var = (1/0.5 + 1/0.5) / 16
    m, se, g = cr2_mean(np.array([1.0, 3.0]), np.array([2.0, 2.0]))
    assert (m, g) == (1.0, 2)
    assert se == pytest.approx(0.5)


def agent_cells(agents_per_arm: int, seed: int = 0, m: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-agent and per-arm statistics of an A/A pilot randomized by agent (binary and count metrics)."""
    rng = np.random.default_rng(seed)
    rows = []
    for arm in ("c", "t"):
        for g in range(agents_per_arm):
            p = 1 / (1 + math.exp(-(-1.5 + rng.normal(0, 0.5))))
            y = rng.random(m) < p
            k = rng.poisson(rng.gamma(2.0, 0.5 * math.exp(rng.normal(0, 0.5)), m))
            rows.append(
                {
                    "metric": "ptp",
                    "family": "binary",
                    "arm": arm,
                    "agent_id": f"{arm}{g}",
                    "n": m,
                    "successes": int(y.sum()),
                    "sum": float(y.sum()),
                    "accounts": m,
                    "excluded": 0,
                }
            )
            rows.append(
                {
                    "metric": "complaints",
                    "family": "count",
                    "arm": arm,
                    "agent_id": f"{arm}{g}",
                    "n": m,
                    "sum": float(k.sum()),
                    "sum_sq": float((k * k).sum()),
                    "accounts": m,
                    "excluded": 0,
                }
            )
    cells = pd.DataFrame(rows)
    arms = cells.groupby(["metric", "family", "arm"], as_index=False)[
        ["n", "successes", "sum", "sum_sq", "accounts", "excluded"]
    ].sum(min_count=1)
    return arms, cells


def test_two_agents_per_arm_get_no_verdict_on_any_metric():
    stats, cells = agent_cells(2)
    doc = analyze_stats(
        stats,
        Design("c", ["t"], primary="ptp", guardrails={"complaints": {}}, randomization="agent"),
        Settings(draws=1000),
        agent_stats=cells,
    )
    for m, r in doc["metrics"].items():
        assert r["decision"]["verdict"] == "inconclusive", m
        assert "cannot be separated from the agents" in r["decision"]["reason"]
        assert f"at least {MIN_AGENTS_PER_ARM} agents per arm" in r["decision"]["reason"]
    assert too_few_agents(cells[cells.metric == "ptp"], ["c", "t"]) is not None


def test_ten_agents_per_arm_are_modelled_as_clusters():
    stats, cells = agent_cells(10, seed=3)
    doc = analyze_stats(stats, Design("c", ["t"], primary="ptp", randomization="agent"), Settings(draws=1000), agent_stats=cells)
    for r in doc["metrics"].values():
        assert r["model"] == "cluster_robust_cr2_t"
        assert r["frequentist"]["method"] == "cr2_cluster_robust_t_by_agent"
        assert r["frequentist"]["df"] == 18
        assert not r["decision"].get("no_verdict")


def test_cluster_robust_cross_check_by_hand():
    cells = pd.DataFrame({"arm": ["c", "c", "t", "t"], "agent_id": list("abcd"), "n": [2, 2, 2, 2], "sum": [1.0, 3.0, 2.0, 6.0]})
    r = frequentist.cluster_robust("complaints", "count", "c", "t", cells, 0.95)
    # control m=1, se=0.5; treatment m=2, residuals -2, +2: se = sqrt((4/.5 + 4/.5) / 16) = 1
    assert r["difference"] == pytest.approx(1.0)
    half = (r["interval"][1] - r["interval"][0]) / 2
    from scipy import stats

    assert half == pytest.approx(stats.t.ppf(0.975, 2) * math.sqrt(0.25 + 1.0))


def test_simulated_pilot_with_two_agents_per_arm_gets_no_verdict_anywhere(tmp_path):
    from workbench.contract.io import write_pilot
    from workbench.effects.analyze import design_from_config
    from workbench.metrics.stats import compute_metrics
    from workbench.simulate.pilot import simulate_tables

    cfg, tables, _ = simulate_tables(1_500, seed=8, preset="null", agents=4, randomization="agent", with_truth=False)
    path = write_pilot(tmp_path / "p", cfg, tables, "parquet")
    stats, agents = compute_metrics(path), compute_metrics(path, by=["agent_id"])
    doc = analyze_stats(stats, design_from_config(cfg), Settings(draws=500), agent_stats=agents)
    assert len(doc["metrics"]) >= 8
    for m, r in doc["metrics"].items():
        if r["role"] != "descriptive":
            assert r["decision"]["no_verdict"], m
            assert "2 in pressure, 2 in empathy" in r["decision"]["reason"], m


def test_retention_by_agent_is_clustered(tmp_path):
    from workbench.contract.io import write_pilot
    from workbench.effects.analyze import design_from_config
    from workbench.metrics.engine import open_pilot
    from workbench.metrics.stats import compute_metrics, survival_table
    from workbench.simulate.pilot import simulate_tables

    cfg, tables, _ = simulate_tables(1_500, seed=9, preset="null", agents=20, randomization="agent", with_truth=False)
    path = write_pilot(tmp_path / "p", cfg, tables, "parquet")
    stats = compute_metrics(path, metrics=["retention"])
    agents = compute_metrics(path, by=["agent_id"], metrics=["retention"])
    p = open_pilot(path)
    surv = survival_table(p.tables, p.config, by=["agent_id"])
    doc = analyze_stats(stats, design_from_config(cfg), Settings(draws=1000), agent_stats=agents, survival=surv)
    r = doc["metrics"]["retention"]
    assert r["model"] == "piecewise_exponential_cluster_robust_cr2_t"
    assert r["observable"] and not r["decision"].get("no_verdict")
