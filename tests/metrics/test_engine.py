"""Engines: the same definitions give the same statistics on every input and backend.

Parquet vs CSV vs DuckDB file; DuckDB vs the plain-pandas reference; DuckDB vs
PySpark (one local session per test run; two Spark computations: a folder
mixing gzipped CSV, CSV and nanosecond Parquet, and a DuckDB file); SQL
compiled for BigQuery and Snowflake without credentials.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import config, frames

from workbench.contract.io import write_pilot
from workbench.metrics.engine import EngineError, locate, open_pilot
from workbench.metrics.stats import compute_metrics, stats_expr, sufficient_stats, survival_table

KEYS = ["metric", "arm"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """A small simulated pilot (config, tables as frames, folder per format)."""
    simulate = pytest.importorskip("workbench.simulate.pilot")
    cfg, tables, _ = simulate.simulate_tables(accounts=1500, seed=7, agents=12, with_truth=False)
    root = tmp_path_factory.mktemp("sim")
    paths = {fmt: write_pilot(root / fmt, cfg, tables, fmt) for fmt in ("parquet", "csv", "duckdb")}
    paths["duckdb"] = paths["duckdb"] / "pilot.duckdb"
    return cfg, tables, paths


def assert_same_stats(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-9) -> None:
    """Counts exactly, float sums to ``rtol`` relative."""
    assert a.columns.tolist() == b.columns.tolist()
    assert len(a) == len(b)
    for c in a.columns:
        x, y = a[c], b[c]
        if x.dtype == "int64" or c in ("metric", "family", "arm", "segment", "agent_id", "week"):
            assert x.tolist() == y.tolist(), c
        else:
            np.testing.assert_allclose(x.astype(float), y.astype(float), rtol=rtol, atol=1e-12, equal_nan=True, err_msg=c)


def test_parquet_csv_and_duckdb_file_agree(sim):
    _, _, paths = sim
    base = compute_metrics(paths["parquet"], by=["segment"])
    assert len(base) > 50
    for fmt in ("csv", "duckdb"):
        assert_same_stats(base, compute_metrics(paths[fmt], by=["segment"]))


def test_duckdb_matches_plain_reference(sim):
    reference = pytest.importorskip("workbench.metrics.reference")
    cfg, tables, paths = sim
    ref = reference.reference_metrics(cfg, tables)
    ours = compute_metrics(paths["parquet"])
    m = ref.merge(ours, on=KEYS, suffixes=("_ref", ""))
    assert len(m) == len(ref) == len(ours)
    for c in ("n", "excluded", "accounts"):
        assert (m[c] == m[f"{c}_ref"]).all(), c
    np.testing.assert_allclose(m["mean"], m["mean_ref"], rtol=1e-9, equal_nan=True)


def test_by_week_and_agent_add_up_to_the_arm(sim):
    _, _, paths = sim
    arm = compute_metrics(paths["parquet"])
    for by in (["week"], ["agent_id"]):
        cells = compute_metrics(paths["parquet"], by=by)
        summed = cells.groupby(KEYS, sort=False)[["accounts", "excluded", "sum"]].sum().reset_index()
        m = arm.merge(summed, on=KEYS, suffixes=("", "_cells"))
        assert (m.accounts == m.accounts_cells).all() and (m.excluded == m.excluded_cells).all()
        np.testing.assert_allclose(m["sum"], m["sum_cells"], rtol=1e-9)


def test_survival_table_matches_the_exposure(sim):
    _, _, paths = sim
    p = open_pilot(paths["parquet"])
    surv = survival_table(p.tables, p.config).groupby("arm")[["events", "time_sum"]].sum()
    ret = sufficient_stats(p.tables, p.config, metrics=["retention"]).set_index("arm")
    assert (surv.events == ret.events.loc[surv.index]).all()
    np.testing.assert_allclose(surv.time_sum, ret.exposure.loc[surv.index], rtol=1e-9)


def test_csv_timestamps_with_offsets_are_read_as_utc(build, tmp_path):
    cfg = config()
    t = frames(
        accounts=[{"account_id": "1", "arm": "empathy", "assigned_at": "2026-01-01", "balance": 10.0}],
        payments=[{"payment_id": "y", "account_id": "1", "paid_at": "2026-03-01T23:30:00", "amount": 5.0}],
    )
    folder = write_pilot(tmp_path / "csv", cfg, t, "csv")
    # 2026-03-02T01:30+02:00 is 2026-03-01T23:30Z: inside the 60-day window (ends 2026-03-02T00:00Z).
    (folder / "payments.csv").write_text("payment_id,account_id,paid_at,amount\ny,1,2026-03-02T01:30:00+02:00,5.0\n")
    s = compute_metrics(folder, metrics=["recovery"])
    assert s.loc[s.arm == "empathy", "sum"].item() == 5.0
    # ids that look like numbers still join (cast to the contract's string type)
    assert s.loc[s.arm == "empathy", "accounts"].item() == 1


def test_duckdb_utc_conversion_equals_the_cast():
    """normalize's fast TIMESTAMPTZ -> naive UTC on DuckDB gives CAST(... AS TIMESTAMP)'s values."""
    import ibis

    from workbench.metrics.engine import _duckdb, normalize

    con = _duckdb(None)
    con.raw_sql("""CREATE TABLE payments AS SELECT * FROM (VALUES
        ('a', '1', TIMESTAMPTZ '2026-03-02 01:30:00.123456+02', 1.0),
        ('b', '1', TIMESTAMPTZ '1969-12-31 23:59:59.999999+00', 1.0),
        ('c', '1', TIMESTAMPTZ 'infinity', 1.0),
        ('d', '1', TIMESTAMPTZ '-infinity', 1.0),
        ('e', '1', NULL, 1.0)) v(payment_id, account_id, paid_at, amount)""")
    t = con.table("payments")
    fast = normalize(t, "payments")
    assert "make_timestamp" in ibis.to_sql(fast).lower()
    assert fast.paid_at.type().is_timestamp() and fast.paid_at.type().timezone is None
    got = con.raw_sql(f"SELECT CAST(paid_at AS VARCHAR) FROM ({ibis.to_sql(fast)}) ORDER BY payment_id").fetchall()
    want = con.raw_sql("SELECT CAST(CAST(paid_at AS TIMESTAMP) AS VARCHAR) FROM payments ORDER BY payment_id").fetchall()
    assert got == want
    assert got[0][0] == "2026-03-01 23:30:00.123456" and got[2][0] == "infinity" and got[4][0] is None


def test_locating_a_pilot(sim, tmp_path):
    _, _, paths = sim
    assert locate(paths["parquet"]) == (paths["parquet"] / "pilot.yml", None)
    assert locate(paths["duckdb"]) == (paths["duckdb"].parent / "pilot.yml", paths["duckdb"])
    assert set(open_pilot(paths["parquet"] / "pilot.yml").tables) >= {"accounts", "contacts"}
    (tmp_path / "pilot.yml").write_text("name: x\narms: {control: a, treatment: b}\nobserved_until: 2026-01-01\n")
    with pytest.raises(EngineError, match="required table 'accounts' not found"):
        open_pilot(tmp_path)


def test_sql_compiles_for_bigquery_and_snowflake(sim):
    import ibis

    _, _, paths = sim
    p = open_pilot(paths["parquet"])
    # Unbound tables with the same schemas: compiling needs no connection and no credentials.
    unbound = {n: ibis.table(t.schema(), name=n) for n, t in p.tables.items()}
    expr, todo, _ = stats_expr(unbound, p.config, by=["segment", "week"])
    assert len(todo) == 11
    for dialect in ("bigquery", "snowflake"):
        sql = ibis.to_sql(expr, dialect=dialect)
        assert "kept_ptp__successes" in sql and "OVER" in sql.upper()


def test_duckdb_sessions_are_utc_and_draw_no_progress_bar(sim):
    from workbench.metrics.engine import open_pilot

    for path in sim[2]["parquet"], sim[2]["duckdb"]:
        con = open_pilot(path).con
        settings = dict(
            con.raw_sql("SELECT name, value FROM duckdb_settings() WHERE name IN ('TimeZone', 'enable_progress_bar')").fetchall()
        )
        assert settings == {"TimeZone": "UTC", "enable_progress_bar": "false"}, path


def test_small_pilots_share_one_database_each_with_its_own_views_and_large_ones_their_own(sim, monkeypatch):
    """Small pilots read from files are connections to one in-memory database of the process (its
    threads: one), each with its own temporary views and tables; a larger pilot and a DuckDB file
    get databases of their own."""
    import duckdb

    from workbench.contract import engine

    path = sim[2]["parquet"]
    a, b = open_pilot(path), open_pilot(path)
    assert a.con.con is not b.con.con  # two connections ...
    a.con.raw_sql("CREATE TEMPORARY TABLE mine AS SELECT 1 AS x").fetchall()
    with pytest.raises(duckdb.CatalogException, match="mine"):
        b.con.raw_sql("SELECT * FROM mine").fetchall()  # ... each with its own temporary objects
    for con in (a.con, b.con):
        assert con.raw_sql("SELECT current_setting('threads')").fetchall() == [(1,)]
    monkeypatch.setattr(engine, "ONE_THREAD_BYTES", 1)  # every pilot read from files is large now
    large, file = open_pilot(path), open_pilot(sim[2]["duckdb"])
    default_threads = duckdb.connect().execute("SELECT current_setting('threads')").fetchall()[0][0]
    assert large.con.raw_sql("SELECT current_setting('threads')").fetchall() == [(default_threads,)]
    db = engine._small_pilots_database()
    db.execute("CREATE TABLE shared_probe AS SELECT 2 AS y").fetchall()  # a table of the database itself
    try:
        for con in (a.con, b.con):  # the small pilots' database
            assert con.raw_sql("SELECT y FROM shared_probe").fetchall() == [(2,)]
        for con in (large.con, file.con):  # databases of their own
            with pytest.raises(duckdb.CatalogException, match="shared_probe"):
                con.raw_sql("SELECT y FROM shared_probe").fetchall()
    finally:
        db.execute("DROP TABLE shared_probe").fetchall()


#: How each table of the pilot Spark reads is stored: gzipped and plain CSV (read as text, typed by the
#: contract), and Parquet written by pandas with nanosecond timestamps.
SPARK_MIXED = {
    "accounts": ".csv.gz",
    "contacts": ".csv",
    "promises": ".csv.gz",
    "payments": ".parquet",
    "complaints": ".csv",
    "surveys": ".parquet",
}


def _spark_mixed_copy(src, dst):
    """The Parquet pilot ``src`` rewritten table by table in the formats of :data:`SPARK_MIXED`."""
    dst.mkdir()
    (dst / "pilot.yml").write_text((src / "pilot.yml").read_text())
    for name, suffix in SPARK_MIXED.items():
        df = pd.read_parquet(src / f"{name}.parquet")
        if suffix == ".parquet":
            # pandas writes TIMESTAMP(NANOS) by default, which Spark refuses as a timestamp
            # ([PARQUET_TYPE_ILLEGAL]); the engine reads those columns as longs and converts them.
            for c in df.columns:
                if isinstance(df[c].dtype, pd.DatetimeTZDtype) or str(df[c].dtype).startswith("datetime64"):
                    df[c] = df[c].astype(df[c].dtype.__class__(unit="ns", tz=getattr(df[c].dtype, "tz", None)))
            df.to_parquet(dst / f"{name}{suffix}")
        else:
            # The text write_pilot writes; pandas gzips by the ".gz" suffix.
            df.to_csv(dst / f"{name}{suffix}", index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    return dst


def test_spark_reads_gzipped_csv_and_nanosecond_parquet_like_duckdb(sim, spark, tmp_path):
    # One Spark computation (each costs seconds of a local driver's planning) checks three readers:
    # gzipped CSV, plain CSV and pandas' nanosecond Parquet, against DuckDB on the plain Parquet pilot.
    import gzip

    import pyarrow.parquet as pq

    src = sim[2]["parquet"]
    dst = _spark_mixed_copy(src, tmp_path / "mixed")
    for name, suffix in SPARK_MIXED.items():
        f = dst / f"{name}{suffix}"
        if suffix == ".parquet":
            units = {fld.type.unit for fld in pq.read_schema(f) if str(fld.type).startswith("timestamp")}
            assert units == {"ns"}, name
        else:  # gzipped (its magic bytes) or plain text, a header line of the table's columns
            assert (f.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".csv.gz"), name
            opener = gzip.open if suffix == ".csv.gz" else open
            with opener(f, "rt") as fh:
                assert set(fh.readline().strip().split(",")) == set(pd.read_parquet(src / f"{name}.parquet").columns), name
    duck = compute_metrics(src, by=["segment"])
    sp = compute_metrics(dst, by=["segment"], backend="pyspark")
    assert len(duck) > 50 and set(duck.metric) == set(sp.metric)
    assert_same_stats(duck, sp)
    # computed so by the suite's own local session: a small pilot's expressions interpreted, no generated code
    assert spark.conf.get("spark.sql.codegen.factoryMode") == "NO_CODEGEN"
    assert spark.conf.get("spark.sql.codegen.wholeStage") == "false"


def test_spark_reads_a_duckdb_file(sim, spark):
    # the file is copied out read-only into temporary Parquet that Spark reads like a folder
    db = sim[2]["duckdb"]
    before = db.stat().st_mtime_ns
    assert_same_stats(compute_metrics(db, by=["segment"]), compute_metrics(db, by=["segment"], backend="pyspark"))
    assert db.stat().st_mtime_ns == before
    # sized by the Parquet copies Spark reads (0.3 MiB), not by the file, whose fixed overhead puts it
    # over the 2 MiB mark (2,109,440 bytes here): a small pilot, its expressions interpreted
    assert spark.conf.get("spark.sql.codegen.factoryMode") == "NO_CODEGEN"


def test_only_the_workbenchs_own_spark_session_interprets_small_pilots(monkeypatch):
    """The local session the workbench started interprets expressions while every pilot opened on it
    is small; once a larger one (or one of unknown size) is opened it generates code for all, since
    a pilot opened earlier may be computed later. A session of the user's is left as configured."""
    from workbench.contract import engine

    class Session:
        def __init__(self):
            self.conf = self
            self.settings = {}

        def set(self, key, value):
            self.settings[key] = value

    own, theirs = Session(), Session()
    monkeypatch.setattr(engine, "_OWN_SPARK", [own])
    small, large = ("false", "NO_CODEGEN"), ("true", "FALLBACK")
    edge = engine.SPARK_INTERPRETED_BYTES

    def modes(*sizes):
        monkeypatch.setattr(engine, "_SPARK_LARGEST", [0])  # a new session
        out = []
        for size in sizes:
            assert engine._spark_for(own, size) is own
            out.append((own.settings["spark.sql.codegen.wholeStage"], own.settings["spark.sql.codegen.factoryMode"]))
        return out

    assert modes(0, edge - 1, 10) == [small, small, small]
    assert modes(10, edge, 10) == [small, large, large]  # a large pilot opened: never back
    assert modes(10, None, 10) == [small, large, large]  # nor after one of unknown size
    assert engine._spark_for(theirs, 10) is theirs and theirs.settings == {}


def test_spark_reads_a_plain_csv_header_without_a_job_and_leaves_odd_ones_to_spark(tmp_path):
    """Spark gets the text schema from the header as we read it (no job to read the header) only
    where it would read the same names: plain names, each once; repeated, empty or odd names are
    left to Spark's own header reading (it renames them itself)."""
    pytest.importorskip("pyspark")
    from workbench.contract.engine import _spark_text_schema

    cases = {
        "plain.csv": ("account_id,arm,assigned_at\nA1,x,2026-01-01\n", ["account_id", "arm", "assigned_at"]),
        "repeated.csv": ("account_id,arm,arm\nA1,x,y\n", None),
        "empty.csv": ("account_id,,arm\nA1,x,y\n", None),
        "odd.csv": ('account_id,"arm ",\ufeffx\nA1,x,y\n', None),
    }
    for name, (text, want) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        got = _spark_text_schema(tmp_path / name)
        if want is None:
            assert got == {}, name
        else:
            assert [f.name for f in got["schema"].fields] == want
            assert {f.dataType.simpleString() for f in got["schema"].fields} == {"string"}
