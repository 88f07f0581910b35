"""Gates that overrule verdicts: failed pilot checks and deviations from a locked plan."""

from __future__ import annotations

from workbench.checks import run_checks
from workbench.contract.plan import check_plan, locked_thresholds, read_plan
from workbench.contract.source import locate
from workbench.defaults import Thresholds
from workbench.errors import PlanError

# Checks whose failure makes every causal comparison untrustworthy, and checks
# that only taint the metrics that rest on them.
GATING_CHECKS = ("srm", "balance", "contamination")


CHECK_METRICS = {"survey_response": ("csat", "nps")}

# Guardrail verdicts that settle the harm question either way; any other state leaves harm open.
SETTLED = ("harm", "fail", "no harm beyond margin", "pass")


def comparison(doc: dict, metric: str, arm: str | None = None) -> dict:
    """The comparison of ``metric`` for ``arm`` (the first treatment arm by default)."""
    m = doc["metrics"][metric]
    arm = arm or doc["treatments"][0]
    comps = m.get("comparisons") or {}
    if arm in comps and arm != doc["treatments"][0]:
        return {**m, **comps[arm]}
    return m


def blocked_by(doc: dict, metric: str, c: dict) -> str | None:
    """Which check stops this outcome's effect from being read (None when it can be read)."""
    if c.get("role") == "descriptive":
        return None
    if not c.get("diagnostics", {}).get("ok", True):
        return "model diagnostics"
    dq = doc.get("data_quality") or {}
    if dq.get("gating"):
        return ", ".join(dq["gating"])
    if dq.get("ok") is False:
        return ", ".join(dq.get("failed") or ["data quality"])
    failed = set(dq.get("failed") or []) | {k for k, v in (doc.get("checks") or {}).items() if v.get("status") == "fail"}
    for check, metrics in CHECK_METRICS.items():
        if check in failed and metric in metrics:
            return check
    reason = c.get("decision", {}).get("reason", "")
    if c.get("decision", {}).get("verdict") == "inconclusive" and "check failed" in reason:
        return reason.removeprefix("the ").removesuffix(" check failed")
    return None


def harm_not_ruled_out(doc: dict, arm: str) -> list[str]:
    """The guardrails of ``arm`` on which harm is neither shown nor ruled out: short of data,
    inconclusive, or blocked by a check (:func:`blocked_by`); what "not blocked" leaves open."""
    out = []
    for k, m in doc["metrics"].items():
        if m.get("role") != "guardrail" or not (arm == doc["treatments"][0] or arm in (m.get("comparisons") or {})):
            continue
        c = comparison(doc, k, arm)
        if blocked_by(doc, k, c) or (c.get("decision") or {}).get("verdict") not in SETTLED:
            out.append(k)
    return sorted(out)


def settle_rollouts(doc: dict) -> None:
    """Write each arm's :func:`harm_not_ruled_out` into ``decision.arms.<arm>.harm_not_ruled_out``:
    the banner's "not blocked (harm not ruled out on ...)" and results.json say the same."""
    for arm, entry in ((doc.get("decision") or {}).get("arms") or {}).items():
        entry["harm_not_ruled_out"] = harm_not_ruled_out(doc, arm)


def apply_checks(doc: dict, tables: dict, cfg) -> list:
    """Run the pilot checks, record them, and let a failed one overrule the verdicts; return the results.

    A failed sample-ratio, balance or contamination check turns the headline
    and every arm's verdict into "inconclusive" and its rollout into "no
    decision" (the randomization itself is in doubt; the verdicts before the
    checks are kept beside, ``*_before_checks``); a failed survey
    response check marks csat and nps as inconclusive (responders differ by arm).
    """
    results = run_checks(tables, cfg)
    doc["checks"] = {r.check: {"status": r.status, "summary": r.summary} for r in results}
    failed = [r.check for r in results if r.status == "fail"]
    gating = [c for c in failed if c in GATING_CHECKS]
    doc["data_quality"] = {"ok": not gating, "failed": failed, "gating": gating}
    for check, metrics in CHECK_METRICS.items():
        if check in failed:
            for m in metrics:
                if m in doc["metrics"] and doc["metrics"][m]["decision"]["verdict"] not in ("descriptive",):
                    doc["metrics"][m]["decision"] = {"verdict": "inconclusive", "reason": f"the {check} check failed"}
    if gating:
        reason = f"data quality check(s) failed: {', '.join(gating)}"
        doc["decision"]["verdict_before_checks"] = doc["decision"]["verdict"]
        doc["decision"]["verdict"] = "inconclusive"
        doc["decision"]["reason"] = reason
        # Every arm too: "rollout: not blocked" beside a failed randomization check read as a green
        # light; with the comparison itself in doubt there is no rollout decision either way.
        for arm in (doc["decision"].get("arms") or {}).values():
            arm["verdict_before_checks"], arm["rollout_before_checks"] = arm["verdict"], arm["rollout"]
            arm["verdict"], arm["reason"] = "inconclusive", reason
            arm["rollout"] = f"no decision: {reason}"
    settle_rollouts(doc)  # the checks block guardrails' readings too
    return results


def plan_path(pilot):
    """``plan.lock`` beside the pilot's pilot.yml."""
    return locate(pilot)[0] / "plan.lock"


def plan_thresholds(pilot) -> Thresholds | None:
    """The decision thresholds locked in the pilot's plan.lock (None without a readable lock).

    The engine decides with these, so a verdict follows the plan written before
    the data; an unreadable lock is reported by :func:`apply_plan` instead.
    """
    lock = plan_path(pilot)
    if not lock.exists():
        return None
    try:
        return locked_thresholds(read_plan(lock), lock)
    except PlanError:
        return None


def apply_plan(doc: dict, pilot, cfg, thresholds: Thresholds | None = None) -> None:
    """Flag every deviation from a locked analysis plan (``plan.lock`` next to pilot.yml)."""
    lock = plan_path(pilot)
    if not lock.exists():
        doc["plan"] = {"locked": False}
        return
    try:
        deviations = check_plan(lock, cfg, thresholds=thresholds.as_dict() if thresholds else None)
    except PlanError as err:
        deviations = [f"plan.lock unreadable: {err}"]
    doc["plan"] = {"locked": True, "deviations": deviations, "followed": not deviations}
