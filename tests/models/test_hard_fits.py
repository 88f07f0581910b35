"""A deliberately hard fit shows up as unreliable in every output, never as a verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.effects.analyze import Design, Settings, analyze_stats
from workbench.report import views as report


def separated_cells() -> pd.DataFrame:
    """Separation under agent randomization: no control account promises, every treated one does."""
    return pd.DataFrame(
        {
            "arm": ["pressure"] * 4 + ["empathy"] * 4,
            "agent_id": [f"G{i}" for i in range(8)],
            "n": [12] * 8,
            "successes": [0] * 4 + [12] * 4,
        }
    )


def agent_randomized_cells() -> pd.DataFrame:
    """Ordinary data on the same eight agents, each working one arm (agents nested in arms).

    Agents differ by at most 0.1 on the logit, so their effects are sampled
    non-centred as for the separated cells: the same structure, one compilation.
    """
    rng = np.random.default_rng(5)
    rows = []
    for i, dev in enumerate((-0.1, 0.05, 0.1, -0.05, 0.0, -0.1, 0.1, 0.05)):
        arm, b = ("pressure", 0.0) if i < 4 else ("empathy", 0.4)
        p = 1 / (1 + np.exp(-(-1 + b + dev)))
        rows.append({"arm": arm, "agent_id": f"G{i}", "n": 400, "successes": int(rng.binomial(400, p))})
    return pd.DataFrame(rows)


@pytest.mark.xdist_group("numba")  # the fits that compile a structure share one worker: see tests/conftest.py
def test_separated_outcome_under_agent_randomization_is_flagged_not_judged():
    """The same structure (eight agents nested in two arms) on ordinary data, then on separated data.

    One test, because compiling the structure costs 15-45 s and sampling it 0.5 s
    (xdist would give two tests to two workers, each compiling it).
    """
    from workbench.models.binary import HierarchicalBinary  # PyMC only where a model is fitted

    model = HierarchicalBinary()
    easy, cells = agent_randomized_cells(), separated_cells()
    assert model.centred(model.prepare(easy, "pressure", ["empathy"])) == model.centred(
        model.prepare(cells, "pressure", ["empathy"])
    )

    # Ordinary data: every agent in the model, no segments, the effect recovered.
    fit = model.fit(easy, "pressure", ["empathy"], seed=2, draws=150, tune=150, chains=2, smoke=True)
    assert list(fit.idata.posterior["agent"].values) == [f"G{i}" for i in range(8)]
    assert fit.segments == {}
    diff = fit.draws["empathy"] - fit.draws["pressure"]
    rates = easy.groupby("arm")["successes"].sum() / easy.groupby("arm")["n"].sum()
    se = np.sqrt(sum(r * (1 - r) / 1600 for r in rates))  # 1,600 accounts an arm
    assert (diff > 0).mean() > 0.975 and abs(diff.mean() - (rates["empathy"] - rates["pressure"])) < 3 * se

    # Separation: no control account promises, every treated one does; four agents per arm.
    # A short chain, judged by the production gate (R-hat <= 1.01, bulk ESS >= 400, no divergences).
    fit = model.fit(cells, "pressure", ["empathy"], draws=60, tune=60, chains=2, seed=1)
    assert fit.diagnostics["thresholds"]["label"] == "production"
    assert fit.diagnostics["ok"] is False
    stats = (
        cells.groupby("arm", as_index=False)[["n", "successes"]]
        .sum()
        .assign(metric="ptp", family="binary", sum=lambda d: d["successes"], accounts=lambda d: d["n"], excluded=0)
    )
    doc = analyze_stats(
        stats,
        Design("pressure", ["empathy"], primary="ptp", randomization="agent"),
        Settings(),
        agent_stats=cells.assign(metric="ptp", family="binary", sum=cells["successes"]),
        hierarchical={"ptp": fit},
    )
    m = doc["metrics"]["ptp"]
    assert m["model"] == "hierarchical_logistic" and m["diagnostics"]["ok"] is False
    assert m["decision"]["verdict"] == "inconclusive" and doc["decision"]["verdict"] == "inconclusive"
    sentence = report.verdict_sentence(doc, "ptp")
    assert "inconclusive" in sentence and "%" not in sentence


def test_tiny_segments_are_suppressed_not_judged():
    rows = []
    for seg, n in (("big", 500), ("tiny", 4)):
        for arm, s in (("pressure", n // 10), ("empathy", n // 5)):
            rows.append(
                {
                    "metric": "ptp",
                    "family": "binary",
                    "arm": arm,
                    "segment": seg,
                    "n": n,
                    "successes": s,
                    "sum": s,
                    "accounts": n,
                    "excluded": 0,
                }
            )
    seg = pd.DataFrame(rows)
    overall = seg.groupby("arm", as_index=False)[["n", "successes", "sum", "accounts", "excluded"]].sum()
    overall["metric"], overall["family"] = "ptp", "binary"
    doc = analyze_stats(overall, Design("pressure", ["empathy"]), Settings(), segment_stats=seg, min_cell_size=10)
    tiny = doc["metrics"]["ptp"]["segments"]["tiny"]
    assert tiny["suppressed"] is True and "effect" not in tiny
