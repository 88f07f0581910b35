"""Engines: open a pilot's tables as ibis tables on DuckDB, Spark or any ibis backend.

The metric definitions (:mod:`workbench.metrics.stats`) are ibis expressions, so
the same definitions run wherever the tables live:

- ``duckdb`` (default): an in-memory DuckDB reads the Parquet/CSV/CSV.GZ files
  in place (``read_parquet`` / ``read_csv``, which unzips ``.gz`` itself: no
  pandas round trip), or a DuckDB file opened read-only.
- ``pyspark``: the active (or a new local) SparkSession reads the files
  (Spark's CSV reader unzips ``.gz`` by its suffix too).

Which files are read is decided once, by :func:`workbench.contract.source.resolve`
(the same rules ``workbench validate`` applies).
- ``source.kind: ibis`` in pilot.yml: ``ibis.connect(source.url)``; tables are
  read from ``source.schema``.

Every timestamp column is normalized to a naive timestamp holding UTC wall
time: the session time zone is set to UTC (DuckDB ``SET TimeZone``; Spark
``spark.sql.session.timeZone``), tz-aware columns are cast to naive, and
strings (CSV) are parsed as UTC. Every other contract column is cast to its
contract type, so ids read from CSV as integers still join.
"""

from __future__ import annotations

import contextlib
import functools
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow
import pyarrow.parquet

from workbench.contract.config import PilotConfig
from workbench.contract.source import csv_header, duckdb_file, is_csv, resolve
from workbench.contract.source import locate as locate_pilot
from workbench.contract.tables import TABLES
from workbench.errors import EngineError, PilotError, Problem

_KIND = {"string": "string", "float": "float64", "int": "int64", "bool": "boolean"}


@dataclass
class Pilot:
    """An opened pilot: its configuration, its ibis tables and the connection."""

    config: PilotConfig
    tables: dict[str, Any]
    con: Any
    root: Path | None = None
    notes: list[str] = field(default_factory=list)


def locate(pilot: str | Path) -> tuple[Path, Path | None]:
    """Find ``pilot.yml`` from a folder, a pilot.yml path or a ``.duckdb`` file.

    Returns ``(pilot_yml, duckdb_file_or_None)``; the rules are
    :func:`workbench.contract.source.locate`'s.
    """
    return locate_pilot(pilot)[1], duckdb_file(pilot)


@functools.cache
def _duckdb_functions() -> tuple[Any, Any, Any]:
    """DuckDB's ``epoch_us``, ``make_timestamp`` and ``isfinite`` as ibis builtin functions."""
    udf = ibis.udf.scalar.builtin
    return (
        udf(lambda x: None, name="epoch_us", signature=((None,), "int64")),
        udf(lambda x: None, name="make_timestamp", signature=(("int64",), "timestamp")),
        udf(lambda x: None, name="isfinite", signature=((None,), "boolean")),
    )


def _duckdb_naive_utc(col: Any) -> Any:
    """``CAST(col AS TIMESTAMP)`` of a TIMESTAMPTZ, as DuckDB computes it fast (same values).

    With the session zone UTC the cast yields the instant's UTC wall time, but
    DuckDB routes it through ICU's calendar (about 0.1 us a value: seconds on
    the contact table). ``make_timestamp(epoch_us(col))`` reinterprets the
    instant's microseconds and gives the same timestamp; infinities, which it
    would turn into NULL, keep the plain cast.
    """
    epoch_us, make_timestamp, isfinite = _duckdb_functions()
    return ibis.ifelse(isfinite(col), make_timestamp(epoch_us(col)), col.cast("timestamp"))


def normalize(t: Any, name: str) -> Any:
    """Cast the contract columns of table ``name`` to their contract types (timestamps: naive UTC)."""
    spec = TABLES[name].columns
    casts = {}
    try:
        duck = t.get_backend().name == "duckdb"
    except Exception:
        duck = False
    naive = _duckdb_naive_utc if duck else (lambda col: col.cast("timestamp"))
    for col, c in spec.items():
        if col not in t.columns:
            continue
        dt = t[col].type()
        if c.kind == "timestamp":
            if dt.is_string():
                # CSV text: parse as an instant (a naive string counts as UTC, the session zone).
                casts[col] = naive(t[col].cast("timestamp('UTC')"))
            elif dt.is_timestamp() and dt.timezone is not None:
                casts[col] = naive(t[col])
            elif not dt.is_timestamp():
                casts[col] = t[col].cast("timestamp")
        elif c.kind == "float" and not dt.is_float64():
            casts[col] = t[col].cast("float64")
        elif c.kind == "int" and not dt.is_integer():
            casts[col] = t[col].cast("int64")
        elif c.kind == "string" and not dt.is_string():
            casts[col] = t[col].cast("string")
        elif c.kind == "bool" and not dt.is_boolean():
            casts[col] = t[col].cast("boolean")
    return t.mutate(**casts) if casts else t


def _duckdb(path: Path | None) -> Any:
    con = ibis.duckdb.connect(str(path), read_only=True) if path else ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    # DuckDB draws a progress bar on stdout for queries over 2 s: it would end up
    # in CLI tables and piped JSON of large pilots. Inside a Jupyter kernel DuckDB
    # refuses to change the setting without ipywidgets, and draws no text bar there.

    with contextlib.suppress(duckdb.InvalidInputException):
        con.raw_sql("SET enable_progress_bar = false")
    return con


