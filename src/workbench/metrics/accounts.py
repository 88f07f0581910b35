"""Per-account outcomes as one ibis expression: the windows and the promise rule.

:func:`account_outcomes` turns the contract tables into one row per account
with its eligibility flags and its outcome for every metric of the catalogue
(:mod:`workbench.metrics.catalogue`). :mod:`workbench.metrics.stats` then reduces that table
to sufficient statistics with plain GROUP BYs. Only portable SQL is used:
joins, CASE, SUM/MIN/MAX/COUNT, and window functions (SUM/MIN/MAX over
``ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`` or ``1 PRECEDING``) that
DuckDB, Spark, BigQuery and Snowflake all run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis

from workbench.contract.compiled import planned, view
from workbench.contract.config import PilotConfig, Windows
from workbench.contract.eligibility import horizon_days
from workbench.contract.engine import SMALL_INPUT, input_state

#: Outcomes of :func:`account_outcomes` that are NULL for some accounts (no answer);
#: every other outcome has a default (0) and is never NULL.
NULLABLE_OUTCOMES = ("csat", "nps")

#: Money is compared to the cent: sums of payments in binary floating point
#: (0.1 + 0.2) must still keep a promise of 0.30, on every backend.
TOL = 0.005

KEPT_ALGORITHM = """
A promise is *in window* when `made_at` lies in the outcome window. Its deadline is
`D = min(due_at, made_at + max_due_days) + grace_days` (a due date beyond the longest
counted horizon is judged at that horizon). Payments count for a promise when
`made_at <= paid_at <= D`; each payment counts once, and money goes to the open
promise that is due first (the collections waterfall: oldest installment first).

Portable algorithm (window functions only), per account:

1. Order the in-window promises by `(due_at, made_at, promise_id)`.
2. Chains: a promise starts a new chain when it was made after the deadline of every
   earlier promise (`made_at > max(D of earlier promises)`, a MAX over the earlier rows);
   the chain number is a running SUM of those starts. Promises of different chains
   never compete for the same payment.
3. In a chain starting at `s = min(made_at)`, with `A_k` the running sum of promised
   amounts and `M_k` the money paid in `[s, D_k]`, the money given to the first k
   promises by the waterfall is `R_k = min(R_{k-1} + amount_k, M_k)`, i.e.
   `R_k = A_k + G_k` with `G_k = min(0, min_{j<=k} (M_j - A_j))` (a running MIN).
4. Promise k is kept when it received its full amount, `R_k - R_{k-1} = amount_k`,
   i.e. `M_k - A_k >= G_{k-1}` (`G_0 = 0`), and, because payments before a promise
   never keep it, the money paid in `[made_at_k, D_k]` is at least its amount.
   Money is compared to the cent (tolerance 0.005).

