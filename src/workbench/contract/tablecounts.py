"""One table's casts and the counts of its own rules, in one query, built once per shape of table.

Validation counts everything a table breaks on its own in one aggregate query
over its casts (:func:`workbench.contract.casts.cast_table`). On a small pilot
building those expressions is most of the work: ibis checks every node it makes
(a few thousand for a pilot's five tables), which took about 40 % of a
600-account pilot's validation under cProfile, more than DuckDB's own work.
Pilots whose table has the same columns and types as read, under the same
pilot.yml, on the same engine, get the same expressions but for the name of
the table they read. So on DuckDB they are built once per *shape*::

    shape = (table, schema as read, pilot.yml, engine)

on a stand-in table, and compiled there; each pilot then runs that SQL with
the stand-in's quoted name replaced by its own table's (the name is printed
exactly once, checked when the plan is made; else the table is counted the
direct way). The counts come back converted to the aggregate's ibis schema,
as ibis' own fetch converts them, so the row is the one the direct way gives
(a test compares the two on valid and broken tables).

Other engines (Spark, PostgreSQL, any ibis URL) take the direct way: their
queries cost far more than building them.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ibis.expr.operations as ops
from ibis.backends.duckdb.converter import DuckDBPyArrowData

from workbench.contract.casts import Cast, cast_table
from workbench.contract.compiled import Query, Statement, quoted
from workbench.contract.mapping import Mapping
from workbench.contract.rules import VALUE_RULES, as_view, broken, count, one, own_aggs
from workbench.contract.source import MAX_CELL_CHARS, first_line
from workbench.contract.tables import TABLES
from workbench.errors import PilotError, Problem

#: Plans kept (the least recently used go first); a plan holds SQL text, schemas and column names.
PLANS_MAX = 256

_PLANS: OrderedDict[tuple, Plan | None] = OrderedDict()
_RAW, _VIEW = "__wb_raw__", "__wb_view__"


@dataclass(frozen=True)
class Plan:
    """What one shape of table needs on every pilot: the casts' SQL and the counts' SQL, with their types."""

    casts: dict[str, Cast]  # column names only: the same on every pilot of the shape
    cast_sql: str  # the cast table, reading the stand-in table ``_RAW``
    schema: Any  # the cast table's ibis schema (its view is typed by it, as compiled.view types it)
    counts_sql: str  # the one aggregate, reading the stand-in view ``_VIEW``
    counts_schema: Any


def texts_of(raw: Any) -> list[str]:
    """The columns read as text (as the export names them): the ones whose cells may exceed the contract's length."""
    return [str(c) for c in raw.columns if raw[c].type().is_string()]


def aggregates(name: str, raw: Any, t: Any, casts: dict[str, Cast], mapping: Mapping, cfg: Any) -> dict[str, Any]:
    """Every count of table ``name``'s own rules on ``t``, its cast of ``raw``, named for the row it comes back in.

    ``_rows``; ``long<i>`` cells of ``texts_of(raw)[i]`` beyond :data:`MAX_CELL_CHARS`; ``f_<col>_<j>``
    values of ``col`` breaking its ``j``-th cast; ``null_<col>`` absent required values; ``v_<col>_<j>``
    values breaking the ``j``-th value rule; and :func:`workbench.contract.rules.own_aggs`.
    """
    spec = TABLES[name]
    texts = texts_of(raw)
    ren = mapping.renames(name, [str(c) for c in raw.columns])
    aggs: dict[str, Any] = {"_rows": t.count()}
    for i, c in enumerate(texts):  # on the renamed table: one query reads every count
        aggs[f"long{i}"] = count((t[ren.get(c, c)].length() > MAX_CELL_CHARS).fill_null(False))
    for col, c in casts.items():
        for j, (_, mask) in enumerate(c.failures):
            aggs[f"f_{col}_{j}"] = count(t[mask])
        if not spec.columns[col].nullable:
            aggs[f"null_{col}"] = count(~t[c.present])
        for j, (_, op, arg) in enumerate(VALUE_RULES.get(name, {}).get(col, [])):
            aggs[f"v_{col}_{j}"] = count(broken(t[c.typed], op, arg))
    return aggs | own_aggs(name, t, casts, cfg)


def count_table(name: str, raw: Any, mapping: Mapping, cfg: Any, file: str) -> tuple[Any, dict[str, Cast], dict]:
    """Table ``name`` cast and counted: ``(cast table behind a view, casts, the counts' row)``.

    Raises
    ------
    PilotError : the engine cannot read the table (``unreadable file <file>``); it reads lazily,
        so a broken row of a file surfaces here, not when the file was opened.
    """
    plan = _plan(name, raw, mapping, cfg)
    if plan is None:
        t, casts = cast_table(name, raw, mapping)
        t = as_view(t, name)
        counts = t.aggregate(**aggregates(name, raw, t, casts, mapping, cfg))
        with _unreadable(name, file):
            return t, casts, one(counts)
    con = raw.get_backend()
    cast_sql = plan.cast_sql.replace(quoted(con, _RAW), quoted(con, raw.op().name))
    with _unreadable(name, file):  # DuckDB binds the view to the file now: a file broken since it was opened fails here
        t = Query(con, cast_sql, plan.schema).view(f"cast_{name}")
        counts = Statement(con.con, plan.counts_sql.replace(quoted(con, _VIEW), quoted(con, t.op().name))).to_arrow_table()
    return t, plan.casts, DuckDBPyArrowData.convert_table(counts, plan.counts_schema).to_pylist()[0]


@contextlib.contextmanager
def _unreadable(name: str, file: str) -> Iterator[None]:
    """What the engine raises reading a table, as the one problem of that table."""
    try:
        yield
    except Exception as exc:  # each engine raises its own types for a file it cannot read
        raise PilotError([Problem(name, "", f"unreadable file {file}: {first_line(exc)}")]) from None


def _plan(name: str, raw: Any, mapping: Mapping, cfg: Any) -> Plan | None:
    """The plan of ``raw``'s shape (made on first sight), or None for a table counted the direct way."""
    op = raw.op()
    if not isinstance(op, ops.DatabaseTable) or op.namespace != ops.Namespace():
        return None
    try:
        con = raw.get_backend()
    except Exception:  # an unbound table
        return None
    if con.name != "duckdb":
        return None
    key = (con.name, name, op.schema, repr(mapping), cfg.plan_key())
    if key in _PLANS:
        _PLANS.move_to_end(key)
        return _PLANS[key]
    plan = _make_plan(con, name, op.schema, mapping, cfg)
    _PLANS[key] = plan
    while len(_PLANS) > PLANS_MAX:
        _PLANS.popitem(last=False)
    return plan


def _make_plan(con: Any, name: str, schema: Any, mapping: Mapping, cfg: Any) -> Plan | None:
    """Cast and count a stand-in table of ``schema`` and compile both; None when a stand-in's name is
    not printed exactly once in its SQL (then the direct way)."""
    stand_in = ops.UnboundTable(name=_RAW, schema=schema).to_expr()
    cast, casts = cast_table(name, stand_in, mapping, backend=con.name)
    cast_sql = con.compile(cast)
    view = ops.UnboundTable(name=_VIEW, schema=cast.schema()).to_expr()
    counts = view.aggregate(**aggregates(name, stand_in, view, casts, mapping, cfg))
    counts_sql = con.compile(counts)
    if cast_sql.count(quoted(con, _RAW)) != 1 or counts_sql.count(quoted(con, _VIEW)) != 1:
        return None
    return Plan(casts, cast_sql, cast.schema(), counts_sql, counts.schema())
