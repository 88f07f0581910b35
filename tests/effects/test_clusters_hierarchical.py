"""The hierarchical path under agent randomization: too few agents withhold the verdict whatever the model says."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from workbench.defaults import MIN_AGENTS_PER_ARM
from workbench.effects.analyze import Design, Settings, analyze_stats


def _cells(agents: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [
        {"arm": arm, "agent_id": f"{arm}{g}", "n": 100, "successes": 10 if arm == "c" else 40, "accounts": 100, "excluded": 0}
        for arm in ("c", "t")
        for g in range(agents)
    ]
    cells = pd.DataFrame(rows).assign(metric="ptp", family="binary")
    cells["sum"] = cells["successes"].astype(float)
    stats = cells.groupby(["metric", "family", "arm"], as_index=False)[["n", "successes", "sum", "accounts", "excluded"]].sum()
    return stats, cells


def _fit(rng) -> SimpleNamespace:
    # A hierarchical fit as analyze_run hands it over: a clear +30 points, converged.
    draws = {"c": rng.normal(0.10, 0.01, 4000), "t": rng.normal(0.40, 0.01, 4000)}
    prior = {"c": rng.uniform(0, 1, 4000), "t": rng.uniform(0, 1, 4000)}
    diag = {"r_hat_max": 1.0, "ess_bulk_min": 2000.0, "divergences": 0, "ok": True}
    return SimpleNamespace(model="hierarchical_logistic", draws=draws, prior_draws=prior, diagnostics=diag)


def test_a_confident_hierarchical_fit_on_too_few_agents_gets_no_verdict():
    rng = np.random.default_rng(0)
    design = Design("c", ["t"], primary="ptp", randomization="agent")
    for agents, withheld in ((MIN_AGENTS_PER_ARM - 1, True), (MIN_AGENTS_PER_ARM, False)):
        stats, cells = _cells(agents)
        m = analyze_stats(stats, design, Settings(draws=1000), agent_stats=cells, hierarchical={"ptp": _fit(rng)})["metrics"][
            "ptp"
        ]
        assert m["model"] == "hierarchical_logistic"
        if withheld:
            assert m["decision"]["verdict"] == "inconclusive" and m["decision"]["no_verdict"]
            assert "cannot be separated from the agents" in m["decision"]["reason"]
        else:
            assert m["decision"]["verdict"] == "better" and not m["decision"].get("no_verdict")