This is exactly the waterfall when the promises of a chain were made together
(installment plans) or one after another's deadline (single promises); when
overlapping promises were made at different times, step 3 lets money paid before
a later promise was made reach it only through the earlier promises' shortfall,
and step 4 still requires the later promise's own window to hold its amount.
kept_ptp = 1 when any in-window promise is kept; kept_rate counts kept and made.
"""


def _ts(dt) -> Any:
    """observed_until as a naive UTC timestamp literal (tables are naive UTC too)."""
    return ibis.literal(dt.replace(tzinfo=None), type="timestamp")


def _int(cond) -> Any:
    return ibis.ifelse(cond, 1, 0).cast("int64")


def sum_if(x, cond) -> Any:
    """``SUM(CASE WHEN cond THEN x END)``: the sum of ``x`` over the rows where ``cond`` holds (NULL if none).

    The same value as ``x.sum(where=cond)`` (``SUM(x) FILTER (WHERE cond)``) on
    every backend, but DuckDB evaluates a FILTER clause per aggregate (a
    selection and a copy of the chunk each): with a hundred conditional sums
    over a million accounts the CASE form is about four times faster.
    """
    return ibis.ifelse(cond, x, ibis.null(x.type())).sum()


def _days(n: int) -> Any:
    return ibis.interval(days=n)


def _in_window(a, ev, time_col: str):
    """Events of eligible-or-not accounts that fall in their outcome window."""
    j = ev.inner_join(a.select("account_id", "assigned_at", "win_end"), "account_id")
    return j.filter(j[time_col] >= j.assigned_at, j[time_col] < j.win_end)


def kept_promises(a, promises, payments, config: PilotConfig):
    """One row per in-window promise with ``kept`` (0/1); see ``KEPT_ALGORITHM``."""
    w = config.windows
    p = _in_window(a, promises, "made_at")
    p = p.select("account_id", "promise_id", "made_at", "due_at", "amount")
    p = p.mutate(deadline=ibis.least(p.due_at, p.made_at + _days(w.max_due_days)) + _days(w.grace_days))
    order = ["due_at", "made_at", "promise_id"]
    cum = {"order_by": order, "preceding": None, "following": 0}
    earlier = {"order_by": order, "preceding": (None, 1)}  # the rows before this one (none: NULL)
    p = p.mutate(prev=p.deadline.max().over(ibis.window(group_by="account_id", **earlier)))
    p = p.mutate(start=_int(p.prev.isnull() | (p.made_at > p.prev)))
    p = p.mutate(chain=p.start.sum().over(ibis.window(group_by="account_id", **cum)))
    chain = ["account_id", "chain"]
    p = p.mutate(
        chain_start=p.made_at.min().over(ibis.window(group_by=chain)),
        promised=p.amount.sum().over(ibis.window(group_by=chain, **cum)),
    )
    pay = payments.select(pay_account="account_id", paid_at="paid_at", pay_amount="amount")
    j = p.left_join(pay, [p.account_id == pay.pay_account, pay.paid_at >= p.chain_start, pay.paid_at <= p.deadline])
    m = j.group_by(["account_id", "promise_id", "chain", "made_at", "due_at", "amount", "promised"]).aggregate(
        money=j.pay_amount.sum().coalesce(0.0),
        own=sum_if(j.pay_amount, j.paid_at >= j.made_at).coalesce(0.0),
    )
    # G_{k-1} = min(0, min_{j<k} (M_j - A_j)), 0 for the first promise of a chain
    m = m.mutate(gap_prev=(m.money - m.promised).min().over(ibis.window(group_by=chain, **earlier)))
    m = m.mutate(short_prev=ibis.ifelse(m.gap_prev < 0, m.gap_prev, 0.0))
    return m.mutate(kept=_int((m.money - m.promised >= m.short_prev - TOL) & (m.own >= m.amount - TOL)))


def _first_score(a, surveys, col: str):
    """Score of each account's first in-window answer carrying ``col`` (ties: lowest)."""
    s = _in_window(a, surveys.filter(surveys[col].notnull()), "answered_at")
    s = s.mutate(first=s.answered_at.min().over(ibis.window(group_by="account_id")))
    s = s.filter(s.answered_at == s.first)
    return s.group_by("account_id").aggregate(**{col: s[col].min().cast("int64")})


def _attach(a, parts: list[tuple[Any, dict[str, Any]]], flags: dict[str, str]):
    """``a`` LEFT JOIN each per-account aggregate (one join chain, one SELECT); absent: the default.

    ``flags`` adds ``name = 1 if count > 0 else 0`` after its count column.
    """
    j = a
    keyed = []
    for i, (agg, cols) in enumerate(parts):
        agg = agg.rename(**{f"_acc{i}": "account_id"})
        j = j.left_join(agg, a.account_id == agg[f"_acc{i}"])
        keyed.append((agg, cols))
    sel = [a[c] for c in a.columns]
    for agg, cols in keyed:
        for c, d in cols.items():
            v = agg[c].coalesce(d) if d is not None else agg[c]
            sel.append(v.name(c))
            if c in flags:
                sel.append(_int(v > 0).name(flags[c]))
    return j.select(*sel)


def eligible_from(a, w: Windows) -> dict[str, Any]:
    """Each eligibility flag and the time from which an account has it (``flag = 1 <=> time <= observed_until``).

    ``e_out``, ``e_kept``, ``e_ret``: ``assigned_at + horizon_days`` of a metric
    with that horizon (:func:`workbench.contract.eligibility.horizon_days`, the
    rule validation counts by); ``e_obs``: assigned at all.
    """
    return {
        "e_out": a.assigned_at + _days(horizon_days("ptp", w)),
        "e_kept": a.assigned_at + _days(horizon_days("kept_ptp", w)),
        "e_ret": a.assigned_at + _days(horizon_days("retention", w)),
        "e_obs": a.assigned_at,
    }


#: The event tables' per-account aggregates each metric reads (the accounts table is always read).
NEEDS = {
    "contacts": ("engagement", "contact_intensity", "handle_time"),
    "made": ("ptp", "kept_rate"),
    "kept": ("kept_ptp", "kept_rate"),
    "paid": ("recovery",),
    "complaints": ("complaints",),
    "csat": ("csat",),
    "nps": ("nps",),
}


