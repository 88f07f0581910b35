"""Engines: open a pilot's tables as ibis tables on DuckDB, Spark or any ibis backend.

The metric definitions (:mod:`workbench.metrics.stats`) are ibis expressions, so
the same definitions run wherever the tables live:

- ``duckdb`` (default): an in-memory DuckDB reads the Parquet/CSV/CSV.GZ files
  in place (``read_parquet`` / ``read_csv``, which unzips ``.gz`` itself: no
  pandas round trip), or a DuckDB file opened read-only.
- ``pyspark``: the active (or a new local) SparkSession reads the files
  (Spark's CSV reader unzips ``.gz`` by its suffix too); a DuckDB file is
  first copied out, read-only, into temporary Parquet files (removed at exit).

Which files are read is decided once, by :func:`workbench.contract.source.resolve`
(the same rules ``workbench validate`` applies).
- ``source.kind: ibis`` in pilot.yml: ``ibis.connect(source.url)``; tables are
  read from ``source.schema``.

An engine that cannot start or connect (no Java for Spark, a server that
refuses the connection, a URL no backend reads) raises :class:`EngineError`
with one line saying what to do; the password of a URL is never printed.

Every timestamp column is normalized to a naive timestamp holding UTC wall
time: the session time zone is set to UTC (DuckDB ``SET TimeZone``; Spark
``spark.sql.session.timeZone``), tz-aware columns are cast to naive, and
strings (CSV) are parsed as UTC. Every other contract column is cast to its
contract type, so ids read from CSV as integers still join.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shutil
import tempfile
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow
import pyarrow.parquet

from workbench.contract.casts import boolean_text, duckdb_naive_utc, formatted_timestamp
from workbench.contract.compiled import install
from workbench.contract.config import PilotConfig
from workbench.contract.mapping import Mapping, map_values_table, number_column, rename_table
from workbench.contract.safecasts import iso_timestamp, safe_cast
from workbench.contract.source import (
    EXAMPLE_CHARS,
    Location,
    connect_failure,
    csv_bounds,
    csv_header,
    duckdb_file,
    file_state,
    first_line,
    is_csv,
    resolve,
    safe_url,
)
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
    # The tables as read, before pilot.yml's mapping and the contract's types: validation reads these.
    raw: dict[str, Any] = field(default_factory=dict)
    backend: str = "duckdb"
    problems: list[Problem] = field(default_factory=list)  # what validation found (warnings of a valid pilot)


def locate(pilot: str | Path) -> tuple[Path, Path | None]:
    """Find ``pilot.yml`` from a folder, a pilot.yml path or a ``.duckdb`` file.

    Returns ``(pilot_yml, duckdb_file_or_None)``; the rules are
    :func:`workbench.contract.source.locate`'s.
    """
    return locate_pilot(pilot)[1], duckdb_file(pilot)


def normalize(t: Any, name: str, mapping: Mapping | None = None) -> Any:
    """Cast the contract columns of table ``name`` to their contract types (timestamps: naive UTC).

    ``mapping`` (pilot.yml ``columns``, ``values``, ``timestamp_format``) is
    applied first, with the rules validation applies (:mod:`workbench.contract.mapping`).
    """
    mapping = mapping or Mapping()
    try:
        backend = t.get_backend().name
    except Exception:  # an unbound table (tests compiling SQL)
        backend = ""
    duck = backend == "duckdb"
    t = map_values_table(name, rename_table(name, t, mapping), mapping, backend)
    fmt = mapping.timestamp_format
    spec = TABLES[name].columns
    casts = {}
    naive = duckdb_naive_utc if duck else (lambda col: col.cast("timestamp"))
    for col, c in spec.items():
        if col not in t.columns:
            continue
        dt = t[col].type()
        if c.kind == "timestamp":
            if dt.is_string() and fmt:
                # The format pilot.yml gives, read as validation reads it on this engine (naive UTC).
                casts[col] = formatted_timestamp(t[col].strip(), fmt, backend)
            elif dt.is_string() and safe_cast(backend):
                # No TRY_CAST (PostgreSQL): validation's checked cast, the same values (offsets beyond 15:59 too).
                casts[col] = iso_timestamp(t[col].strip())
            elif dt.is_string():
                # CSV text: parse as an instant (a naive string counts as UTC, the session zone).
                casts[col] = naive(t[col].cast("timestamp('UTC')"))
            elif dt.is_timestamp() and dt.timezone is not None:
                casts[col] = naive(t[col])
            elif not dt.is_timestamp():
                casts[col] = t[col].cast("timestamp")
        elif c.kind in ("float", "int") and dt.is_string():
            casts[col] = number_column(t[col]).cast("float64" if c.kind == "float" else "int64")  # 1,660.78
        elif c.kind == "float" and not dt.is_float64():
            casts[col] = t[col].cast("float64")
        elif c.kind == "int" and not dt.is_integer():
            casts[col] = t[col].cast("int64")
        elif c.kind == "string" and not dt.is_string():
            casts[col] = t[col].cast("string")
        elif c.kind == "bool" and dt.is_string():
            casts[col] = boolean_text(t[col])  # the contract's words (yes/no too), as validation reads them
        elif c.kind == "bool" and not dt.is_boolean():
            casts[col] = t[col].cast("boolean")
    return t.mutate(**casts) if casts else t


#: Pilots whose input files total fewer bytes are computed on one DuckDB thread. DuckDB's parallel
#: sums of floats add in an order that changes from run to run (measured: 2 of 6 identical
#: statistics queries of a 600-account pilot differed in the last bit; none on one thread), so a
#: rerun's CSVs could differ at a rounding boundary. One thread makes them byte-identical; below
#: this size (about 250,000 accounts of Parquet) it costs little. Larger pilots keep every core and
#: may differ from a rerun in the last bit of a float sum.
ONE_THREAD_BYTES = 64 * 2**20

#: Set (True) on the DuckDB connection of a pilot under ONE_THREAD_BYTES: its per-account outcomes are
#: small enough to store once (:func:`workbench.metrics.accounts.outcomes`).
SMALL_INPUT = "workbench_small_input"

#: Set on a DuckDB connection to the files its pilot's tables read (:func:`input_state` tells when they change).
INPUT_FILES = "workbench_input_files"


def input_state(con: Any) -> tuple:
    """Size and modification time (ns) of every file the connection's pilot reads; () when not recorded.

    Kept results of the connection (the stored per-account outcomes) are keyed by it: a file
    rewritten while the pilot is open is read again, as make and DVC tell a changed input.
    """
    state = []
    for f in getattr(con, INPUT_FILES, ()):
        try:
            state.append(file_state(f))
        except OSError:  # gone: a state of its own, never equal to one read before
            state.append((str(f), None, None))
    return tuple(state)


_SMALL_PILOTS_LOCK = threading.Lock()


@functools.cache
def _small_pilots_database() -> Any:
    """The process's one in-memory DuckDB database for pilots read from files under ONE_THREAD_BYTES.

    Each such pilot gets a connection of its own to it (``cursor()``: its own temporary views and
    tables, dropped with it), where a database of its own took 23-33 ms to create (DuckDB 2.0,
    measured): a process that opens many small pilots (the test suite, a calibration loop, a
    notebook comparing pilots) paid that for each. ``threads`` is the database's, set to one by
    each small pilot opened (:func:`_duckdb`, :data:`ONE_THREAD_BYTES`); larger pilots keep
    databases of their own. So are ``memory_limit`` and tables that are not temporary: a ``SET
    threads`` run on one small pilot's connection holds for all of them (the workbench sets none
    but ``threads``).
    """
    return duckdb.connect()


def _duckdb(path: Path | None, input_bytes: int | None = None) -> Any:
    small = input_bytes is not None and input_bytes < ONE_THREAD_BYTES
    if path:
        con = ibis.duckdb.connect(str(path), read_only=True)
    elif small:
        with _SMALL_PILOTS_LOCK:  # a caller may open pilots from threads of its own
            cursor = _small_pilots_database().cursor()
        con = ibis.duckdb.from_connection(cursor)
    else:
        con = ibis.duckdb.connect()
    # Each statement's result is fetched: DuckDB 2 refuses other work on a connection with one pending.
    con.raw_sql("SET TimeZone = 'UTC'").fetchall()
    if small:
        con.raw_sql("SET threads = 1").fetchall()  # sums in one order: byte-identical reruns (ONE_THREAD_BYTES)
        setattr(con, SMALL_INPUT, True)  # small: per-account outcomes stored once (metrics.accounts.outcomes)
    # DuckDB draws a progress bar on stdout for queries over 2 s: it would end up
    # in CLI tables and piped JSON of large pilots. Inside a Jupyter kernel DuckDB
    # refuses to change the setting without ipywidgets, and draws no text bar there.

    with contextlib.suppress(duckdb.InvalidInputException):
        con.raw_sql("SET enable_progress_bar = false").fetchall()
    return install(con)  # SQL compiled once per shape of query for every pilot of the process


# Spark's JVM logs WARN lines (native-hadoop library, loopback hostname, its default
# log4j profile, "Setting default log level") on the terminal before any
# setLogLevel: the driver gets this configuration at its start instead (errors
# only, on stderr). Spark's own logger is named: with a level of its own, equal
# to the root's, Spark does not print that it changed the level for Python.
_LOG4J2 = """\
rootLogger.level = error
logger.spark.name = org.apache.spark
logger.spark.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""