def spark_session(memory: str = "1g") -> Any:
    """The active SparkSession, or a new local one with UTC session time."""
    from pyspark.sql import SparkSession  # Spark (and a JVM) only when the pyspark engine is asked for

    spark = SparkSession.getActiveSession()
    if spark is None:
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("workbench")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", memory)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate()
        )
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    # pandas writes nanosecond timestamps, which Spark refuses to read as timestamps;
    # read them as longs and convert them in _read_parquet (the most common Parquet there is).
    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _read_csv(con: Any, backend: str, path: Path, name: str, view: str) -> Any:
    """Read a CSV in place; on DuckDB, contract string and timestamp columns are read as text.

    DuckDB's sniffer may type ``2026-03-02T01:30:00+02:00`` as a naive
    timestamp and drop the offset; as text, :func:`normalize` parses it as an
    instant. Ids stay text too, so ``007`` keeps its zeros.
    """
    if backend != "duckdb":
        return con.read_csv(str(path), table_name=view)
    header = csv_header(path)
    spec = TABLES[name].columns
    types = {c: "VARCHAR" for c in header if c in spec and spec[c].kind in ("string", "timestamp")}
    return con.read_csv(str(path), table_name=view, types=types or None)


def _read_parquet(con: Any, backend: str, path: Path, view: str) -> Any:
    """Read a Parquet file in place; on Spark, nanosecond timestamps (pandas' default) become microseconds.

    Spark reads ``TIMESTAMP(NANOS)`` as a long (``nanosAsLong``); the columns
    are found in the file's own schema, so no other integer is reinterpreted.
    """
    if backend != "pyspark":
        return con.read_parquet(str(path), table_name=view)
    schema = pyarrow.parquet.read_schema(path)
    nanos = [f.name for f in schema if pyarrow.types.is_timestamp(f.type) and f.type.unit == "ns"]
    if not nanos:
        return con.read_parquet(str(path), table_name=view)
    # Spark only: ibis has no nanosecond-to-timestamp conversion on Spark
    from pyspark.sql import functions as F

    df = con._session.read.parquet(str(path))
    df = df.withColumns({c: F.timestamp_micros(F.floor(F.col(c) / 1000).cast("long")) for c in nanos})
    df.createOrReplaceTempView(view)
    return con.table(view)


def _connect(backend: str, duck_file: Path | None) -> Any:
    if backend == "duckdb":
        return _duckdb(duck_file)
    if duck_file is not None:
        raise EngineError([f"engine: a DuckDB file can only be read with backend duckdb, not {backend!r}"])
    if backend == "pyspark":
        return ibis.pyspark.connect(spark_session())
    raise EngineError([f"engine: unknown backend {backend!r} (duckdb, pyspark, or source.kind ibis in pilot.yml)"])


def open_pilot(pilot: str | Path | PilotConfig, backend: str = "duckdb") -> Pilot:
    """Open a pilot's tables as ibis tables.

    Parameters
    ----------
    pilot : a folder holding pilot.yml, a path to pilot.yml, a ``.duckdb`` file
        with pilot.yml beside it, or an already loaded :class:`PilotConfig`
        (then ``source.path`` must be absolute, or ``source.kind`` ibis).
    backend : ``duckdb`` (default) or ``pyspark`` for folder and DuckDB
        sources; ignored when ``source.kind`` is ``ibis`` (the URL decides).

    Raises
    ------
    EngineError, workbench.errors.ConfigError : one line per problem (a
        missing folder or DuckDB file, two files for one table, no accounts).
    """
    try:
        loc = resolve(pilot)
    except PilotError as err:
        raise EngineError(err.problems) from None
    if loc.problems:
        raise EngineError(loc.problems)
    config = loc.config
    notes: list[str] = []
    raw: dict[str, Any] = {}
    if loc.kind == "ibis":
        try:
            con = ibis.connect(loc.url)
        except Exception as exc:
            raise EngineError([f"engine: cannot connect to source.url: {exc.__class__.__name__}: {exc}"]) from None
        for name in TABLES:
            # Table by table, not list_tables(): that fails on some backend/driver pairs
            # (ibis 12 with duckdb 2), and an absent optional table is no error.
            try:
                raw[name] = con.table(name, database=loc.schema) if loc.schema else con.table(name)
            except Exception:
                continue
    elif loc.kind == "duckdb":
        con = _connect(backend, loc.db)
        # Not con.list_tables(): ibis 12 calls a cursor method DuckDB 2.0 removed.
        present = {r[0] for r in con.raw_sql("SELECT table_name FROM information_schema.tables").fetchall()}
        raw = {name: con.table(name) for name in TABLES if name in present}
    else:
        con = _connect(backend, None)
        # Unique view names: several pilots can share one Spark session.
        tag = f"{zlib.crc32(str(loc.folder.resolve()).encode()):08x}"
        unreadable: list[Problem] = []
        for name, file in loc.files.items():
            view = f"{name}_{tag}"
            try:
                if is_csv(file):
                    raw[name] = _read_csv(con, backend, file, name, view)
                else:
                    raw[name] = _read_parquet(con, backend, file, view)
            except (OSError, UnicodeDecodeError, ValueError, duckdb.Error) as exc:  # the user's file, not our code
                first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:160]
                unreadable.append(Problem(name, "", f"unreadable file {file.name} ({first}); run `workbench validate`"))
        if unreadable:
            raise EngineError(unreadable)
    problems = [f"engine: required table {n!r} not found" for n, t in TABLES.items() if t.required and n not in raw]
    if problems:
        raise EngineError(problems)
    tables = {name: normalize(t, name) for name, t in raw.items()}
    for name, spec in TABLES.items():
        if name not in tables:
            notes.append(f"table {name!r} absent: skipped {spec.unlocks}")
    return Pilot(config=config, tables=tables, con=con, root=loc.root, notes=notes)
