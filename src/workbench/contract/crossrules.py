"""The cross-table rules on the engine: one arm per account (and per agent under agent
randomization), arms against pilot.yml both ways, ``due_at >= made_at``, every ``account_id`` in
accounts, event times inside the account's observed window, surveys with an answer.

Counts come from each table's aggregate row (:func:`workbench.contract.rules.own_aggs`) and one
left join per event table; the joins that find examples run only for the lines printed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.contract.rules import KEYS, ROWS, Checked, column, count, observed, one, own_masks
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
        if row["account_id_n"] != row["account_id_arm_n"]:
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
        for name, table in tables.items():
            if name != "accounts" and "account_id" in table.casts:
                e, w = _account_rules(table, accounts, observed(cfg))
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


def _account_rules(table: Checked, accounts: Checked, obs: Any) -> tuple[list[Problem], list[Problem]]:
    """An event table against accounts, in one query: ids that exist, times inside the account's window.

    The account's start is its earliest ``assigned_at`` (an account listed twice is an error of its own).
    """
    errors: list[Problem] = []
    warnings: list[Problem] = []
    name, t = table.name, table.typed
    tcol = TABLES[name].time
    timed = tcol in table.casts and "assigned_at" in accounts.casts
    acc = accounts.typed
    known = acc.filter(acc.account_id.notnull())
    first = {"_start": known.assigned_at.min()} if timed else {"_n": known.count()}
    start = known.group_by("account_id").aggregate(**first)
    j = t.left_join(start.rename(_id="account_id"), t.account_id == start.account_id)
    orphan = (j.account_id.notnull() & j._id.isnull()).fill_null(False)
    aggs = {"orphan": count(orphan)}
    if timed:
        aggs["before"] = count((j[tcol] < j._start).fill_null(False))
        aggs["after"] = count((j[tcol] > obs).fill_null(False))
    row = one(j.aggregate(**aggs))
    if n := row["orphan"]:
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