@functools.cache
def _log4j2_file() -> Path:
    """A log4j2 configuration for the Spark driver, written once per process (atomically)."""
    path = Path(tempfile.gettempdir()) / f"workbench-spark-log4j2-{zlib.crc32(_LOG4J2.encode()):08x}.properties"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".properties")
        with os.fdopen(fd, "w") as f:
            f.write(_LOG4J2)
        os.replace(tmp, path)
    return path


#: The local driver's JIT: the client compiler only (C1). A pilot's statistics are one query of
#: some forty stages over a few thousand rows, so the driver's time goes to planning them and to
#: compiling their generated code, which C2 compiles again at length. Measured on a 600-account
#: pilot (benchmarks/bench_spark_small.py): the session's first statistics took 62 s of CPU
#: with C2, 32 s without; each later one 14 s, 8.5 s.
_JIT = "-XX:TieredStopAtLevel=1"

#: Generated classes Spark keeps compiled (its default 100): a pilot's statistics generate about
#: 115, so with 100 every computation compiled them all again with Janino (about a quarter of
#: the driver's CPU); with room for them a second computation compiles almost none.
_CODEGEN_CACHE = 2000


def spark_session(memory: str = "1g") -> Any:
    """The active SparkSession, or a new local one with UTC session time.

    A new local session is tuned for small pilots (:data:`_JIT`, :data:`_CODEGEN_CACHE`; the pilots
    opened on it set :data:`SPARK_INTERPRETED_BYTES`'s mode); an
    active session (a cluster's) is used as it is configured, but for its time zone.

    Raises
    ------
    EngineError : pyspark is not installed, or Spark cannot start (most often
        no Java 17/21: ``JAVA_HOME`` unset or wrong).
    """
    try:
        from pyspark.sql import SparkSession  # Spark (and a JVM) only when the pyspark engine is asked for
    except ImportError:
        raise EngineError(["engine: pyspark is not installed: pip install pyspark, or use --backend duckdb"]) from None

    spark = SparkSession.getActiveSession()
    if spark is None and "PYSPARK_GATEWAY_PORT" not in os.environ:  # else a JVM is already there
        java = _java()
        if java is None:
            where = f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java" if os.environ.get("JAVA_HOME") else "no java on PATH"
            raise EngineError(
                [f"engine: Spark needs Java 17 or 21 ({where}): install one and set JAVA_HOME, or use --backend duckdb"]
            )
    if spark is None:
        try:
            spark = (
                SparkSession.builder.master("local[2]")
                .appName("workbench")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.driver.memory", memory)
                .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{_log4j2_file()} {_JIT}")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.codegen.cache.maxEntries", str(_CODEGEN_CACHE))
                .getOrCreate()
            )
            if spark.sparkContext.appName == "workbench":  # not a session of the user's that getOrCreate returned
                _OWN_SPARK[:] = [spark]
                _SPARK_LARGEST[:] = [0]
        except Exception as exc:  # the JVM did not start: no Java, a wrong JAVA_HOME, no memory
            raise EngineError(
                [
                    f"engine: Spark could not start ({first_line(exc)}); it needs Java 17 or 21 "
                    f"(found: {_java()}) and memory for its driver: set JAVA_HOME, or use --backend duckdb"
                ]
            ) from None
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    # pandas writes nanosecond timestamps, which Spark refuses to read as timestamps;
    # read them as longs and convert them in _read_parquet (the most common Parquet there is).
    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    spark.sparkContext.setLogLevel("ERROR")
    return spark


