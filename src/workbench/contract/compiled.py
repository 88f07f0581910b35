"""Compiled SQL per shape of expression, shared by every pilot of the process; views of the engine's session.

ibis compiles an expression of a few hundred nodes in 0.05-0.7 s (its rewrites
rebuild the graph several times), which on a small pilot is most of the time a
verb takes: validation sends about twenty queries, the statistics of an
analysis a handful of large ones. Pilots with the same tables' columns, the
same pilot.yml mapping and windows send the same expressions but for the names
of the tables they read (each pilot's views carry a tag of their own), so the
SQL is compiled once per *shape*::

    shape(expr) = expr with each table it reads renamed __wb<i>__ (same schema)
    sql(expr)   = compile(shape(expr)) with "__wb<i>__" replaced by the table's quoted name

The SQL is then the very text ibis would have compiled (the table's name is
only ever printed as that quoted identifier), so every query, and every
result, is unchanged. Only tables without catalog or schema qualifiers are
renamed, and expressions holding in-memory data (``ibis.memtable``) or query
parameters are compiled as before.
"""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import ibis.expr.operations as ops
import pandas as pd
import pyarrow.types as pat
import sqlglot as sg
from ibis.backends.duckdb.converter import DuckDBPandasData
from ibis.common.graph import Graph, Node

#: Compiled shapes kept (the least recently used go first); a shape holds schemas and SQL text only.
CACHE_SIZE = 512

_SQL: OrderedDict[tuple, str] = OrderedDict()


def _placeholder(i: int) -> str:
    return f"__wb{i}__"


def _shape(op: Any) -> tuple[tuple, list[Any]] | None:
    """The expression's nodes in dependency order, each as its type and arguments with children
    by position and the renamed tables by schema only: equal for two expressions exactly when
    renaming their tables makes them equal. Returns it and the renamed tables, in order; None
    for an expression holding in-memory data."""
    index: dict[Any, int] = {}
    leaves: list[Any] = []
    items: list[tuple] = []

    def arg(a: Any) -> Any:
        if isinstance(a, Node):
            return ("#", index[a])
        if isinstance(a, tuple):
            return tuple(arg(x) for x in a)
        if isinstance(a, Mapping):
            return ("{", tuple((k, arg(v)) for k, v in a.items()))
        return a

    for node in Graph.from_bfs(op).toposort()[0]:
        if isinstance(node, ops.InMemoryTable):
            return None
        if isinstance(node, ops.DatabaseTable) and node.namespace == ops.Namespace():
            items.append(("T", node.schema))
            leaves.append(node)
        else:
            items.append((type(node), tuple(arg(a) for a in node.__args__)))
        index[node] = len(index)
    return tuple(items), leaves


def cached_compile(con: Any) -> Any:
    """``con.compile`` with the compiled SQL kept per shape (see the module's docstring)."""
    compile_ = con.compile

    def compile(expr: Any, /, *, limit: Any = None, params: Any = None, pretty: bool = False, **kwargs: Any) -> str:
        op = expr.op()
        found = None if params or pretty or kwargs else _shape(op)
        if found is None:
            return compile_(expr, limit=limit, params=params, pretty=pretty, **kwargs)
        shape, leaves = found
        key = (con.dialect, shape, limit)
        sql = _SQL.get(key)
        if sql is None:
            renamed = op.replace({t: ops.UnboundTable(name=_placeholder(i), schema=t.schema) for i, t in enumerate(leaves)})
            sql = compile_(renamed.to_expr(), limit=limit)
            if any(sql.count(quoted(con, _placeholder(i))) != 1 for i in range(len(leaves))):
                return compile_(expr, limit=limit)  # a name printed other than once: not a shape to share
            _SQL[key] = sql
            while len(_SQL) > CACHE_SIZE:
                _SQL.popitem(last=False)
        else:
            _SQL.move_to_end(key)
        for i, t in enumerate(leaves):
            sql = sql.replace(quoted(con, _placeholder(i)), quoted(con, t.name))
        return sql

    return compile


def quoted(con: Any, name: str) -> str:
    return sg.to_identifier(name, quoted=True).sql(dialect=con.dialect)


