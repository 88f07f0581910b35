"""A deliberately hard fit shows up as unreliable in every output, never as a verdict."""

from __future__ import annotations

import pandas as pd
from shared_fits import separated_cells, shared_fits

from workbench.effects.analyze import Design, Settings, analyze_stats
from workbench.report import views as report


def test_separated_outcome_under_agent_randomization_is_flagged_not_judged():
    # Separation: no control account promises, every treated one does; four agents per arm.
    # The fit (a short chain judged by the production gate: R-hat <= 1.01, bulk ESS >= 400, no
    # divergences) is made once per session with the other agent-randomized fit (shared_fits.py).
    cells = separated_cells()
    fit = shared_fits("agents")["separated"]
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