#: Pilots whose input files total fewer bytes are computed by the local Spark session's interpreted
#: expressions, without generated code. A pilot's statistics are one query of some forty stages,
#: which Spark compiles into about 115 classes (Janino, then the JVM's JIT) before it reads a row:
#: on a few thousand rows that compilation is most of the driver's work, on many rows the
#: interpreted expressions cost more than it. Measured (benchmarks/bench_spark_small.py --accounts,
#: CPU of the process and its JVM, docs/scale.md): 600 accounts, the session's first statistics
#: 19.8 s against 27.8 s with generated code, later ones 7.4-8.0 s against 9.0-9.4 s; 8,000 accounts
#: (1.8 MiB) 26.3 s against 31.1 s, an analysis's statistics 18.4 s against 17.9 s; 100,000 accounts
#: (20.9 MiB) twice the time interpreted. The statistics are equal either way. A session that is not
#: the workbench's own (a cluster's) is left as it is configured. ``factoryMode`` is a setting Spark
#: documents as internal (its own tests run both modes): a Spark that drops it generates code, as before.
SPARK_INTERPRETED_BYTES = 2 * 2**20

#: The local session :func:`spark_session` started, if it did (empty: none yet, or the user's session was active).
_OWN_SPARK: list[Any] = []

#: The largest input of a pilot opened on that session (None: one of unknown size).
_SPARK_LARGEST: list[int | None] = [0]


