"""Descriptive subgroup figures for claims conditioned on what happened after assignment.

"Better retention among accounts that resolved their payment issues" compares
arms within a subgroup defined by an outcome of the treatment: the subgroups
differ in who is in them, so the comparison is descriptive, never causal
(the same reason kept_rate is descriptive). These figures are counts per arm
within the subgroup; :mod:`workbench.claims.evaluate` shows them labelled so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from workbench.claims.register import Claim
from workbench.contract.config import PilotConfig
from workbench.metrics.accounts import account_outcomes

# metric -> (outcome column 0/1 or count, eligibility flag) for the binary metrics a subgroup can carry
_OUTCOME = {
    "retention": ("retained", "e_ret"),
    "engagement": ("engaged", "e_out"),
    "ptp": ("ptp", "e_out"),
    "kept_ptp": ("kept", "e_kept"),
}


def _member(t, condition: str):
    """(membership expression, its eligibility flag): the subgroup is only known once its window closed."""
    return {
        "kept_promise": (t.kept > 0, "e_kept"),
        "paid": (t.paid > 0, "e_out"),
        "promised": (t.ptp > 0, "e_out"),
        "engaged": (t.engaged > 0, "e_out"),
    }[condition]


def subgroup_stats(tables: dict[str, Any], config: PilotConfig, claims: Iterable[Claim]) -> pd.DataFrame:
    """Counts per (condition, metric, arm) within each claim's subgroup: ``n`` and ``successes``.

    Only accounts eligible for both the subgroup and the metric count. Metrics
    outside the binary ones of ``_OUTCOME`` (or absent from the tables) are skipped.
    """
    wanted = {(c.condition, r.metric) for c in claims if c.condition for r in c.readings if r.metric in _OUTCOME}
    rows: list[dict] = []
    if not wanted:
        return pd.DataFrame(columns=["condition", "metric", "arm", "n", "successes"])
    t, _, _ = account_outcomes(tables, config)
    for condition, metric in sorted(wanted):
        col, flag = _OUTCOME[metric]
        if col not in t.columns:
            continue
        member, m_flag = _member(t, condition)
        sub = t.filter((t[flag] == 1) & (t[m_flag] == 1) & member)
        agg = sub.group_by("arm").aggregate(n=sub.count(), successes=(sub[col] > 0).cast("int64").sum()).execute()
        for r in agg.to_dict("records"):
            rows.append(
                {
                    "condition": condition,
                    "metric": metric,
                    "arm": r["arm"],
                    "n": int(r["n"]),
                    "successes": int(r["successes"] or 0),
                }
            )
    return pd.DataFrame(rows, columns=["condition", "metric", "arm", "n", "successes"])


def longest_follow_up(tables: dict[str, Any], config: PilotConfig) -> int | None:
    """Days from the first assignment to ``observed_until``: the longest follow-up any account has."""
    acc = tables["accounts"]
    first = acc.aggregate(first=acc.assigned_at.min()).execute()["first"].iloc[0]
    if first is None or pd.isna(first):
        return None
    first = pd.Timestamp(first)
    first = first.tz_localize("UTC") if first.tzinfo is None else first
    return int((pd.Timestamp(config.observed_until) - first).days)
