"""Compiled SQL shared between pilots of one shape (:mod:`workbench.contract.compiled`), and the
per-account outcomes behind one view per opened pilot (:func:`workbench.metrics.accounts.outcomes`), and
fetches that run the compiled text as one statement.

What is decided: a query of a second pilot reuses the first pilot's compiled SQL only when it is
the very text ibis compiles for it; a query that differs in anything but the tables' names, or
holds in-memory data, is compiled afresh; the outcomes view reads the same rows as the expression.
"""

from __future__ import annotations

import functools

import ibis
from pilot_factory import config_dict, make_pilot

from workbench.contract import compiled, tablecounts
from workbench.contract.engine import SMALL_INPUT
from workbench.contract.mapping import Mapping
from workbench.contract.validate import validate_pilot
from workbench.metrics.accounts import account_outcomes, outcomes
from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import stats_expr


def _query(p, bound: float):
    t = p.tables["payments"]
    return t.filter(t.amount > bound).group_by("account_id").aggregate(paid=t.amount.sum())


def test_second_pilot_reuses_the_sql_ibis_would_compile(tmp_path):
    a, b = open_pilot(make_pilot(tmp_path / "a")), open_pilot(make_pilot(tmp_path / "b"))
    assert a.raw["payments"].op().name != b.raw["payments"].op().name  # each pilot's views are its own
    before = len(compiled._SQL)
    sql_a = a.con.compile(_query(a, 1.0))
    assert len(compiled._SQL) == before + 1
    sql_b = b.con.compile(_query(b, 1.0))
    assert len(compiled._SQL) == before + 1  # the same shape: no new compilation
    plain = ibis.duckdb.connect().compile  # ibis's own compiler, nothing cached
    assert sql_b == plain(_query(b, 1.0)) and sql_a == plain(_query(a, 1.0))
    assert sql_a != sql_b
    assert _query(b, 1.0).execute().equals(_query(b, 1.0).execute())


def test_another_literal_or_in_memory_data_is_compiled_afresh(tmp_path):
    p = open_pilot(make_pilot(tmp_path / "p"))
    p.con.compile(_query(p, 1.0))
    before = len(compiled._SQL)
    assert "2.5" in p.con.compile(_query(p, 2.5))
    assert len(compiled._SQL) == before + 1
    mem = ibis.memtable({"x": [1, 2]})
    p.con.compile(mem.filter(mem.x > 1))
    assert len(compiled._SQL) == before + 1


