"""Shared metric definitions -> sufficient statistics, on any ibis backend.

The engine does portable GROUP BYs over :func:`account_outcomes` (one row per
account); the Python side reshapes a frame of a few rows. The result is tidy:
one row per metric x arm (x segment | agent_id | week), columns documented in
:data:`workbench.metrics.catalogue.STAT_COLUMNS` and ``docs/metrics.md``::

    metric family arm [by..] accounts excluded n sum sum_sq successes
    denom denom_sq cross acct_sum_sq cat_0..cat_10 events exposure
    cov_n cov_sum cov_sum_sq cov_cross cov_cross_denom
    mean response_rate top2 per_account reached_contacts

Statistics that do not apply to a metric's family are NaN. Models need
nothing else: binary (successes, n), count (sum, sum_sq, n), ratio by the
delta method (sum, denom, sum_sq, denom_sq, cross), ordinal (category
counts), piecewise exponential (events, exposure; finer: :func:`survival_table`),
CUPED (cov_*: theta = cov(c, y) / var(c) from these sums).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd

from workbench.contract.compiled import planned
from workbench.contract.config import PilotConfig
from workbench.metrics.accounts import (
    KEPT_ALGORITHM,
    NULLABLE_OUTCOMES,
    TOL,
    account_outcomes,
    eligible_from,
    kept_promises,
    outcomes,
    sum_if,
)
from workbench.metrics.catalogue import CATALOGUE, SCALES, score_weights
from workbench.metrics.engine import open_pilot

__all__ = [
    "BY",
    "COLUMNS",
    "KEPT_ALGORITHM",
    "TOL",
    "account_outcomes",
    "compute_metrics",
    "kept_promises",
    "stats_expr",
    "sufficient_stats",
    "survival_table",
]

BY = ("segment", "agent_id", "week")

#: How each metric reads :func:`account_outcomes`: eligibility flag, outcome y,
#: ratio denominator x, ordinal categories.
SPECS: dict[str, dict[str, Any]] = {
    "engagement": {"elig": "e_out", "y": "engaged"},
    "ptp": {"elig": "e_out", "y": "ptp"},
    "kept_ptp": {"elig": "e_kept", "y": "kept"},
    "kept_rate": {"elig": "e_kept", "y": "kept_n", "x": "made_n"},
    "complaints": {"elig": "e_out", "y": "complaints_n"},
    "csat": {"elig": "e_out", "y": "csat", "cats": SCALES["csat"]},
    "retention": {"elig": "e_ret", "y": "retained"},
    "recovery": {"elig": "e_out", "y": "paid", "x": "balance"},
    "handle_time": {"elig": "e_out"},
    "contact_intensity": {"elig": "e_out", "y": "outbound_n"},
    "nps": {"elig": "e_out", "y": "nps", "cats": SCALES["nps"]},
}

COUNTS = ["accounts", "excluded", "n", "successes", "events", "cov_n"] + [f"cat_{k}" for k in range(11)]
SUMS = [
    "sum",
    "sum_sq",
    "denom",
    "denom_sq",
    "cross",
    "acct_sum_sq",
    "exposure",
    "cov_sum",
    "cov_sum_sq",
    "cov_cross",
    "cov_cross_denom",
]
DERIVED = ["mean", "response_rate", "top2", "per_account", "reached_contacts"]
COLUMNS = [
    "metric",
    "family",
    "arm",
    *BY,
    "accounts",
    "excluded",
    "n",
    "sum",
    "sum_sq",
    "successes",
    "denom",
    "denom_sq",
    "cross",
    "acct_sum_sq",
    *[f"cat_{k}" for k in range(11)],
    "events",
    "exposure",
    "cov_n",
    "cov_sum",
    "cov_sum_sq",
    "cov_cross",
    "cov_cross_denom",
    *DERIVED,
]


def _aggs(t, metric: str, covariate: str | None) -> dict[str, tuple[Any, str, bool]]:
    """The statistics of one metric as ``<metric>__<stat> -> (aggregate, flag, is_count)``.

    ``aggregate`` sums over the accounts of a group *without* the eligibility
    condition; the statistic is its total over the groups whose eligibility
    ``flag`` (``e_out``, ``e_kept``, ``e_ret``; ``e_obs`` for the retention
    follow-up) is 1 (:func:`stats_expr` groups by the flags). Counts
    (``is_count``) total 0 over no group, sums NULL, as SUM over no row.
    The unit of a metric is an eligible account whose outcome is not NULL;
    outcomes that are never NULL (all but ``NULLABLE_OUTCOMES``) need no test.
    """

    spec = SPECS[metric]
    flag = spec["elig"]

    def one(cond):
        return ibis.ifelse(cond, 1, 0).cast("int64").sum()

    f: dict[str, tuple[Any, str, bool]] = {"accounts": (t.count(), flag, True)}
    if metric == "handle_time":
        f |= {"n": (t.ht_n.sum(), flag, False), "sum": (t.ht_sum.sum(), flag, False), "sum_sq": (t.ht_sq.sum(), flag, False)}
        # Contacts are not the randomized unit: per-account totals (x contacts, y seconds)
        # give the variance of the ratio sum(y) / sum(x) clustered by account.
        x, y = t.ht_n.cast("float64"), t.ht_sum.cast("float64")
        f |= {"denom": (x.sum(), flag, False), "denom_sq": ((x * x).sum(), flag, False)}
        f |= {"cross": ((x * y).sum(), flag, False), "acct_sum_sq": ((y * y).sum(), flag, False)}
        return {f"{metric}__{k}": v for k, v in f.items()}
    y = t[spec["y"]].cast("float64")
    unit = y.notnull() if spec["y"] in NULLABLE_OUTCOMES else None

    def total(v):
        return (v.sum() if unit is None else sum_if(v, unit), flag, False)

    def count(cond):
        return (one(cond if unit is None else unit & cond), flag, True)

    f |= {"n": (t.count(), flag, True) if unit is None else (one(unit), flag, True), "sum": total(y), "sum_sq": total(y * y)}
    if CATALOGUE[metric].family in ("binary", "time-to-event"):
        f["successes"] = total(t[spec["y"]])
    elif metric == "recovery":
        f["successes"] = count(y > 0)  # payers: the hurdle part of a zero-heavy outcome
    if "x" in spec:
        x = t[spec["x"]].cast("float64")
        f |= {"denom": total(x), "denom_sq": total(x * x), "cross": total(x * y)}
    for k in spec.get("cats", ()):
        f[f"cat_{k}"] = count(t[spec["y"]] == k)
    if metric == "retention":
        f |= {"events": (t.ret_event.sum(), "e_obs", False), "exposure": (t.ret_days.sum(), "e_obs", False)}
    if covariate:
        # SUM skips NULLs: a product with a NULL covariate drops out as CASE WHEN c IS NOT NULL would.
        c = t[covariate].cast("float64")
        f |= {"cov_n": count(c.notnull()), "cov_sum": total(c), "cov_sum_sq": total(c * c), "cov_cross": total(c * y)}
        if "x" in spec:
            f["cov_cross_denom"] = total(c * t[spec["x"]].cast("float64"))
    return {f"{metric}__{k}": v for k, v in f.items()}


def _parts(tables, config, by, metrics, covariate, looks: Sequence[datetime] | None = None, per_account=account_outcomes):
    """Per-account table and the statistics to total: ``(t, stats, metrics_computed, notes)``.

    With ``looks``, each eligibility flag holds instead the first look ``k``
    (1-based) at which the account has it, ``len(looks) + 1`` for never.
    ``per_account`` is :func:`account_outcomes` (the expression) or
    :func:`workbench.metrics.accounts.outcomes` (the same behind the pilot's view).
    """
    # only the per-account aggregates the asked metrics read (all by default)
    t, avail, notes = per_account(tables, config, metrics)
    if looks is not None:
        naive = [d if d.tzinfo is None else d.astimezone(UTC).replace(tzinfo=None) for d in looks]  # tables: naive UTC
        dates = [ibis.literal(d, type="timestamp") for d in naive]

        def first_look(time) -> Any:
            # 1 + the number of looks before `time`: the first look with `time <= d_k`
            return functools.reduce(operator.add, [ibis.ifelse(time > d, 1, 0) for d in dates], ibis.literal(1))

        t = t.mutate(**{fl: first_look(at) for fl, at in eligible_from(t, config.windows).items()})
    bad = [b for b in by if b not in BY]
    missing = [b for b in by if b in BY and b not in t.columns]
    if bad:
        raise ValueError(f"unknown grouping {', '.join(bad)}: choose from {', '.join(BY)}")
    if missing:
        raise ValueError(f"cannot group by {', '.join(missing)}: accounts has no such column")
    wanted = list(metrics) if metrics is not None else list(CATALOGUE)
    unknown = [m for m in wanted if m not in CATALOGUE]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(CATALOGUE)}")
    for m in wanted:
        if m not in avail and not any(m in n for n in notes):
            notes.append(f"skipped {m}: needs {', '.join(CATALOGUE[m].needs)}")
    todo = [m for m in wanted if m in avail]
    if covariate and covariate not in t.columns:
        notes.append(f"covariate {covariate!r} absent: no CUPED sums")
        covariate = None
    stats = {"_total": (t.count(), None, True)}
    for m in todo:
        stats |= _aggs(t, m, covariate)
    return t, stats, todo, notes


def _inner(t, stats: dict, by: Sequence[str]):
    """Plain sums per arm x ``by`` x eligibility flags (a handful of groups per cell; each distinct sum once).

    Returns ``(expr, column of each statistic's sum, flags)``.
    """
    inner: dict[Any, str] = {}
    for agg, _, _ in stats.values():
        inner.setdefault(agg.op(), f"_s{len(inner)}")
    flags = sorted({fl for _, fl, _ in stats.values() if fl is not None})
    g = t.group_by(["arm", *by, *flags]).aggregate(**{name: op.to_expr() for op, name in inner.items()})
    return g, {name: inner[agg.op()] for name, (agg, _, _) in stats.items()}, flags


def stats_expr(
    tables: dict[str, Any],
    config: PilotConfig,
    by: Sequence[str] = (),
    metrics: Sequence[str] | None = None,
    covariate: str | None = "prior_paid",
    per_account=account_outcomes,
):
    """The wide aggregate as one ibis expression (for ``ibis.to_sql`` on any dialect).

    Returns ``(expr, metrics_computed, notes)``; ``expr`` has one row per
    ``arm`` x ``by`` cell, a column ``_total`` (assigned accounts) and
    ``<metric>__<stat>`` columns. ``per_account``: as in :func:`_parts`
    (:func:`sufficient_stats` reads the pilot's view of the outcomes).
    """
    t, stats, todo, notes = _parts(tables, config, by, metrics, covariate, per_account=per_account)
    # Two steps: plain sums per arm x by x eligibility flags, then per cell the total over the eligible groups.
    g, col, _ = _inner(t, stats, by)
    outer = {}
    for name, (_, fl, is_count) in stats.items():
        v = g[col[name]]
        if fl is None:
            outer[name] = v.sum()
        elif is_count:
            outer[name] = ibis.ifelse(g[fl] == 1, v, 0).sum()
        else:
            outer[name] = sum_if(v, g[fl] == 1)
    return g.group_by(["arm", *by]).aggregate(**outer), todo, notes


def stats_by_look(
    tables: dict[str, Any],
    config: PilotConfig,
    looks: Sequence[datetime],
    metrics: Sequence[str],
    by: Sequence[str] = (),
    covariate: str | None = None,
) -> list[pd.DataFrame]:
    """:func:`sufficient_stats` as if the data had stopped at each look date, from one query.

    An account enters a metric at look ``d`` when its window is over by ``d``
    (``assigned_at + horizon <= d``); everything its outcome reads lies in
    that window, so before ``d``: its outcome at ``d`` is its outcome at
    ``observed_until``. The statistics at ``d`` are therefore the sums over the
    accounts eligible at ``d``, and one GROUP BY over arm x (for each
    eligibility flag, the first look ``k`` with ``time <= d_k``) gives every
    look: pandas totals the groups with ``k`` at most the look's index, as
    :func:`stats_expr` totals the groups whose flag is 1. Each look's frame
    equals ``sufficient_stats`` with ``observed_until = d``
    (tests/metrics/test_stats_by_look.py). Not for retention: its follow-up
    (``events``, ``exposure``) is censored at ``observed_until`` itself.
    """
    by = list(by)
    if "retention" in metrics:
        raise ValueError("stats_by_look: retention's follow-up is censored at each look; compute it per look")
    t, stats, todo, notes = _parts(tables, config, by, metrics, covariate, looks, per_account=outcomes)
    g, col, _ = _inner(t, stats, by)
    groups = g.execute()
    keys, n = ["arm", *by], len(looks)
    per_look: list[list[dict]] = [[] for _ in range(n)]
    for key, cell in groups.groupby(keys, sort=False, dropna=False):
        recs = [dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True)) for _ in range(n)]
        for name, (_, fl, is_count) in stats.items():
            v = cell[col[name]].to_numpy(dtype=float, na_value=np.nan)
            k = np.zeros(len(cell), dtype=np.int64) if fl is None else cell[fl].to_numpy(dtype=np.int64)
            ok = ~np.isnan(v)
            # running totals over looks: group j counts from look k_j on (bins beyond the last look never do)
            total = np.bincount(k[ok], weights=v[ok], minlength=n + 2).cumsum()
            seen = np.bincount(k[ok], minlength=n + 2).cumsum()
            for i in range(n):
                # counts total 0 over no group, sums NULL: as SUM over no row (stats_expr)
                recs[i][name] = total[i + 1] if is_count or seen[i + 1] else np.nan
        for i in range(n):
            per_look[i].append(recs[i])
    out = []
    for rows in per_look:
        frame = tidy(pd.DataFrame(rows), todo, by, config.arm_labels)
        frame.attrs["notes"] = notes
        out.append(frame)
    return out


def _scored(row: dict[str, Any], metric: str, quantity: str) -> float:
    """sum_k w_k cat_k with the catalogue's weights (:func:`workbench.metrics.catalogue.score_weights`)."""
    cats = SCALES[metric]
    return sum(w * row[f"cat_{k}"] for k, w in zip(cats, score_weights(cats, quantity), strict=True))


def _derive(row: dict[str, Any], metric: str) -> None:
    """Fill ``mean`` and the statistics shown beside it, in the metric's unit."""
    n, s = row["n"], row["sum"]

    def div(a, b):
        # engines may hand back DECIMAL sums (e.g. DuckDB over a CSV column it typed as decimal)
        return float(a) / float(b) if b else np.nan

    if metric in ("kept_rate", "recovery"):
        row["mean"] = div(s, row["denom"])
    elif metric == "nps":
        row["mean"] = div(_scored(row, metric, "nps"), n)
    else:
        row["mean"] = div(s, n)
    if metric in ("csat", "nps"):
        row["response_rate"] = div(n, row["accounts"])
    if metric == "csat":
        row["top2"] = div(_scored(row, metric, "top2"), n)
    if metric == "recovery":
        row["per_account"] = div(s, n)
    if metric == "handle_time":
        row["reached_contacts"] = n


def tidy(wide: pd.DataFrame, metrics: Sequence[str], by: Sequence[str], arms: Sequence[str]) -> pd.DataFrame:
    """Reshape the wide aggregate to one row per metric x cell (see module docstring)."""
    rows = []
    # each metric's columns and the statistic each holds, in the aggregate's order (found once, not per cell)
    own = {m: [(k, k.split("__", 1)[1]) for k in wide.columns if k.startswith(f"{m}__")] for m in metrics}
    for rec in wide.to_dict("records"):
        for m in metrics:
            row: dict[str, Any] = dict.fromkeys(COLUMNS, np.nan)
            row.update(metric=m, family=CATALOGUE[m].family, arm=rec["arm"], **{b: rec[b] for b in by})
            for k, stat in own[m]:
                v = rec[k]
                row[stat] = 0 if v is None or pd.isna(v) else v
            row["excluded"] = rec["_total"] - row["accounts"]
            _derive(row, m)
            rows.append(row)
    cols = [c for c in COLUMNS if c not in BY or c in by]
    out = pd.DataFrame(rows, columns=cols)
    for c in COUNTS:
        if c in out and out[c].notna().all():
            out[c] = out[c].astype("int64")
    for c in out.columns:
        if (c in COUNTS and out[c].dtype != "int64") or c in SUMS or c in DERIVED:
            out[c] = out[c].astype("float64")
    if "week" in by:
        out["week"] = pd.to_datetime(out["week"]).dt.strftime("%Y-%m-%d")
    order = {m: i for i, m in enumerate(CATALOGUE)}
    arm_pos = {a: i for i, a in enumerate(arms)}
    out["_m"], out["_a"] = out.metric.map(order), out.arm.map(arm_pos).fillna(len(arms))
    out = out.sort_values(["_m", "_a", "arm", *by], kind="stable").drop(columns=["_m", "_a"])
    return out.reset_index(drop=True)


def sufficient_stats(
    tables: dict[str, Any],
    config: PilotConfig,
    by: Sequence[str] = (),
    metrics: Sequence[str] | None = None,
    covariate: str | None = "prior_paid",
) -> pd.DataFrame:
    """Sufficient statistics per metric x arm (x ``by`` cells), computed by the tables' backend.

    Parameters
    ----------
    tables : contract tables as ibis tables (``workbench.metrics.engine.open_pilot(...).tables``).
    config : the pilot's configuration (windows, observed_until, arms).
    by : any of ``segment``, ``agent_id``, ``week`` (assignment week, Monday UTC).
    metrics : subset of the catalogue (default: every metric the tables allow).
    covariate : account column for the CUPED sums (``cov_*``), or None.

    Returns
    -------
    DataFrame with the columns of :data:`COLUMNS` (``by`` columns only when
    grouped); ``attrs["notes"]`` lists skipped metrics and why.
    """
    by = list(by)
    t, avail, notes = outcomes(tables, config, metrics)  # behind the pilot's view, made once per opened pilot

    def build(ts: dict[str, Any]) -> tuple[Any, tuple[list[str], list[str]]]:
        expr, todo, notes_ = stats_expr(
            tables, config, by, metrics, covariate, per_account=lambda *_: (ts["outcomes"], list(avail), list(notes))
        )
        return expr, (todo, notes_)

    # On DuckDB the statistics over the outcomes are built once per shape (compiled.planned): an
    # analysis asks for four or five of them, and building each costs more than computing it.
    key = (
        config.plan_key(),
        tuple(by),
        None if metrics is None else tuple(metrics),
        covariate,
        tuple(avail),
        tuple(notes),
    )
    found = planned({"outcomes": t}, key, build)
    expr, (todo, notes) = found if found is not None else build({"outcomes": t})
    todo, notes = list(todo), list(notes)  # a plan's lists are shared by every pilot of its shape
    wide = expr.execute()
    out = tidy(wide, todo, by, config.arm_labels)
    out.attrs["notes"] = notes
    return out


def compute_metrics(
    pilot: str | Path | PilotConfig, by: Sequence[str] = (), backend: str = "duckdb", metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """Open a pilot (:func:`workbench.metrics.engine.open_pilot`) and return :func:`sufficient_stats`."""

    p = open_pilot(pilot, backend)
    out = sufficient_stats(p.tables, p.config, by=by, metrics=metrics)
    out.attrs["notes"] = p.notes + out.attrs["notes"]
    return out


def survival_table(tables: dict[str, Any], config: PilotConfig, by: Sequence[str] = ()) -> pd.DataFrame:
    """Retention follow-up per arm x day: ``exits``, ``events``, ``time_sum``.

    Every account assigned by ``observed_until`` is followed from
    ``assigned_at`` to ``min(closed_at, observed_until, assigned_at +
    retention_days)``; ``day = floor(follow-up in days)``. Kaplan-Meier:
    at risk on day d = exits on days >= d; S(t) = prod(1 - events_d / at_risk_d).
    Exposure in a piece [a, b) of whole days = sum over exits in it of
    (time_sum - a * exits) + (b - a) * (exits on days >= b).
    """
    t, avail, _ = outcomes(tables, config)
    if "retention" not in avail:
        raise ValueError("retention needs accounts.closed_at")
    t = t.filter(t.e_obs == 1)
    t = t.mutate(day=t.ret_days.floor().cast("int64"))
    expr = t.group_by(["arm", *by, "day"]).aggregate(exits=t.count(), events=t.ret_event.sum(), time_sum=t.ret_days.sum())
    out = expr.execute()
    out["exits"] = out["exits"].astype("int64")
    out["events"] = out["events"].astype("int64")
    return out.sort_values(["arm", *by, "day"]).reset_index(drop=True)
