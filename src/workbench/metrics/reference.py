"""Plain-pandas reference implementation of the metric catalogue.

This is the slow, obvious version of every metric in DESIGN.md, written to be
read: the warehouse metrics (ibis) are tested against it, and the simulator
uses it to state the planted effects in ``truth.json``. It reads the tables of
data contract v1 as frames with tz-aware UTC timestamps.

Conventions (every metric):

* An account is **eligible** when everything the metric looks at lies before
  ``observed_until``: ``assigned_at + days <= observed_until`` where ``days``
  is ``outcome_days`` (most metrics), ``outcome_days + max_due_days +
  grace_days`` (kept_ptp, kept_rate) or ``retention_days`` (retention).
  Eligibility depends on assignment time only. ``excluded`` counts the
  assigned accounts of the arm that are not eligible.
* The **outcome window** of an account is ``[assigned_at, assigned_at +
  outcome_days)``: an event at ``t`` counts when ``assigned_at <= t <
  assigned_at + outcome_days``.
* ``n`` counts the units the mean is taken over: eligible accounts, except
  responders for csat and nps and reached contacts (with a handle time) for
  handle_time. ``accounts`` is the number of eligible accounts.

**Keeping a promise** (kept_ptp, kept_rate). Only promises made in the
outcome window take part. A promise's deadline is ``min(due_at, made_at +
max_due_days) + grace_days``; a payment can serve it when ``made_at <=
paid_at <= deadline``. Money is allocated as the collections waterfall: the
account's payments are taken in ``paid_at`` order (ties: ``payment_id``) and
each payment's money goes to the open promises it can serve in ``due_at``
order (ties: ``made_at``, then ``promise_id``), each getting at most what it
still needs; what is left of a payment goes to the next one, and money no
promise can take is unallocated. Each payment therefore counts once. A
promise is kept when it received its amount (to the cent: a shortfall of at
most 0.005 is ignored). This is the same rule as ``KEPT_ALGORITHM`` in
``workbench.metrics.accounts``, written as a literal loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.contract.config import METRICS, PilotConfig

CENT = 0.005  # money is compared to the cent
COLUMNS = ["arm", "metric", "n", "mean", "excluded", "accounts"]


def isin(s: pd.Series, values) -> pd.Series:
    """``s.isin(values)`` through Arrow's hash kernel.

    pandas' ``isin`` on Arrow-backed strings turns ``values`` into a Python
    list first (6 of the 20 s the simulator spent on its 200,000-account truth).
    """
    vals = pd.Series(list(values) if isinstance(values, set) else values)
    try:
        hit = pc.is_in(pa.array(s.array), value_set=pa.array(vals.array))
    except (pa.ArrowException, TypeError, ValueError):
        return s.isin(vals)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index).fillna(False).astype(bool)


def _days(d: int) -> pd.Timedelta:
    return pd.Timedelta(days=d)


def eligible_accounts(config: PilotConfig, accounts: pd.DataFrame, days: int) -> pd.DataFrame:
    """Accounts whose ``assigned_at + days`` is not after ``observed_until``."""
    cut = pd.Timestamp(config.observed_until)
    return accounts[accounts["assigned_at"] + _days(days) <= cut]


def in_window(events: pd.DataFrame, time_col: str, accounts: pd.DataFrame, days: int) -> pd.DataFrame:
    """Events of the given accounts with ``assigned_at <= time < assigned_at + days``.

    The result carries the account's ``arm`` and ``assigned_at``.
    """
    df = events.merge(accounts[["account_id", "arm", "assigned_at"]], on="account_id", how="inner")
    t = df[time_col]
    return df[(t >= df["assigned_at"]) & (t < df["assigned_at"] + _days(days))]


def kept_promises(config: PilotConfig, promises: pd.DataFrame, payments: pd.DataFrame) -> pd.Series:
    """Whether each promise is kept (index: the promises' index), by the rule in the module docstring.

    ``promises`` should hold only the promises that take part (those made in
    the outcome window); every payment of their accounts may serve them.
    """
    w = config.windows
    p = promises[["promise_id", "account_id", "made_at", "due_at", "amount"]].copy()
    p["prow"] = promises.index
    p["deadline"] = np.minimum(p["due_at"], p["made_at"] + _days(w.max_due_days)) + _days(w.grace_days)
    pay = payments[["payment_id", "account_id", "paid_at", "amount"]].rename(columns={"amount": "paid"})
    pairs = p.merge(pay, on="account_id", how="inner")
    pairs = pairs[(pairs["paid_at"] >= pairs["made_at"]) & (pairs["paid_at"] <= pairs["deadline"])]
    kept = pd.Series(False, index=promises.index)
    if pairs.empty:
        return kept
    # Fast path: when no payment could serve two promises, the waterfall reduces to
    # "the payments in the promise's window total at least its amount".
    shared = pairs.groupby("payment_id")["promise_id"].transform("size") > 1
    hard = set(pairs.loc[shared, "account_id"])
    easy = pairs[~isin(pairs["account_id"], hard)]
    total = easy.groupby("prow").agg(paid=("paid", "sum"), amount=("amount", "first"))
    kept[total.index[total["paid"] >= total["amount"] - CENT]] = True
    # Literal waterfall for the (rare) accounts whose promise windows overlap.
    for _, grp in pairs[isin(pairs["account_id"], hard)].groupby("account_id", sort=False):
        order = grp.drop_duplicates("prow").sort_values(["due_at", "made_at", "promise_id"])
        need = dict(zip(order["prow"], order["amount"]))
        rank = {r: i for i, r in enumerate(order["prow"])}
        for _, pay_rows in grp.sort_values(["paid_at", "payment_id"]).groupby("payment_id", sort=False):
            money = float(pay_rows["paid"].iloc[0])
            for r in sorted(pay_rows["prow"], key=rank.__getitem__):
                give = min(money, need[r])
                need[r] -= give
                money -= give
        for r, left in need.items():
            kept[r] = left <= CENT
    return kept


def _first_answer(surveys: pd.DataFrame, col: str) -> pd.DataFrame:
    """Each account's first in-window answer carrying ``col`` (ties: lowest score)."""
    s = surveys[surveys[col].notna()].sort_values(["account_id", "answered_at", col])
    return s.drop_duplicates("account_id", keep="first")


def _rows(metric: str, elig: pd.DataFrame, everyone: pd.DataFrame, arms: list[str], num, den=None) -> list[dict]:
    """One row per arm; ``num``/``den`` are Series indexed by arm (den default: eligible accounts)."""
    counts = elig["arm"].value_counts()
    assigned = everyone["arm"].value_counts()
    rows = []
    for arm in arms:
        accounts = int(counts.get(arm, 0))
        d = float(den.get(arm, 0)) if den is not None else accounts
        n = d if metric in ("csat", "nps", "handle_time") else accounts
        x = float(num.get(arm, 0.0))
        rows.append(
            {
                "arm": arm,
                "metric": metric,
                "n": int(n),
                "mean": x / d if d > 0 else np.nan,
                "excluded": int(assigned.get(arm, 0)) - accounts,
                "accounts": accounts,
            }
        )
    return rows


def reference_metrics(config: PilotConfig, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every catalogue metric per arm, the plain way.

    Parameters
    ----------
    config : the pilot's configuration (arms, windows, observed_until).
    tables : contract tables; a missing optional table skips its metrics.

    Returns
    -------
    DataFrame with one row per arm x metric and columns ``arm``, ``metric``,
    ``n`` (units of the mean), ``mean`` (in the metric's unit: a share for
    binary metrics, complaints per account, mean score for csat,
    promoters minus detractors as a share (-1..1) for nps, ratio of totals
    for recovery and kept_rate, seconds for handle_time), ``excluded``
    (assigned accounts not yet eligible) and ``accounts`` (eligible accounts).
    """
    w = config.windows
    acc = tables["accounts"]
    arms = config.arm_labels
    od = w.outcome_days
    elig = eligible_accounts(config, acc, od)
    rows: list[dict] = []

    contacts = tables.get("contacts")
    if contacts is not None:
        c = in_window(contacts, "at", elig, od)
        # engagement: any inbound contact, or an outbound one with reached true.
        hit = c[(c["direction"] == "inbound") | (c["reached"] == True)]  # noqa: E712 - nullable booleans: NA must count as not reached
        rows += _rows("engagement", elig, acc, arms, hit.drop_duplicates("account_id")["arm"].value_counts())
        # contact_intensity: outbound attempts per account.
        rows += _rows("contact_intensity", elig, acc, arms, c[c["direction"] == "outbound"]["arm"].value_counts())
        # handle_time: mean handle seconds over reached contacts that carry one.
        if "handle_seconds" in c:
            r = c[(c["reached"] == True) & c["handle_seconds"].notna()]  # noqa: E712 - nullable booleans: NA is not reached
            rows += _rows("handle_time", elig, acc, arms, r.groupby("arm")["handle_seconds"].sum(), r["arm"].value_counts())

    promises, payments = tables.get("promises"), tables.get("payments")
    if promises is not None:
        p = in_window(promises, "made_at", elig, od)
        rows += _rows("ptp", elig, acc, arms, p.drop_duplicates("account_id")["arm"].value_counts())
        if payments is not None:
            # kept_ptp / kept_rate: the promise may run max_due_days + grace_days past the window.
            ek = eligible_accounts(config, acc, od + w.max_due_days + w.grace_days)
            pk = in_window(promises, "made_at", ek, od)
            pk = pk.assign(kept=kept_promises(config, pk, payments[isin(payments["account_id"], ek["account_id"])]))
            kept_acc = pk[pk["kept"]].drop_duplicates("account_id")["arm"].value_counts()
            rows += _rows("kept_ptp", ek, acc, arms, kept_acc)
            rows += _rows("kept_rate", ek, acc, arms, pk.groupby("arm")["kept"].sum(), pk["arm"].value_counts())

    if payments is not None:
        # recovery: money paid in the window / balance at assignment, ratio of totals.
        y = in_window(payments, "paid_at", elig, od).groupby("arm")["amount"].sum()
        rows += _rows("recovery", elig, acc, arms, y, elig.groupby("arm")["balance"].sum())

    complaints = tables.get("complaints")
    if complaints is not None:
        rows += _rows("complaints", elig, acc, arms, in_window(complaints, "filed_at", elig, od)["arm"].value_counts())

    surveys = tables.get("surveys")
    if surveys is not None:
        s = in_window(surveys, "answered_at", elig, od)
        first = _first_answer(s, "csat")
        rows += _rows("csat", elig, acc, arms, first.groupby("arm")["csat"].sum(), first["arm"].value_counts())
        if "nps" in s:
            first = _first_answer(s, "nps")
            score = np.where(first["nps"] >= 9, 1, np.where(first["nps"] <= 6, -1, 0))
            net = pd.Series(score, index=first.index).groupby(first["arm"]).sum()
            rows += _rows("nps", elig, acc, arms, net, first["arm"].value_counts())

    if "closed_at" in acc:
        # retention: still a customer retention_days after assignment (closed_at null or later).
        er = eligible_accounts(config, acc, w.retention_days)
        end = er["assigned_at"] + _days(w.retention_days)
        stay = er[er["closed_at"].isna() | (er["closed_at"] > end)]
        rows += _rows("retention", er, acc, arms, stay["arm"].value_counts())

    out = pd.DataFrame(rows, columns=COLUMNS)
    # Catalogue order, control first: a stable layout for tests and diffs.
    out["_m"] = out["metric"].map({m: i for i, m in enumerate(METRICS)})
    out["_a"] = out["arm"].map({a: i for i, a in enumerate(arms)})
    return out.sort_values(["_m", "_a"]).drop(columns=["_m", "_a"]).reset_index(drop=True)