def account_outcomes(
    tables: dict[str, Any], config: PilotConfig, metrics: Sequence[str] | None = None
) -> tuple[Any, list[str], list[str]]:
    """One row per account: keys, covariates, eligibility flags and outcomes.

    Returns ``(table, available_metrics, notes)``. Columns: ``account_id, arm,
    balance`` (+ ``segment, agent_id, prior_paid`` when present), ``week``
    (Monday of the assignment week), ``e_out, e_kept, e_ret, e_obs``
    (eligibility, 0/1; ``e_obs``: assigned by observed_until), and outcomes
    ``engaged, outbound_n, ht_n, ht_sum, ht_sq, ptp, made_n, kept_n, kept,
    paid, complaints_n, csat, nps, retained, ret_event, ret_days``.

    ``metrics`` (default: every metric) leaves out the per-account aggregates
    no listed metric reads (:data:`NEEDS`): the monitoring replay of one
    metric, or a check of one metric, need not join the contacts, the largest
    table. The
    outcomes kept are the same expressions, so their values do not change;
    ``available_metrics`` then lists only metrics built.
    """
    w, obs = config.windows, _ts(config.observed_until)
    acc = tables["accounts"]
    keep = [
        c
        for c in ("account_id", "arm", "assigned_at", "balance", "segment", "agent_id", "prior_paid", "closed_at")
        if c in acc.columns
    ]
    a = acc.select(*keep)
    a = a.mutate(
        win_end=a.assigned_at + _days(w.outcome_days),
        week=a.assigned_at.truncate("W").cast("date"),
        **{flag: _int(at <= obs) for flag, at in eligible_from(a, w).items()},
    )
    avail: list[str] = []
    notes: list[str] = []
    parts: list[tuple[Any, dict[str, Any]]] = []  # per-account aggregates, their columns' defaults
    flags: dict[str, str] = {}  # 0/1 outcome -> the count it flags

    def attach(agg, cols: dict[str, Any]) -> None:
        parts.append((agg, cols))

    def wants(part: str) -> bool:
        return metrics is None or any(m in metrics for m in NEEDS[part])

    ct = tables.get("contacts")
    if ct is not None and wants("contacts"):
        c = _in_window(a, ct, "at")
        aggs = {
            "engaged": _int((c.direction == "inbound") | ((c.direction == "outbound") & c.reached)).max(),
            "outbound_n": _int(c.direction == "outbound").sum(),
        }
        cols = {"engaged": 0, "outbound_n": 0}
        if "handle_seconds" in ct.columns:
            timed = c.reached & c.handle_seconds.notnull()
            aggs |= {
                "ht_n": _int(timed).sum(),
                "ht_sum": sum_if(c.handle_seconds, timed),
                "ht_sq": sum_if(c.handle_seconds * c.handle_seconds, timed),
            }
            cols |= {"ht_n": 0, "ht_sum": 0.0, "ht_sq": 0.0}
            avail.append("handle_time")
        else:
            notes.append("contacts.handle_seconds absent: skipped handle_time")
        attach(c.group_by("account_id").aggregate(**aggs), cols)
        avail += ["engagement", "contact_intensity"]
    pr, pay = tables.get("promises"), tables.get("payments")
    if pr is not None and wants("made"):
        p = _in_window(a, pr, "made_at")
        attach(p.group_by("account_id").aggregate(made_n=p.count()), {"made_n": 0})
        flags["made_n"] = "ptp"
        avail.append("ptp")
    if pr is not None and wants("kept") and pay is not None:
        k = kept_promises(a, pr, pay, config)
        attach(k.group_by("account_id").aggregate(kept_n=k.kept.sum()), {"kept_n": 0})
        flags["kept_n"] = "kept"
        avail += ["kept_ptp", "kept_rate"]
    if pay is not None and wants("paid"):
        q = _in_window(a, pay, "paid_at")
        attach(q.group_by("account_id").aggregate(paid=q.amount.sum()), {"paid": 0.0})
        avail.append("recovery")
    cp = tables.get("complaints")
    if cp is not None and wants("complaints"):
        q = _in_window(a, cp, "filed_at")
        attach(q.group_by("account_id").aggregate(complaints_n=q.count()), {"complaints_n": 0})
        avail.append("complaints")
    sv = tables.get("surveys")
    if sv is not None and wants("csat"):
        attach(_first_score(a, sv, "csat"), {"csat": None})
        avail.append("csat")
    if sv is not None and wants("nps"):
        if "nps" in sv.columns:
            attach(_first_score(a, sv, "nps"), {"nps": None})
            avail.append("nps")
        else:
            notes.append("surveys.nps absent: skipped nps")
    out = _attach(a, parts, flags)
    if "closed_at" in a.columns:
        horizon = out.assigned_at + _days(w.retention_days)
        end = ibis.ifelse(horizon < obs, horizon, obs)
        event = out.closed_at.notnull() & (out.closed_at <= end)
        t_end = ibis.ifelse(event, out.closed_at, end)
        # Whole seconds: DuckDB's epoch keeps fractions, Spark's does not; floor both alike.
        secs = t_end.epoch_seconds().floor() - out.assigned_at.epoch_seconds().floor()
        out = out.mutate(
            retained=_int(out.closed_at.isnull() | (out.closed_at > horizon)),
            ret_event=_int(event),
            ret_days=ibis.ifelse(secs > 0, secs, 0).cast("float64") / 86400.0,
        )
        avail.append("retention")
    else:
        notes.append("accounts.closed_at absent: skipped retention")
    return out, avail, notes


