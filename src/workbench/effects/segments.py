"""Segment effects: exact per segment, then partially pooled across segments (exploratory).

Every segment effect is exploratory and labelled with its false-discovery
control: Benjamini-Hochberg over the segments of one metric and arm on the
cross-check p-values (``q_value``); the partially pooled estimate beside it is
the hierarchical view, which shrinks noisy segments toward the overall effect.
"""

from __future__ import annotations

import pandas as pd
from scipy import stats

from workbench.effects.decision import bh_adjust
from workbench.effects.pooling import pool
from workbench.effects.posterior import compare_metric, direction
from workbench.effects.spec import Design, Settings


def segment_effects(
    seg: pd.DataFrame,
    metric: str,
    design: Design,
    settings: Settings,
    priors: dict,
    arm: str,
    min_cell_size: int,
    seg_agent: pd.DataFrame | None = None,
) -> dict:
    """Per-segment effects (exploratory, no pooling); cells under the minimum size are suppressed.

    Under agent randomization ``seg_agent`` (statistics by segment x agent) gives
    each segment its agents, so a segment's interval accounts for clustering the
    way the overall one does (CR2 with t(G - 1), or no verdict with too few agents).
    """
    out = {}
    cells_of = None
    if design.randomization == "agent" and seg_agent is not None and "agent_id" in seg_agent:
        cells_of = seg_agent[seg_agent["metric"] == metric]
    rows = seg[seg["metric"] == metric].reset_index(drop=True)
    records = rows.to_dict("records")  # once per metric: to_dict costs about as much for one row as for all
    for s, g in rows.groupby("segment", dropna=False):
        arms = {records[i]["arm"]: records[i] for i in g.index}
        name = "unknown" if pd.isna(s) else str(s)
        if design.control not in arms or arm not in arms:
            continue
        c, t = arms[design.control], arms[arm]
        if min(c.get("accounts", 0) or 0, t.get("accounts", 0) or 0) < min_cell_size:
            out[name] = {"suppressed": True, "reason": f"fewer than {min_cell_size} accounts in an arm"}
            continue
        cells = None
        if cells_of is not None:
            cells = cells_of[cells_of["segment"].isna()] if pd.isna(s) else cells_of[cells_of["segment"] == s]
        r = compare_metric(metric, c, t, design, settings, priors, cells, brief=True)
        out[name] = {k: r[k] for k in ("control", "treatment", "effect", "prob_better", "diagnostics", "model")}
        out[name]["pooling"] = "none (exact per segment)"
        out[name]["p_value"] = (r.get("frequentist") or {}).get("p_value")
    _pool_segments(out, direction(metric, design), settings.level)
    _label_fdr(out, settings.level)
    return out


def _label_fdr(segs: dict, level: float) -> None:
    """Benjamini-Hochberg q-values across segments; ``discovery`` when q < 1 - level (exploratory)."""
    names = [k for k, v in segs.items() if not v.get("suppressed") and v.get("p_value") is not None]
    q = dict(zip(names, bh_adjust([segs[k]["p_value"] for k in names]), strict=True))
    label = f"exploratory; Benjamini-Hochberg over {len(names)} segments (cross-check p-values), FDR {1 - level:.0%}"
    for k, v in segs.items():
        if v.get("suppressed"):
            continue
        v["multiplicity"] = label
        if k in q:
            v["q_value"] = q[k]
            v["discovery"] = bool(q[k] < 1 - level)


def _pool_segments(segs: dict, higher_is_better: bool | None, level: float) -> None:
    """Partial pooling of the segment differences: normal-normal random effects, exact on a tau grid.

    Each segment's difference d_j with standard error s_j (from its interval)
    is shrunk toward the across-segment mean by ``s_j^2 / (s_j^2 + tau^2)``,
    integrated over the posterior of the between-segment spread tau
    (:func:`workbench.design.meta.pool`). Adds ``pooled`` to each segment.
    """

    z = stats.norm.ppf((1 + level) / 2)
    names, y, se = [], [], []
    for name, seg in segs.items():
        d = seg.get("effect", {}).get("difference") if not seg.get("suppressed") else None
        if d and d.get("mean") is not None and d["interval"][0] is not None and seg["diagnostics"].get("ok"):
            width = (d["interval"][1] - d["interval"][0]) / (2 * z)
            if width > 0:
                names.append(name)
                y.append(d["mean"])
                se.append(width)
    if len(y) < 2:
        return
    res = pool(y, se, names, higher_is_better is not False, level)
    sign = -1 if higher_is_better is False else 1
    for p in res["pilots"]:
        th = p["shrunken"]
        segs[p["pilot"]]["pooled"] = {
            "difference": {"mean": th["mean"], "interval": th["interval"]},
            "prob_better": float(stats.norm.cdf(sign * th["mean"] / th["sd"])) if th["sd"] > 0 else None,
            "between_segment_sd": res["tau"]["median"],
            "spread_identified": res["tau"]["identified"],
            "spread_prior": res["tau"]["prior"],
            "model": "partial pooling: normal-normal random effects across segments (exact on a tau grid)",
        }
        if not res["tau"]["identified"]:  # say so where the segment is read, not only in the pooling module
            segs[p["pilot"]]["pooled"]["statement"] = res["tau"]["statement"]