def test_outcomes_view_reads_what_the_expression_reads_and_is_made_once(tmp_path, monkeypatch):
    p = open_pilot(make_pilot(tmp_path / "p"))
    view, avail, notes = outcomes(p.tables, p.config)
    expr, avail2, notes2 = account_outcomes(p.tables, p.config)
    assert (avail, notes) == (avail2, notes2)
    assert view.schema() == expr.schema()  # typed as ibis types the expression
    got = view.execute().sort_values("account_id").reset_index(drop=True)
    want = expr.execute().sort_values("account_id").reset_index(drop=True)
    assert got.equals(want)
    assert outcomes(p.tables, p.config)[0].op() == view.op()  # the same view, not a second one
    kinds = dict(p.con.raw_sql("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    assert kinds[view.op().name] == "LOCAL TEMPORARY"  # a small pilot's outcomes are stored once, not a view
    assert outcomes(p.tables, p.config, ["complaints"])[0].op() != view.op()  # fewer joins: its own view
    # the public expression still reads the pilot's own tables (to compile for other engines)
    names = {t.name for t in stats_expr(p.tables, p.config)[0].op().find(ibis.expr.operations.DatabaseTable)}
    assert not any(n.startswith("wb_") for n in names)
    # a pilot over the one-thread size gets a view, expanded into each query (nothing held in memory)
    monkeypatch.setattr(p.con, SMALL_INPUT, False)
    big = outcomes(p.tables, p.config, ["recovery"])[0]
    kinds = dict(p.con.raw_sql("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    assert kinds[big.op().name] == "VIEW"
    assert (
        big.execute()
        .sort_values("account_id")
        .reset_index(drop=True)
        .equals(account_outcomes(p.tables, p.config, ["recovery"])[0].execute().sort_values("account_id").reset_index(drop=True))
    )


def test_fetches_run_one_statement_with_the_rows_and_types_of_the_relation(tmp_path, monkeypatch):
    """ibis' fetches on our DuckDB connections run the compiled text once (``con.execute``) and give
    exactly what they gave through the relation ``con.sql`` makes (ibis' own path): Arrow tables and
    pandas frames equal, a sum of integers int64 (not DuckDB's HUGEINT), limits, in-memory tables;
    other uses of the relation still reach it."""
    p = open_pilot(make_pilot(tmp_path / "p"))
    con = p.con
    t = p.tables["payments"]
    queries = {
        "aggregate": t.aggregate(n=t.count(), paid=t.amount.sum(), first=t.paid_at.min()),
        "grouped": t.group_by("account_id").aggregate(paid=t.amount.sum()).order_by("account_id"),
        "limited": t.select("payment_id", "paid_at").order_by("payment_id").limit(2),
        "in memory": ibis.memtable({"k": [1, 2, 3]}).mutate(twice=ibis._.k * 2),
    }
    assert all(isinstance(con._to_duckdb_relation(q), compiled.Statement) for q in queries.values())
    new = {name: (q.to_pyarrow(), q.execute()) for name, q in queries.items()}
    with monkeypatch.context() as m:  # ibis' own relation, as before the one-statement fetches
        m.setattr(con, "_to_duckdb_relation", functools.partial(type(con)._to_duckdb_relation, con))
        old = {name: (q.to_pyarrow(), q.execute()) for name, q in queries.items()}
    for name in queries:
        assert new[name][0].equals(old[name][0]) and new[name][0].schema == old[name][0].schema, name
        assert new[name][1].equals(old[name][1]) and (new[name][1].dtypes == old[name][1].dtypes).all(), name
    assert new["aggregate"][0].column("n").type == "int64" and len(new["limited"][0]) == 2
    assert con._to_duckdb_relation(queries["grouped"]).columns == ["account_id", "paid"]  # the relation's own attribute


def test_planned_statistics_equal_the_expression_and_are_each_pilots_own(tmp_path, monkeypatch):
    """Statistics built once per shape (compiled.planned) give what the expression built on the
    pilot's own tables gives, column for column and dtype for dtype; a second pilot of the same
    shape reuses the plan and gets its own numbers; another shape gets a plan of its own."""
    import pandas as pd

    from workbench.metrics import accounts, stats

    def edit(t):  # other data, the same shape
        t["payments"].loc[0, "amount"] = 55.0
        t["contacts"].loc[0, "reached"] = not t["contacts"].loc[0, "reached"]

    roots = {"a": make_pilot(tmp_path / "a"), "b": make_pilot(tmp_path / "b", edit=edit)}
    compiled._PLANS.clear()
    for by in ([], ["segment"]):
        got = {}
        for name, root in roots.items():
            p = open_pilot(root)
            got[name] = stats.sufficient_stats(p.tables, p.config, by=by)
            if name == "a":
                plans = len(compiled._PLANS)
        assert len(compiled._PLANS) == plans  # b has a's shape: no new plan
        with monkeypatch.context() as m:  # the expression on each pilot's own tables, as before plans
            m.setattr(stats, "planned", lambda *a: None)
            m.setattr(accounts, "planned", lambda *a: None)
            for name, root in roots.items():
                p = open_pilot(root)  # a new connection: no outcomes view kept from above
                pd.testing.assert_frame_equal(got[name], stats.sufficient_stats(p.tables, p.config, by=by), check_exact=True)
                assert got[name].attrs["notes"] == stats.sufficient_stats(p.tables, p.config, by=by).attrs["notes"]
        assert not got["a"].equals(got["b"])  # each pilot's own numbers
    csv = open_pilot(make_pilot(tmp_path / "csv", "csv"))
    stats.sufficient_stats(csv.tables, csv.config)
    assert len(compiled._PLANS) > plans  # text columns cast on read: another shape, its own plan


def test_stored_outcomes_are_read_again_when_a_file_changes(tmp_path):
    """A small pilot's outcomes are stored once per state of its files: a file rewritten while the
    pilot is open is read again, as the view read it (make and DVC tell a changed input so)."""
    import os

    import pandas as pd

    from workbench.metrics.stats import sufficient_stats

    root = make_pilot(tmp_path / "p")
    p = open_pilot(root)
    first = sufficient_stats(p.tables, p.config, metrics=["recovery"])
    pay = pd.read_parquet(root / "payments.parquet")
    pay["amount"] *= 10
    pay.to_parquet(root / "payments.parquet")
    later = (root / "payments.parquet").stat().st_mtime_ns + 10**9
    os.utime(root / "payments.parquet", ns=(later, later))  # a new modification time, however coarse the clock
    again = sufficient_stats(p.tables, p.config, metrics=["recovery"])
    fresh = sufficient_stats(open_pilot(root).tables, p.config, metrics=["recovery"])
    assert again["sum"].tolist() == fresh["sum"].tolist() != first["sum"].tolist()


def test_a_text_holding_a_stand_in_name_is_not_planned(tmp_path):
    p = open_pilot(make_pilot(tmp_path / "p"))
    t = p.tables["accounts"]

    def build(ts):
        a = ts["accounts"]
        return a.filter(a.arm == '"__wb_in_accounts__"').count().as_table(), None

    assert compiled.planned({"accounts": t}, "literal", build) is None


def test_a_pilots_name_and_description_are_read_by_no_query_and_key_no_plan(tmp_path):
    """pilot.yml's name and description are labels: every planned query (a table's casts and counts,
    the per-account outcomes, the statistics) compiles to the same SQL for two pilots that differ only
    in them, so the second reuses the first's plans (PilotConfig.plan_key leaves them out)."""
    from workbench.metrics import stats

    a = make_pilot(tmp_path / "a")
    b = make_pilot(tmp_path / "b", config=config_dict(name="another pilot", description="<b>other</b> text"))
    pa, pb = open_pilot(a), open_pilot(b)
    assert (pa.config.name, pb.config.name) == ("tiny", "another pilot") and pa.config.plan_key() == pb.config.plan_key()
    assert pa.config.model_dump_json() != pb.config.model_dump_json()
    for cfg in (pa.config, pb.config):  # the same stand-ins, each pilot's pilot.yml: the same text
        outcomes_sql = compiled._plan(pa.con, pa.tables, lambda ts, c=cfg: account_outcomes(ts, c)[:2])[0]
        stats_sql = pa.con.compile(stats_expr(pa.tables, cfg, ["segment"])[0])
        counts = tablecounts._make_plan(pa.con, "accounts", pa.raw["accounts"].op().schema, Mapping.of(cfg), cfg)
        assert "another" not in outcomes_sql + stats_sql + counts.cast_sql + counts.counts_sql
        if cfg is pa.config:
            first = (outcomes_sql, stats_sql, counts.cast_sql, counts.counts_sql)
    assert (outcomes_sql, stats_sql, counts.cast_sql, counts.counts_sql) == first
    compiled._PLANS.clear()
    tablecounts._PLANS.clear()
    got_a = stats.sufficient_stats(validate_pilot(a).pilot.tables, pa.config)
    plans = (len(compiled._PLANS), len(tablecounts._PLANS))
    got_b = stats.sufficient_stats(validate_pilot(b).pilot.tables, pb.config)
    assert (len(compiled._PLANS), len(tablecounts._PLANS)) == plans  # b validated and counted on a's plans
    assert got_a.equals(got_b)  # the same data under another name