class Statement:
    """A compiled query of a DuckDB connection, run as one statement when its rows are fetched.

    DuckDB 2's ``con.sql(text)`` parses, binds and plans the text to learn the names and types
    of its columns, and fetching the relation plans it again; ``con.execute(text)`` plans it
    once. Planning is most of a small pilot's query (a validation aggregate or the statistics'
    wide aggregate: 20-200 ms each, measured), so ibis's fetches (``to_pyarrow``, ``execute``)
    run the text once, with the same rows and types (ibis converts them to the expression's
    schema either way). Measured on a 3M-row result, ``execute`` fetches Arrow faster as well,
    though DuckDB warns of a copy. Anything else asks the relation ``con.sql`` would have made.
    """

    def __init__(self, raw: Any, sql: str):
        self._raw = raw
        self._sql = sql

    def to_arrow_table(self) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
            return self._raw.execute(self._sql).to_arrow_table()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw.sql(self._sql), name)


def _one_statement(con: Any) -> Any:
    """``con._to_duckdb_relation`` whose fetch runs the query as one statement (:class:`Statement`)."""
    relation = con._to_duckdb_relation

    def to_relation(expr: Any, /, *, params: Any = None, limit: Any = None, **kwargs: Any) -> Any:
        table = expr.as_table()
        if table.schema().geospatial:  # ibis loads the spatial extension first: its own path
            return relation(expr, params=params, limit=limit, **kwargs)
        con._run_pre_execute_hooks(expr)
        return Statement(con.con, con.compile(table, limit=limit, params=params, **kwargs))

    return to_relation


def install(con: Any) -> Any:
    """Give a connection of ours (DuckDB) the shared compiled SQL and one-statement fetches; returns it."""
    con.compile = cached_compile(con)
    con._to_duckdb_relation = _one_statement(con)
    return con


_VIEWS = itertools.count()

#: Plans kept by :func:`planned` (the least recently used go first): SQL text, a schema and what ``build`` returned beside.
_PLANS: OrderedDict[tuple, tuple[str, Any, Any] | None] = OrderedDict()
_STAND_IN = "__wb_in_{}__"


def planned(tables: Mapping[str, Any], key: Any, build: Callable[[dict[str, Any]], tuple[Any, Any]]) -> tuple[Any, Any] | None:
    """``build(tables)`` built and compiled once per shape of ``tables`` (and ``key``), as a query of these tables.

    Building an expression is itself costly on a small pilot (ibis checks every node it
    makes: a few hundred milliseconds for an analysis's statistics, more than DuckDB's work).
    Tables of the same shape (:func:`_shape`: the same expression but for the names of the
    tables it reads) give the same expression but for those names. So ``build`` runs once per
    shape, on stand-in tables of the same schemas, and its SQL is kept; each call then reads its
    own tables under the stand-ins' names: a table or view of the session by its own name, an
    expression as a common table expression named for the stand-in (as ibis writes a relation a
    query reads more than once; the engine expands it in place, so the rows, and the order of
    every sum, are those of the expression built on the tables themselves).

    ``build(tables) -> (expr, extra)``: ``extra`` (notes, lists) must depend only on the tables'
    schemas and ``key``. Returns ``(table expression, extra)``, or None where this does not apply:
    tables not all on one DuckDB connection, tables or an expression holding in-memory data,
    a stand-in's name printed where it cannot be replaced.
    """
    cons = set()
    for t in tables.values():
        try:
            cons.add(t.get_backend())
        except Exception:  # an unbound table
            return None
    if len(cons) != 1:
        return None
    con = cons.pop()
    if getattr(con, "name", None) != "duckdb":
        return None
    shapes = []
    for name, t in sorted(tables.items()):
        found = _shape(t.op())
        if found is None:
            return None
        shapes.append((name, found[0]))
    plan_key = (con.dialect, tuple(shapes), key)
    if plan_key in _PLANS:
        _PLANS.move_to_end(plan_key)
        plan = _PLANS[plan_key]
    else:
        plan = _plan(con, tables, build)
        _PLANS[plan_key] = plan
        while len(_PLANS) > CACHE_SIZE:
            _PLANS.popitem(last=False)
    if plan is None:
        return None
    sql, schema, extra = plan
    ctes = []
    for name, t in tables.items():
        stand_in = quoted(con, _STAND_IN.format(name))
        op = t.op()
        if isinstance(op, ops.DatabaseTable) and op.namespace == ops.Namespace():
            sql = sql.replace(stand_in, quoted(con, op.name))  # a table or view of the session: its own name
        elif stand_in in sql:
            # A common table expression under the stand-in's name, as ibis itself writes a relation the query
            # reads more than once: DuckDB may then compute it once (inlined as a subquery at each reference,
            # the statistics of a 1.15M-account pilot took 4-13 % longer, measured).
            ctes.append(f"{stand_in} AS ({con.compile(t)})")
    if ctes:
        sql = f"WITH {', '.join(ctes)} SELECT * FROM ({sql})"
    return Query(con, sql, schema), extra


