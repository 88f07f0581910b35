"""The contract's rules on the engine: value rules as data, the masks of the rules that read one table,
and the small queries every rule shares (counts, one aggregate row, the first example values).

Validation (:mod:`workbench.contract.validate`) counts these per table in one
aggregate query and fetches examples only for the lines it prints.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from workbench.contract.casts import Cast
from workbench.contract.compiled import view
from workbench.contract.eligibility import NEEDS, eligibility_aggs, utc_naive
from workbench.contract.mapping import ENUMS
from workbench.contract.source import EXAMPLES, examples
from workbench.contract.tables import CHANNELS, COMPLAINT_KINDS, DIRECTIONS, TABLES

# Value rules per column: (the rule as the user reads it, operator, bound(s)); nulls pass.
VALUE_RULES: dict[str, dict[str, list[tuple[str, str, Any]]]] = {
    "accounts": {
        "balance": [(">= 0", "ge", 0)],
        "days_past_due": [(">= 0", "ge", 0)],
        "prior_paid": [(">= 0", "ge", 0)],
    },
    "contacts": {
        "channel": [("one of " + ", ".join(CHANNELS), "isin", CHANNELS)],
        "direction": [("one of " + ", ".join(DIRECTIONS), "isin", DIRECTIONS)],
        "handle_seconds": [(">= 0", "ge", 0)],
        "empathy_score": [("between 0 and 100", "between", (0, 100))],
    },
    "promises": {"amount": [("> 0", "gt", 0)]},
    "payments": {"amount": [("> 0", "gt", 0)]},
    "complaints": {"kind": [("one of " + ", ".join(COMPLAINT_KINDS), "isin", COMPLAINT_KINDS)]},
    "surveys": {
        "csat": [("an integer 1-5", "between", (1, 5))],
        "nps": [("an integer 0-10", "between", (0, 10))],
    },
}

ROWS = 2000  # rows read to find the first distinct example values of one line
KEYS = 1000  # offending keys read back when a rule needs a join to find its rows
HINT_ROWS = 5000  # unparsed timestamps read to tell day-first from month-first


def broken(col: Any, op: str, arg: Any) -> Any:
    """The rows of a typed column that break one value rule (nulls never do)."""
    ok = {
        "ge": lambda: col >= arg,
        "gt": lambda: col > arg,
        "between": lambda: col.between(*arg),
        "isin": lambda: col.isin(list(arg)),
    }[op]()
    return (col.notnull() & ~ok).fill_null(False)


def fix(name: str, col: str, rule: str) -> str:
    """The rule, and for an enumeration how to map the export's own words onto it."""
    if (name, col) in ENUMS and rule.startswith("one of"):
        return f"{rule} (any case); map others in pilot.yml values: {name}.{col}"
    return rule


def count(mask: Any) -> Any:
    """Rows where ``mask`` holds (a mask that is a constant, such as "never" for typed numbers, counts none)."""
    if isinstance(mask, ibis.expr.types.Scalar):
        return ibis.literal(0)
    return ibis.ifelse(mask, 1, 0).sum()


def one(t: Any) -> dict:
    """The one row of an aggregate query, as a dict."""
    return t.to_pyarrow().to_pylist()[0]


def column(t: Any, limit: int = ROWS) -> pd.Series:
    """The first ``limit`` values of a one-column table, in scan order, as a pandas Series."""
    return t.limit(limit).to_pyarrow().to_pandas().iloc[:, 0]


def as_view(t: Any, name: str) -> Any:
    """The same table behind a temporary view of the engine's session: the casts are compiled once,
    not again in every query that reads them (ibis compiles an expression of a few hundred nodes in
    about 0.1 s, and validation sends a dozen queries per table). Nothing is written to the source.
    On DuckDB the view keeps the types ibis gives its columns (:func:`workbench.contract.compiled.view`:
    no query asks the engine for them)."""
    try:
        con = t.get_backend()
        if con.name == "duckdb":
            return view(t, f"cast_{name}")
        view_name = f"wb_cast_{name}_{next(_VIEWS)}"
        result = con.raw_sql(f"CREATE OR REPLACE TEMPORARY VIEW {view_name} AS {con.compile(t)}")
        if hasattr(result, "close"):
            result.close()  # a DB-API cursor (PostgreSQL)
        return con.table(view_name)
    except Exception:  # a backend without temporary views: the expression itself still runs
        return t


_VIEWS = itertools.count()


