"""Decision rules: the role of each metric and the verdict its posterior earns.

Every threshold comes from :class:`workbench.defaults.Thresholds` (or a locked
plan's), never from a literal here.
"""

from __future__ import annotations

from workbench.defaults import Thresholds
from workbench.effects import compare as effects
from workbench.effects.spec import Design
from workbench.metrics.catalogue import CATALOGUE


def role_of(metric: str, design: Design) -> str:
    if CATALOGUE.get(metric) is not None and CATALOGUE[metric].descriptive:
        return "descriptive"
    if metric == design.primary:
        return "primary"
    if design.guardrails and metric in design.guardrails:
        return "guardrail"
    return "exploratory"


def verdict(role: str, res: dict, c_draws, t_draws, hib, design: Design, metric: str, thresholds: Thresholds) -> dict:
    """Decision of DESIGN.md; a failed diagnostic or data check never yields a verdict."""
    if role == "descriptive":
        return {"verdict": "descriptive", "reason": "conditions on a post-treatment event; not causal"}
    if not res["diagnostics"]["ok"]:
        return {"verdict": "inconclusive", "reason": "model diagnostics failed: the effect is unreliable"}
    if role == "guardrail":
        g = design.guardrails[metric]
        margin, threshold = float(g.get("margin", 0.0)), float(g.get("threshold", thresholds.harm))
        p = effects.prob_harm(c_draws, t_draws, higher_is_better=hib, margin=margin)
        return {"verdict": "fail" if p > threshold else "pass", "prob_harm": p, "margin": margin, "threshold": threshold}
    pb, pr = res["prob_better"], res["prob_rope"]
    if pr > thresholds.equivalent:
        v = "equivalent"
    elif pb > thresholds.better:
        v = "better"
    elif pb < thresholds.worse:
        v = "worse"
    else:
        v = "inconclusive"
    return {"verdict": v, "exploratory": role == "exploratory"}


def overall_decision(doc: dict, design: Design) -> dict:
    """Headline: the primary metric's verdict, the guardrails' pass/fail, the rest exploratory."""
    m = doc["metrics"]
    primary = m.get(design.primary) if design.primary else None
    guard = {k: v["decision"]["verdict"] for k, v in m.items() if v.get("role") == "guardrail"}
    out = {
        "primary_metric": design.primary,
        "guardrails": guard,
        "exploratory": sorted(k for k, v in m.items() if v.get("role") == "exploratory"),
    }
    if primary is None:
        out["verdict"] = "inconclusive"
        out["reason"] = "the primary metric could not be computed"
    else:
        out["verdict"] = primary["decision"]["verdict"]
        if any(v == "fail" for v in guard.values()) and out["verdict"] == "better":
            out["verdict"] = "better, but a guardrail failed"
    return out
