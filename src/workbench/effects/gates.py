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