@dataclass
class Checked:
    """One table on the engine: as read, renamed, its casts and its typed columns."""

    name: str
    raw: Any
    t: Any
    casts: dict[str, Cast]
    typed: Any
    rows: int = 0
    row: dict = field(default_factory=dict)  # the table's one aggregate query: every count of its own rules

    def label(self) -> str | None:
        """The column that names a row: the table's key, else account_id, else none (row numbers)."""
        spec = TABLES[self.name]
        return next((c for c in (spec.key, "account_id") if c and c in self.casts), None)

    def labels(self, mask: Any) -> tuple[str, ...]:
        """Example labels (ids, or ``row N``) of the first rows in ``mask``, a mask on :attr:`typed`."""
        col = self.label()
        if col is not None:
            return examples(column(self.typed.filter(mask).select(col)))
        return row_numbers(self.typed, mask)


def row_numbers(t: Any, mask: Any) -> tuple[str, ...]:
    """``row N`` (1-based, in scan order) of the first rows in ``mask``; none if the engine cannot number rows."""
    try:
        n = column(t.mutate(_row=ibis.row_number(), _hit=mask).filter(lambda x: x._hit).select("_row"), EXAMPLES)
    except Exception:  # Spark numbers rows only over an ordering; the count is still right
        return ()
    return tuple(f"row {int(i) + 1}" for i in n)


def own_masks(name: str, col: Any, has: set[str], cfg: Any) -> dict[str, Any]:
    """The rules that read one table alone, beyond its columns' own: masks named for the query.

    ``col(c)`` is the typed column ``c`` (in the table being counted, or in its typed
    view when examples are fetched): one definition serves both.
    """
    masks: dict[str, Any] = {}
    if name == "accounts":
        if "arm" in has:
            masks["undeclared"] = col("arm").notnull() & ~col("arm").isin(list(cfg.arm_labels))
            for i, arm in enumerate(cfg.arm_labels):
                masks[f"arm{i}"] = col("arm") == arm
        if {"closed_at", "assigned_at"} <= has:
            masks["closed"] = col("closed_at").notnull() & (col("closed_at") < col("assigned_at"))
        if "assigned_at" in has:
            masks["late"] = col("assigned_at") > observed(cfg)
        if cfg.segments is not None and "segment" in has:
            masks["segment"] = col("segment").notnull() & ~col("segment").isin(list(cfg.segments))
    if name == "promises" and {"made_at", "due_at"} <= has:
        masks["due"] = col("due_at") < col("made_at")
    if name == "surveys" and "csat" in has:
        masks["empty"] = col("csat").isnull() & (col("nps").isnull() if "nps" in has else True)
    return {k: m.fill_null(False) for k, m in masks.items()}


def observed(cfg: Any) -> Any:
    return ibis.literal(utc_naive(cfg.observed_until).to_pydatetime())


def own_aggs(name: str, t: Any, casts: dict[str, Cast], cfg: Any) -> dict[str, Any]:
    """Counts of :func:`own_masks`, the distinct counts that show whether a key repeats or an agent
    has two arms (the join that finds them runs only when they say so), and for accounts the
    eligibility counts of every metric's horizon (:func:`workbench.contract.eligibility.eligibility_aggs`).

    Whether an account has two arms needs no count of its own: an account listed once has one
    arm, so only a repeated ``account_id`` (``keys != distinct_keys``) can have two; the cross rules
    then count them exactly. Agents are counted only under agent randomization, the one rule
    that reads them.
    """

    def col(c: str) -> Any:
        return t[casts[c].typed]

    has = set(casts)
    aggs = {k: count(m) for k, m in own_masks(name, col, has, cfg).items()}
    key = TABLES[name].key
    if key in has:
        aggs["keys"] = count(col(key).notnull())
        aggs["distinct_keys"] = col(key).nunique()
    if name == "accounts":
        if cfg.randomization == "agent" and {"agent_id", "arm"} <= has:
            both = col("agent_id").notnull() & col("arm").notnull()
            aggs["agent_id_n"] = ibis.ifelse(both, col("agent_id"), ibis.null("string")).nunique()
            aggs["agent_id_arm_n"] = ibis.ifelse(both, col("agent_id") + "\x1f" + col("arm"), ibis.null("string")).nunique()
        if {"account_id", "arm", "assigned_at"} <= has:
            aggs |= eligibility_aggs(col, cfg, list(NEEDS))
        if "assigned_at" in has:
            aggs["first"] = col("assigned_at").min()
            aggs["last"] = col("assigned_at").max()
        if "agent_id" in has:
            aggs["agents"] = col("agent_id").nunique()
    return aggs
