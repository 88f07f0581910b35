"""Eligibility per metric, checked when validating: does the pilot's observed time cover the windows?

An account enters a metric when everything the metric looks at lies before
``observed_until`` (DESIGN.md, metric catalogue)::

    eligible  <=>  assigned_at + horizon_days(metric) <= observed_until

with the horizon ``outcome_days`` for most metrics, ``outcome_days +
max_due_days + grace_days`` for kept_ptp and kept_rate (a promise made late in
the window has until its due date and the grace days to be kept), and
``retention_days`` for retention at its horizon. These are the flags
``e_out``, ``e_kept`` and ``e_ret`` of :func:`workbench.metrics.accounts.account_outcomes`
(tests/contract/test_eligibility.py keeps the two in step).

Validation counts the eligible accounts per metric and arm: none for the
primary metric is an error naming the date the pilot would need to be
observed until; fewer than :data:`FEW` in an arm is a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import ibis
import pandas as pd

from workbench.contract.config import PilotConfig, Windows
from workbench.errors import Problem

# Fewer eligible accounts than this in an arm leave a metric with intervals
# too wide to judge anything (a share's standard error is then above 0.09).
FEW = 30

# What each metric reads (tables, or table.column): it is computed only when they are present.
NEEDS: dict[str, tuple[str, ...]] = {
    "engagement": ("contacts",),
    "ptp": ("promises",),
    "kept_ptp": ("promises", "payments"),
    "kept_rate": ("promises", "payments"),
    "complaints": ("complaints",),
    "csat": ("surveys",),
    "retention": ("accounts.closed_at",),
    "recovery": ("payments",),
    "handle_time": ("contacts.handle_seconds",),
    "contact_intensity": ("contacts",),
    "nps": ("surveys.nps",),
}


def horizon_days(metric: str, w: Windows) -> int:
    """Days after ``assigned_at`` that must be observed for an account to enter ``metric``."""
    if metric in ("kept_ptp", "kept_rate"):
        return w.outcome_days + w.max_due_days + w.grace_days
    if metric == "retention":
        return w.retention_days
    return w.outcome_days


def available(tables: dict[str, Any]) -> list[str]:
    """The metrics whose tables and columns are present, in catalogue order (ibis tables or frames)."""

    def has(need: str) -> bool:
        table, _, col = need.partition(".")
        return table in tables and (not col or col in tables[table].columns)

    return [m for m, needs in NEEDS.items() if all(has(n) for n in needs)]


@dataclass(frozen=True)
class Eligibility:
    """Eligible accounts of one metric: per arm, the horizon, and the date all would be eligible."""

    metric: str
    horizon: int
    per_arm: dict[str, int]
    first_date: pd.Timestamp | None  # observed_until from which the first account is eligible
    all_date: pd.Timestamp | None  # ... and from which every account is

    @property
    def total(self) -> int:
        return sum(self.per_arm.values())


def utc_naive(when: Any) -> pd.Timestamp:
    """A time as the engine holds it: naive, in UTC wall time."""
    ts = pd.Timestamp(when)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def eligibility_aggs(col: Callable[[str], Any], config: PilotConfig, metrics: list[str]) -> dict[str, Any]:
    """The aggregates eligibility counts, each named ``el_...``: one query on the accounts table
    (``col(c)`` its typed column ``c``) may hold them beside its other counts.

    Only accounts with an id, an arm and an assigned_at count; per horizon ``h`` of ``metrics``
    and arm ``i``::

        el_e<h>_<i> = #{accounts of arm i with assigned_at <= observed_until - h days}
    """
    counted = col("account_id").notnull() & col("arm").notnull() & col("assigned_at").notnull()
    obs = utc_naive(config.observed_until)
    aggs = {
        "el_first": col("assigned_at").min(where=counted),
        "el_last": col("assigned_at").max(where=counted),
        "el_n": ibis.ifelse(counted, 1, 0).sum(),
    }
    for h in sorted({horizon_days(m, config.windows) for m in metrics}):
        ok = counted & (col("assigned_at") <= ibis.literal((obs - timedelta(days=h)).to_pydatetime()))
        for i, arm in enumerate(config.arm_labels):
            aggs[f"el_e{h}_{i}"] = ibis.ifelse(ok & (col("arm") == arm), 1, 0).sum()
    return aggs


def eligibility_of(row: dict, config: PilotConfig, metrics: list[str]) -> list[Eligibility]:
    """The eligibility of ``metrics`` from the counts of :func:`eligibility_aggs` (``row``: the query's one row,
    counted for these metrics' horizons or more)."""
    n = row["el_n"] or 0
    first = pd.Timestamp(row["el_first"]) if n else None
    last = pd.Timestamp(row["el_last"]) if n else None
    out = []
    for m in metrics:
        h = horizon_days(m, config.windows)
        per_arm = {a: int(row[f"el_e{h}_{i}"] or 0) for i, a in enumerate(config.arm_labels)}
        days = timedelta(days=h)
        out.append(
            Eligibility(m, h, per_arm, first + days if first is not None else None, last + days if last is not None else None)
        )
    return out


def eligibility(acc: Any, config: PilotConfig, metrics: list[str]) -> list[Eligibility]:
    """Count eligible accounts per metric and arm (accounts with an id, an arm and an assigned_at).

    ``acc`` is the typed accounts table on the engine (a pandas frame is read
    into one); the counts are one aggregate query, per arm and horizon
    (:func:`eligibility_aggs`; validation counts them in the accounts table's own query).
    """
    if isinstance(acc, pd.DataFrame):
        acc = ibis.memtable(acc.assign(assigned_at=pd.to_datetime(acc["assigned_at"], utc=True).dt.tz_localize(None)))
    row = acc.aggregate(**eligibility_aggs(lambda c: acc[c], config, metrics)).to_pyarrow().to_pylist()[0]
    return eligibility_of(row, config, metrics)


def _counted(acc: Any, config: PilotConfig, metrics: list[str] | None) -> list[Eligibility]:
    """Counts already made (a list of :class:`Eligibility`), or made now on the accounts table ``acc``."""
    return acc if isinstance(acc, list) else eligibility(acc, config, metrics or [])


def eligibility_problems(acc: Any, config: PilotConfig, metrics: list[str] | None = None) -> tuple[list[Problem], list[Problem]]:
    """An error when the primary metric has no eligible account, a warning per metric too thin to judge.

    ``acc`` is the accounts table (counted here for ``metrics``) or the counts of :func:`eligibility`.
    """
    errors: list[Problem] = []
    warnings: list[Problem] = []
    obs = f"{config.observed_until:%Y-%m-%d}"
    for e in _counted(acc, config, metrics):
        rule = f"{e.metric}: assigned_at + {e.horizon} days <= observed_until {obs}"
        if e.metric == config.primary_metric and e.total == 0:
            when = f"; observed_until {e.first_date:%Y-%m-%d} or later would give some" if e.first_date is not None else ""
            errors.append(
                Problem(
                    "pilot.yml",
                    "primary_metric",
                    f"{rule}: no account is eligible for the primary metric{when} "
                    f"(or shorten windows in pilot.yml, or choose another primary_metric)",
                )
            )
            continue
        thin = {a: n for a, n in e.per_arm.items() if n < FEW}
        if thin:
            arms = ", ".join(f"{a} {n}" for a, n in thin.items())
            when = f"; every account is eligible from {e.all_date:%Y-%m-%d}" if e.all_date is not None else ""
            warnings.append(
                Problem(
                    "pilot.yml",
                    "primary_metric" if e.metric == config.primary_metric else "observed_until",
                    f"{rule}: fewer than {FEW} eligible accounts in an arm ({arms}), too few to judge{when}",
                    severity="warning",
                )
            )
    return errors, warnings


def eligibility_line(acc: Any, config: PilotConfig, metrics: list[str] | None = None) -> str:
    """One summary line: eligible accounts per metric (per arm when there are two)."""
    parts = []
    for e in _counted(acc, config, metrics):
        arms = "/".join(f"{n:,}" for n in e.per_arm.values())
        parts.append(f"{e.metric} {e.total:,} ({arms})")
    return "eligible accounts per metric (" + "/".join(config.arm_labels) + "): " + "; ".join(parts)
