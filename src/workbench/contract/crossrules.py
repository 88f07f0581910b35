"""The cross-table rules on the engine: one arm per account (and per agent under agent
randomization), arms against pilot.yml both ways, ``due_at >= made_at``, every ``account_id`` in
accounts, event times inside the account's observed window, surveys with an answer.

Counts come from each table's aggregate row (:func:`workbench.contract.rules.own_aggs`) and one
left join of every event table, stacked, to the accounts; the joins that find examples run only
for the lines printed.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from workbench.contract.rules import KEYS, ROWS, Checked, column, count, observed, own_masks
from workbench.contract.source import EXAMPLES, Problem, examples
from workbench.contract.tables import TABLES


def cross_problems(tables: dict[str, Checked], cfg: Any) -> tuple[list[Problem], list[Problem]]:
    errors: list[Problem] = []
    warnings: list[Problem] = []
    accounts = tables.get("accounts")
    if accounts is None:
        return errors, warnings
    if accounts.rows == 0:
        errors.append(Problem("accounts", "", "at least one account (the table is empty)"))
        return errors, warnings
    acc, cols, row = accounts.typed, set(accounts.casts), accounts.row
    masks = own_masks("accounts", lambda c: acc[c], cols, cfg)
    if {"account_id", "arm"} <= cols:
        if row["keys"] != row["distinct_keys"]:  # only a repeated account can have two arms (rules.own_aggs)
            errors += _two_arms(accounts, "account_id", "an account in one arm only")
        if n := row["undeclared"]:
            labels = ", ".join(map(repr, pd.unique(column(acc.filter(masks["undeclared"]).select("arm"), 10 * ROWS))[:5]))
            errors.append(
                Problem(
                    "accounts",
                    "arm",
                    f"declared in pilot.yml arms (found {labels})",
                    int(n),
                    accounts.labels(masks["undeclared"]),
                )
            )
        for i, arm in enumerate(cfg.arm_labels):
            if not row[f"arm{i}"]:
                errors.append(Problem("accounts", "arm", f"declared arm {arm!r} has accounts (it has none)"))
    if cfg.randomization == "agent":
        if "agent_id" not in cols:
            errors.append(Problem("accounts", "agent_id", "required when randomization is agent"))
        elif "arm" in cols and row["agent_id_n"] != row["agent_id_arm_n"]:
            errors += _two_arms(accounts, "agent_id", "an agent in one arm only (randomization is agent)")
    if n := row.get("closed"):
        errors.append(Problem("accounts", "closed_at", "closed_at >= assigned_at", int(n), accounts.labels(masks["closed"])))
    if n := row.get("late"):
        rule = "assigned after observed_until (no observed time; excluded)"
        warnings.append(Problem("accounts", "assigned_at", rule, int(n), accounts.labels(masks["late"]), "warning"))
    if n := row.get("segment"):
        shown = examples(column(acc.filter(masks["segment"]).select("segment")))
        warnings.append(Problem("accounts", "segment", "a segment listed in pilot.yml segments", int(n), shown, "warning"))
    p = tables.get("promises")
    if p is not None and (n := p.row.get("due")):
        late = own_masks("promises", lambda c: p.typed[c], set(p.casts), cfg)["due"]
        errors.append(Problem("promises", "due_at", "due_at >= made_at", int(n), p.labels(late)))
    if "account_id" in cols:
        events = [t for n, t in tables.items() if n != "accounts" and "account_id" in t.casts]
        rows = _account_counts(events, accounts, observed(cfg))
        for table in events:
            e, w = _account_rules(table, accounts, observed(cfg), rows[table.name])
            errors, warnings = errors + e, warnings + w
    s = tables.get("surveys")
    if s is not None and (n := s.row.get("empty")):
        empty = own_masks("surveys", lambda c: s.typed[c], set(s.casts), cfg)["empty"]
        rule = "a csat or nps answer (row has neither; ignored)"
        warnings.append(Problem("surveys", "csat", rule, int(n), s.labels(empty), "warning"))
    return errors, warnings


def _two_arms(accounts: Checked, by: str, rule: str) -> list[Problem]:
    """Rows whose account (or agent) appears in two arms or more."""
    acc = accounts.typed
    pairs = acc.filter(acc[by].notnull() & acc.arm.notnull())
    multi = pairs.group_by(by).aggregate(k=pairs.arm.nunique()).filter(lambda x: x.k > 1)
    n = acc.filter(acc[by].isin(multi[by])).count().to_pyarrow().as_py()
    if not n:
        return []
    if by == "agent_id":  # the agents, sorted
        shown = examples(column(multi.select(by).order_by(by), EXAMPLES))
    else:
        some = column(multi.select(by), KEYS).tolist()
        shown = examples(column(acc.filter(acc[by].isin(some)).select(by)))
    return [Problem("accounts", "arm" if by == "account_id" else by, rule, int(n), shown)]


def _starts(accounts: Checked) -> Any:
    """One row per known account id: its earliest ``assigned_at`` (``_start``; null without the column).

    An account listed twice is an error of its own; its earliest assignment opens its window.
    When every id is listed once (the accounts' own counts say so) no grouping is needed.
    """
    acc = accounts.typed
    known = acc.filter(acc.account_id.notnull())
    timed = "assigned_at" in accounts.casts
    if accounts.row.get("keys") == accounts.row.get("distinct_keys"):  # each id once: its own row is its start
        return known.select("account_id", _start=known.assigned_at if timed else ibis.null("timestamp"))
    return known.group_by("account_id").aggregate(_start=known.assigned_at.min() if timed else ibis.null("timestamp"))


def _timed(table: Checked, accounts: Checked) -> bool:
    return TABLES[table.name].time in table.casts and "assigned_at" in accounts.casts


def _account_counts(events: list[Checked], accounts: Checked, obs: Any) -> dict[str, dict]:
    """For every event table at once, one query: rows whose account is unknown, and rows timed
    before their account's assignment or after ``observed_until``.

    The event tables are stacked (table name, account id, event time) and joined once to the
    accounts' starts: the accounts are grouped once and every event row is read once, however
    many event tables there are (one join per table read the accounts five times).
    """
    if not events:
        return {}
    start = _starts(accounts)
    ts = start.schema()["_start"]
    parts = []
    for table in events:
        t, tcol = table.typed, TABLES[table.name].time
        when = t[tcol].cast(ts) if _timed(table, accounts) else ibis.null(ts)
        parts.append(t.select(_table=ibis.literal(table.name), _acc=t.account_id.cast("string"), _at=when))
    stacked = ibis.union(*parts) if len(parts) > 1 else parts[0]
    keys = start.select(_id=start.account_id.cast("string"), _start=start._start)
    j = stacked.left_join(keys, stacked._acc == keys._id)
    got = (
        j.group_by("_table")
        .aggregate(
            orphan=count((j._acc.notnull() & j._id.isnull()).fill_null(False)),
            before=count((j._at < j._start).fill_null(False)),
            after=count((j._at > obs).fill_null(False)),
        )
        .to_pyarrow()
        .to_pylist()
    )
    rows = {r["_table"]: r for r in got}
    return {t.name: rows.get(t.name, {"orphan": 0, "before": 0, "after": 0}) for t in events}


def _account_rules(table: Checked, accounts: Checked, obs: Any, row: dict) -> tuple[list[Problem], list[Problem]]:
    """An event table against accounts: ids that exist, times inside the account's window.

    ``row`` holds the table's counts (:func:`_account_counts`); the joins that find the
    examples run only for the lines printed.
    """
    errors: list[Problem] = []
    warnings: list[Problem] = []
    name, t = table.name, table.typed
    tcol = TABLES[name].time
    timed = _timed(table, accounts)
    if row["orphan"] or (timed and row["before"]):
        start = _starts(accounts)
        j = t.left_join(start.rename(_id="account_id"), t.account_id == start.account_id)
    if n := row["orphan"]:
        orphan = (j.account_id.notnull() & j._id.isnull()).fill_null(False)
        some = column(j.filter(orphan).select("account_id").distinct(), KEYS).tolist()
        shown = examples(column(t.filter(t.account_id.isin(some)).select("account_id")))
        errors.append(Problem(name, "account_id", "exists in accounts", int(n), shown))
    if not timed:
        return errors, warnings
    if n := row["before"]:
        label = table.label()
        some = column(j.filter((j[tcol] < j._start).fill_null(False)).select(label), KEYS).tolist()
        shown = examples(column(t.filter(t[label].isin(some)).select(label)))
        rule = f"{tcol} before the account's assigned_at (ignored by metrics)"
        warnings.append(Problem(name, tcol, rule, int(n), shown, "warning"))
    if n := row["after"]:
        rule = f"{tcol} after observed_until (ignored by metrics)"
        warnings.append(Problem(name, tcol, rule, int(n), table.labels((t[tcol] > obs).fill_null(False)), "warning"))
    return errors, warnings