def _spark_for(spark: Any, input_bytes: int | None) -> Any:
    """``spark``, set to interpret expressions while every pilot opened on it is small, when it is
    the workbench's own session.

    The settings are the session's and Spark reads them when a query runs, not when a pilot is
    opened: a pilot opened earlier and computed later runs in the mode set last. So the choice only
    moves one way: once a larger pilot (or one of unknown size) is opened, the session generates
    code for every pilot, a small one then computed as before this choice existed, never a large
    one interpreted (twice its time at 100,000 accounts).
    """
    if spark in _OWN_SPARK:
        largest = _SPARK_LARGEST[0]
        largest = None if input_bytes is None or largest is None else max(largest, input_bytes)
        _SPARK_LARGEST[:] = [largest]
        small = largest is not None and largest < SPARK_INTERPRETED_BYTES
        spark.conf.set("spark.sql.codegen.wholeStage", "false" if small else "true")
        spark.conf.set("spark.sql.codegen.factoryMode", "NO_CODEGEN" if small else "FALLBACK")
    return spark


def _java() -> str | None:
    """The java that Spark's launcher would run (``$JAVA_HOME/bin/java``, else java on PATH), if it exists."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        return str(java) if java.is_file() else None
    return shutil.which("java")


def _read_csv(con: Any, backend: str, path: Path, name: str, view: str, mapping: Mapping | None = None) -> Any:
    """Read a CSV in place, every column as text (as a spreadsheet export is): the contract's types
    are given by :func:`normalize` and checked by validation, with one set of rules whatever the engine.

    DuckDB's sniffer would otherwise type ``2026-03-02T01:30:00+02:00`` as a
    naive timestamp and drop the offset, read ``007`` as 7, or fail a whole
    column on one stray ``n/a``; short rows are padded with nulls.
    """
    if backend != "duckdb":
        return con.read_csv(str(path), table_name=view, inferSchema=False, header=True, **_spark_text_schema(path))
    return con.read_csv(str(path), table_name=view, all_varchar=True, header=True, null_padding=True)


def _spark_text_schema(path: Path) -> dict[str, Any]:
    """Spark's ``schema`` option for a CSV read all as text, from its header line as we read it.

    Without a schema Spark runs a job to read the header of every file it is given (about a
    second each on a local driver); with one it reads nothing until a query does. Only for
    headers Spark would read the same way: plain names, each once (Spark renames repeated or
    empty names itself); any other header is left to Spark.
    """
    try:
        names = csv_header(path)
    except (OSError, UnicodeDecodeError, EOFError):
        return {}
    if not names or len(set(names)) != len(names) or not all(_PLAIN_NAME.fullmatch(n) for n in names):
        return {}
    from pyspark.sql.types import StringType, StructField, StructType  # Spark only: loaded with its session

    return {"schema": StructType([StructField(n, StringType()) for n in names])}


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


def _connect(backend: str, duck_file: Path | None = None, input_bytes: int | None = None) -> Any:
    if backend == "duckdb":
        return _duckdb(duck_file, input_bytes)
    if backend == "pyspark":
        return ibis.pyspark.connect(_spark_for(spark_session(), input_bytes))
    raise EngineError([f"engine: unknown backend {backend!r} (duckdb, pyspark, or source.kind ibis in pilot.yml)"])


# (file, mtime, size) -> folder of Parquet copies; removed when the process exits.
_EXPORTS: dict[tuple[str, int, int], Path] = {}


def _duckdb_as_parquet(db: Path) -> dict[str, Path]:
    """The contract tables of a DuckDB file, copied into temporary Parquet files (for Spark).

    The file is opened read-only and each table streamed out by DuckDB's
    ``COPY ... TO`` (no pandas, no whole table in memory); Spark then reads
    the copies lazily like any Parquet folder. The copies live until the
    process exits (Spark reads them when a query runs) and are made once per
    version of the file. They are local files: a Spark cluster whose
    executors do not share this machine's disk needs the pilot as Parquet on
    shared storage instead.
    """
    st = db.stat()
    key = (str(db.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _EXPORTS:
        folder = Path(tempfile.mkdtemp(prefix="workbench-duckdb-"))
        atexit.register(shutil.rmtree, folder, True)
        try:
            con = duckdb.connect(str(db), read_only=True)
        except duckdb.Error as exc:
            raise EngineError(
                [f"engine: unreadable DuckDB file {db.name} ({first_line(exc)}); run `workbench validate`"]
            ) from None
        try:
            con.execute("SET TimeZone = 'UTC'")
            present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            for name in TABLES:
                if name in present:
                    target = str(folder / f"{name}.parquet").replace("'", "''")
                    con.execute(f"COPY \"{name}\" TO '{target}' (FORMAT parquet)")
        except duckdb.Error as exc:
            raise EngineError([f"engine: cannot read DuckDB file {db.name} ({first_line(exc)})"]) from None
        finally:
            con.close()
        _EXPORTS[key] = folder
    return {p.stem: p for p in sorted(_EXPORTS[key].glob("*.parquet"))}


def _cut(text: str) -> str:
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + f"... ({len(text):,} characters)"


def _no_header(path: Path) -> bool:
    try:
        return not any(c.strip() for c in csv_header(path))
    except (OSError, UnicodeDecodeError, EOFError):
        return False  # the engine says what is wrong with it


def read_tables(loc: Location, backend: str = "duckdb") -> tuple[Any, dict[str, Any], list[Problem]]:
    """Connect to the engine and open every table ``loc`` found, as read (no mapping, no types).

    Returns ``(connection, {table: ibis table}, problems)``: a file the engine
    cannot read, a CSV beyond the bounded-read limits (checked before any
    engine sees it), a DuckDB file that does not open, a server that does not
    answer are problems naming the file, not exceptions. Spark that cannot
    start raises :class:`EngineError` (nothing of the pilot is at fault).
    """
    problems: list[Problem] = []
    raw: dict[str, Any] = {}
    if loc.kind == "ibis":
        # A DuckDB file by URL is opened read-only, as a DuckDB file pilot is: nothing is written to the
        # source, and the other read-only connections of the process (the engine's) can open it too.
        options = {"read_only": True} if loc.url.startswith("duckdb://") else {}
        try:
            con = ibis.connect(loc.url, **options)
        except Exception as exc:  # the driver's own errors (psycopg, ...): no common base class
            return None, {}, [Problem("pilot.yml", "source.url", connect_failure(loc.url, exc))]
        for name in TABLES:
            # Table by table, not list_tables(): that fails on some backend/driver pairs
            # (ibis 12 with duckdb 2), and an absent optional table is no error.
            try:
                raw[name] = con.table(name, database=loc.schema) if loc.schema else con.table(name)
            except Exception:
                continue
        return con, raw, problems
    if loc.kind == "duckdb" and not loc.db.is_file():
        return None, {}, []  # resolve() said so already
    if loc.kind == "duckdb" and backend == "duckdb":
        try:
            con = _connect(backend, loc.db, loc.db.stat().st_size)
        except duckdb.Error as exc:  # a truncated or corrupt file
            return None, {}, [Problem("pilot.yml", "source.path", f"unreadable DuckDB file {loc.db.name}: {first_line(exc)}")]
        try:
            # Not con.list_tables(): ibis 12 calls a cursor method DuckDB 2.0 removed.
            present = {r[0] for r in con.raw_sql("SELECT table_name FROM information_schema.tables").fetchall()}
        except duckdb.Error as exc:  # a file that opens but fails on first read
            line = f"unreadable DuckDB file {loc.db.name}: {_cut(first_line(exc, limit=1_000_000))}"
            return None, {}, [Problem("pilot.yml", "source.path", line)]
        setattr(con, INPUT_FILES, (loc.db,))
        return con, {name: con.table(name) for name in TABLES if name in present}, problems
    if loc.kind == "duckdb":  # Spark: the file's tables, copied out as Parquet
        try:
            files = _duckdb_as_parquet(loc.db)
        except EngineError as err:
            problems = [Problem("pilot.yml", "source.path", p.line().removeprefix("ERROR engine: ")) for p in err.problems]
            return _connect(backend), {}, problems
    else:
        files = loc.files
    # The bytes the engine reads (a DuckDB file's Parquet copies, not the file with its fixed overhead).
    con = _connect(backend, input_bytes=sum(f.stat().st_size for f in files.values()))
    mapping = Mapping.of(loc.config)
    # Unique view names: several pilots can share one Spark session.
    tag = f"{zlib.crc32(str((loc.db or loc.folder).resolve()).encode()):08x}"
    for name, file in files.items():
        if is_csv(file) and (problem := csv_bounds(name, file)) is not None:
            problems.append(problem)
            continue
        if is_csv(file) and _no_header(file):  # DuckDB would read an empty file as one unnamed column
            problems.append(Problem(name, "", f"unreadable file {file.name}: No columns to parse from file"))
            continue
        view = f"{name}_{tag}"
        try:
            if is_csv(file):
                raw[name] = _read_csv(con, backend, file, name, view, mapping)
            else:
                raw[name] = _read_parquet(con, backend, file, view)
        except Exception as exc:  # the user's file, not our code (each engine raises its own types)
            problems.append(Problem(name, "", f"unreadable file {file.name}: {first_line(exc)}"))
    if backend == "duckdb":
        setattr(con, INPUT_FILES, tuple(files.values()))
    return con, raw, problems


def open_location(loc: Location, backend: str = "duckdb") -> tuple[Pilot | None, list[Problem]]:
    """Open a located pilot for validation: the pilot (None when no engine could open anything) and every
    problem met reading it (``loc.problems`` first: a folder with two files for one table still opens the first)."""
    con, raw, problems = read_tables(loc, backend)
    problems = list(loc.problems) + problems
    if con is None:
        return None, problems
    return _opened(loc, con, raw, backend), problems


def _opened(loc: Location, con: Any, raw: dict[str, Any], backend: str) -> Pilot:
    mapping = Mapping.of(loc.config)
    tables = {name: normalize(t, name, mapping) for name, t in raw.items()}
    notes = [f"table {name!r} absent: skipped {spec.unlocks}" for name, spec in TABLES.items() if name not in tables]
    return Pilot(config=loc.config, tables=tables, con=con, root=loc.root, notes=notes, raw=raw, backend=backend)


def open_pilot(pilot: str | Path | PilotConfig, backend: str = "duckdb") -> Pilot:
    """Open a pilot's tables as ibis tables.

    Parameters
    ----------
    pilot : a folder holding pilot.yml, a path to pilot.yml, a ``.duckdb`` file
        with pilot.yml beside it, or an already loaded :class:`PilotConfig`
        (then ``source.path`` must be absolute, or ``source.kind`` ibis).
    backend : ``duckdb`` (default) or ``pyspark`` for folder and DuckDB
        sources (Spark reads a DuckDB file through temporary Parquet copies);
        ignored when ``source.kind`` is ``ibis`` (the URL decides).

    Raises
    ------
    EngineError, workbench.errors.ConfigError : one line per problem (a
        missing folder or DuckDB file, two files for one table, no accounts,
        Spark that cannot start, a server that cannot be reached).
    """
    try:
        loc = resolve(pilot)
    except PilotError as err:
        raise EngineError(err.problems) from None
    if loc.problems:
        raise EngineError(loc.problems)
    con, raw, problems = read_tables(loc, backend)
    if problems:
        raise EngineError([p if p.table != "pilot.yml" or p.column != "source.url" else f"engine: {p.rule}" for p in problems])
    where = f" in schema {loc.schema!r} of {safe_url(loc.url)}" if loc.kind == "ibis" and loc.schema else ""
    where = where or (f" at {safe_url(loc.url)}" if loc.kind == "ibis" else "")
    missing = [f"engine: required table {n!r} not found{where}" for n, t in TABLES.items() if t.required and n not in raw]
    if missing:
        raise EngineError(missing)
    return _opened(loc, con, raw, backend)