#: Outcomes per (tables, windows, observed_until, metrics) of each connection, behind a view (:func:`outcomes`).
_OUTCOMES = "_workbench_outcomes"


def _kept(con: Any, t: Any) -> Any:
    """The outcomes as the connection keeps them: a DuckDB view (:func:`workbench.contract.compiled.view`);
    on Spark a cached table, computed by the first query that reads it and read by the others.

    Spark plans a pilot's outcomes as some forty stages (each event table joined to the accounts
    and back, the promise waterfall's windows), about 8 s of a local driver's CPU whatever the
    pilot's size; an analysis then reads them for several statistics (by arm, segment, agent,
    week, the survival table). Cached, they are planned and computed once, and each statistic
    is a GROUP BY over a few thousand rows held by Spark (spilled to its local disk when large).
    """
    if getattr(con, "name", None) == "pyspark":
        return t.cache()
    return view(t, "outcomes")


def _outcomes_and_lists(tables: dict[str, Any], config: PilotConfig, metrics: Sequence[str] | None) -> tuple[Any, tuple]:
    t, avail, notes = account_outcomes(tables, config, metrics)
    return t, (avail, notes)


def outcomes(
    tables: dict[str, Any], config: PilotConfig, metrics: Sequence[str] | None = None
) -> tuple[Any, list[str], list[str]]:
    """:func:`account_outcomes` behind a temporary view of the tables' DuckDB session, made once per
    opened pilot, windows, ``observed_until`` and ``metrics``.

    The statistics of one analysis (plain, by agent, by segment, the survival
    table, ...) all read the same per-account outcomes: built and compiled
    once, each query then compiles only its own GROUP BY. The view is
    expanded into every query that reads it (nothing is stored), so every
    sum is taken over the same rows in the same order as with the
    expression itself. A small pilot's outcomes (a connection of
    ``workbench.contract.engine``'s one-thread size, which marks it) are
    stored once in a temporary table instead, computed in that same order.
    On Spark the outcomes are cached instead (:func:`_kept`).
    The outcomes are kept on the connection, which they do not outlive;
    tables of other engines, or in memory, get the expression.
    """
    wanted = None if metrics is None else tuple(metrics)
    key = (tuple((n, t.op()) for n, t in sorted(tables.items())), config.windows, config.observed_until, wanted)
    try:
        con = tables["accounts"].get_backend()
        cache = con.__dict__.setdefault(_OUTCOMES, {})
    except Exception:  # unbound tables (tests compiling SQL): nothing to keep them on
        return account_outcomes(tables, config, metrics)
    key += (input_state(con),)  # stored outcomes are a snapshot: a file rewritten since is read again
    if key not in cache:
        # On DuckDB built once per shape of the tables (compiled.planned) and put behind the view as SQL.
        found = planned(tables, (config.plan_key(), wanted), lambda ts: _outcomes_and_lists(ts, config, metrics))
        if found is not None:
            query, (avail, notes) = found
            # A small pilot's outcomes are stored once: each statistic is then a GROUP BY over a few
            # thousand rows, where a view had DuckDB plan the whole join again for every query
            # (half of an analysis's DuckDB time on a 600-account pilot, measured).
            cache[key] = (query.view("outcomes", stored=getattr(con, SMALL_INPUT, False)), avail, notes)
        else:
            t, avail, notes = account_outcomes(tables, config, metrics)
            cache[key] = (_kept(con, t), avail, notes)
    t, avail, notes = cache[key]
    return t, list(avail), list(notes)