class Query:
    """A planned query of a DuckDB connection: its SQL text and the ibis schema of its rows.

    Not ``con.sql(text, schema=...)``: ibis parses the text again to embed it (a quarter of
    a second for an analysis's statistics), where the text is run as it stands here.
    """

    def __init__(self, con: Any, sql: str, schema: Any):
        self.con, self.sql, self.schema = con, sql, schema

    def execute(self) -> Any:
        """The rows as a pandas DataFrame, converted to :attr:`schema` as ibis' DuckDB ``execute`` converts them."""
        table = Statement(self.con.con, self.sql).to_arrow_table()
        frame = pd.DataFrame(
            {
                # as ibis does: nested, dictionary and null-holding columns through Python objects
                name: col.to_pylist()
                if pat.is_nested(col.type) or pat.is_dictionary(col.type) or col.null_count
                else col.to_pandas()
                for name, col in zip(table.column_names, table.columns, strict=True)
            }
        )
        return DuckDBPandasData.convert_table(frame, self.schema)

    def view(self, prefix: str, stored: bool = False) -> Any:
        """The query behind a temporary view of its connection, typed by :attr:`schema` (see :func:`view`);
        ``stored``: a temporary table instead, its rows computed now, once (in the connection's memory)."""
        name = f"wb_{prefix}_{next(_VIEWS)}"
        kind = "TABLE" if stored else "VIEW"
        self.con.raw_sql(f"CREATE OR REPLACE TEMPORARY {kind} {quoted(self.con, name)} AS {self.sql}").fetchall()
        return ops.DatabaseTable(name, schema=self.schema, source=self.con, namespace=ops.Namespace()).to_expr()


def _plan(con: Any, tables: Mapping[str, Any], build: Callable[[dict[str, Any]], tuple[Any, Any]]) -> tuple[str, Any, Any] | None:
    stand_ins = {n: ops.UnboundTable(name=_STAND_IN.format(n), schema=t.schema()).to_expr() for n, t in tables.items()}
    expr, extra = build(stand_ins)
    op = expr.op()
    if op.find((ops.InMemoryTable, ops.SQLQueryResult, ops.DatabaseTable)):
        return None  # data or tables of its own: not the stand-ins' shape alone
    if any(isinstance(lit.value, str) and "__wb_in_" in lit.value for lit in op.find(ops.Literal)):
        return None  # a text (from pilot.yml, say) holding a stand-in's name: the names are replaced as text
    sql = con.compile(expr)
    rest = sql
    for n in tables:
        rest = rest.replace(quoted(con, _STAND_IN.format(n)), "")
    if "__wb_in_" in rest:
        return None  # a stand-in's name printed otherwise than as a table's quoted name
    return sql, expr.as_table().schema(), extra


def view(t: Any, prefix: str) -> Any:
    """``t`` behind a temporary view of the engine's session, typed as ibis types ``t`` (not as the
    engine reports the view's columns), so that expressions on it compile to the same SQL as on ``t``
    but for the view's name: the engine expands the view into each query that reads it (nothing is
    computed or stored when it is made, so results and their order of summation are those of ``t``).
    A DuckDB connection only, and tables read from the engine only; else ``t`` itself."""
    try:
        con = t.get_backend()
    except Exception:  # an unbound table (tests compiling SQL)
        return t
    op = t.op()
    if con.name != "duckdb" or op.find((ops.InMemoryTable, ops.SQLQueryResult)):
        return t
    return Query(con, con.compile(t), t.schema()).view(prefix)
