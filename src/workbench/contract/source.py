"""One way in: locate a pilot, find its table files, and read them for validation.

Every verb opens a pilot through this module. :func:`resolve` turns what the
user typed (a folder, its ``pilot.yml``, a ``.duckdb`` file, or a pilot.yml
whose ``source:`` names a folder, a DuckDB file or an ibis URL) into a
:class:`Location`; the file-name rules (one file per table: ``<table>.parquet``,
``<table>.csv`` or ``<table>.csv.gz``) live here once, so the ibis engine
(:func:`workbench.metrics.engine.open_pilot`), the run manifest and the pandas
reader below accept exactly the same files.

Loading is read-only: files are opened for reading and DuckDB files with
``read_only=True``; nothing is ever written next to the input. Every problem
met while reading (missing or unreadable file, two files for one table,
missing required column, value of the wrong type, unparseable timestamp)
becomes a :class:`Problem`, never an exception, so that validation can list
them all.
"""

from __future__ import annotations

import csv
import gzip
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd

from workbench.contract.config import ConfigError, PilotConfig, load_config
from workbench.contract.hints import missing_column_rule, shown_values, timestamp_hint, unmatched_renames
from workbench.contract.mapping import Mapping, map_values_frame, number_text, rename_frame, timestamp_text
from workbench.contract.tables import TABLES, Table
from workbench.errors import PilotError, Problem

EXAMPLES = 3  # example ids per problem line
EXAMPLE_CHARS = 40  # an example longer than this is cut: a 50 MB cell must not become a 50 MB line

# Bounded reads: a hostile or broken export must fail in seconds with one line, not hang or fill memory.
MAX_COLUMNS = 500  # header width
MAX_LINE_BYTES = 1 << 20  # one CSV line (1 MiB)
MAX_CELL_CHARS = 10_000  # one value

# The table file names a folder pilot may hold, in order of preference.
SUFFIXES = (".parquet", ".csv", ".csv.gz")
DUCKDB_SUFFIXES = (".duckdb", ".db")


@dataclass
class Pilot:
    """A loaded pilot: its configuration and the typed tables that were found."""

    config: PilotConfig
    tables: dict[str, pd.DataFrame]
    root: Path
    files: dict[str, Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # (table, column) -> index of rows whose value did not parse and was set to null
    unparsed: dict[tuple[str, str], pd.Index] = field(default_factory=dict)


@dataclass
class Location:
    """Where a pilot's tables live, resolved once for every reader.

    ``kind`` is ``folder`` (``files`` maps each table found to its one file),
    ``duckdb`` (``db``) or ``ibis`` (``url`` and ``schema``). ``problems`` are
    the errors met while locating (folder or DuckDB file missing, two files
    for one table); readers report them and do not guess.
    """

    config: PilotConfig
    kind: str
    root: Path | None = None
    yml: Path | None = None
    folder: Path | None = None
    db: Path | None = None
    url: str | None = None
    schema: str | None = None
    files: dict[str, Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def locate(path: str | Path) -> tuple[Path, Path]:
    """Return ``(root folder, pilot.yml path)`` for a folder, a yml, or a DuckDB file.

    A DuckDB file's configuration is the ``pilot.yml`` in the same folder.
    """
    path = Path(path)
    if path.is_dir():
        return path, path / "pilot.yml"
    if path.suffix in (".yml", ".yaml"):
        return path.parent, path
    if path.suffix in DUCKDB_SUFFIXES:
        return path.parent, path.parent / "pilot.yml"
    return path, path / "pilot.yml"


def duckdb_file(path: str | Path) -> Path | None:
    """The DuckDB file the user named (it wins over pilot.yml's ``source``), else None."""
    p = Path(path)
    return p if p.suffix in DUCKDB_SUFFIXES and not p.is_dir() else None


def table_files(folder: Path) -> dict[str, list[Path]]:
    """Every table file in ``folder``, per contract table (in :data:`SUFFIXES` order).

    Any entry of that name counts (a FIFO or a link too), so that
    :func:`refused` can say why it is not read rather than "not found".
    """
    found = {name: [folder / f"{name}{suffix}" for suffix in SUFFIXES] for name in TABLES}
    return {name: hits for name, paths in found.items() if (hits := [p for p in paths if os.path.lexists(p)])}


def refused(path: Path, folder: Path) -> str | None:
    """Why a table file is not read, or None: only regular files, and no link leaving ``folder``.

    A FIFO blocks the reader forever and a link to ``/dev/zero`` never ends;
    a link out of the pilot reads a file the user did not hand over.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"{path.name}: unreadable ({exc.strerror})"
    if not stat.S_ISREG(mode):
        return f"{path.name}: not a regular file (a FIFO, device, socket or folder); refused"
    if path.is_symlink() and not path.resolve().is_relative_to(folder.resolve()):
        return f"{path.name}: a link to a file outside the pilot folder; refused"
    return None


def pick_files(folder: Path) -> tuple[dict[str, Path], list[Problem]]:
    """The one file per table, and an error for each table that has two or more.

    With two files the reader cannot know which one is the table (a stale
    export beside a new one gives other numbers): it is an error for every
    verb. ``files`` still holds the first, so validation can list that file's
    other problems too; the engine refuses to open the pilot.
    """
    files, problems = {}, []
    for name, hits in table_files(folder).items():
        for p in hits:
            if (why := refused(p, folder)) is not None:
                problems.append(Problem(name, "", why))
        if any(refused(p, folder) for p in hits):
            continue
        files[name] = hits[0]
        if len(hits) > 1:
            names = ", ".join(p.name for p in hits)
            problems.append(Problem(name, "", f"one file per table; found {names}: keep one"))
    return files, problems


def is_csv(path: Path) -> bool:
    """Whether a table file is CSV text (``.csv`` or gzipped ``.csv.gz``), not Parquet."""
    return path.name.endswith((".csv", ".csv.gz"))


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV table file, gzipped or not."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])


def resolve(path: str | Path | PilotConfig) -> Location:
    """Locate a pilot: its configuration and where its tables are.

    Parameters
    ----------
    path : a pilot folder, its ``pilot.yml``, a ``.duckdb`` file with pilot.yml
        beside it, or a loaded :class:`PilotConfig` (then ``source.path`` must
        be absolute, or ``source.kind`` ibis).

    Raises
    ------
    PilotError : the pilot or its pilot.yml is missing; ConfigError : pilot.yml is invalid.
    """
    if isinstance(path, PilotConfig):
        config, root, yml, named_db = path, None, None, None
    else:
        root, yml = locate(path)
        if not root.exists():
            raise PilotError([Problem("pilot", "", f"not found: {path}")])
        config, named_db = load_config(yml), duckdb_file(path)
    src = config.source
    loc = Location(config=config, kind=src.kind, root=root, yml=yml)
    if src.kind == "ibis" and named_db is None:
        loc.url, loc.schema = src.url, src.schema_
        return loc
    base = root / src.path if root is not None and src.path else Path(src.path) if src.path else root
    if named_db is not None or src.kind == "duckdb":
        loc.kind, loc.db = "duckdb", named_db or base
        if not loc.db.is_file():
            loc.problems.append(Problem("pilot.yml", "source.path", f"DuckDB file not found: {loc.db}"))
        return loc
    if base is None:
        raise PilotError([Problem("pilot.yml", "source.path", "a pilot.yml without a file needs source.path")])
    loc.folder = base
    if not base.is_dir():
        loc.problems.append(Problem("pilot.yml", "source.path", f"pilot folder not found: {base}"))
        return loc
    loc.files, loc.problems = pick_files(base)
    return loc


def input_files(path: str | Path) -> list[Path]:
    """pilot.yml and every file the pilot's tables are read from (all table files found, or the DuckDB file)."""
    _, yml = locate(path)
    files = [yml] if yml.is_file() else []
    try:
        loc = resolve(path)
    except (ConfigError, PilotError):
        return files  # nothing readable to record; the run itself reports why
    if loc.kind == "folder" and loc.folder is not None and loc.folder.is_dir():
        files += [p for hits in table_files(loc.folder).values() for p in hits]
    elif loc.kind == "duckdb" and loc.db is not None and loc.db.is_file():
        files.append(loc.db)
    return files


def examples(ids: pd.Series, n: int = EXAMPLES) -> tuple[str, ...]:
    """A few distinct example ids, as strings cut to :data:`EXAMPLE_CHARS`, for an error line."""
    return tuple(_cut(str(x)) for x in pd.unique(ids.astype("string").fillna("<null>"))[:n])


def _cut(text: str) -> str:
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + f"... ({len(text):,} characters)"


def row_labels(df: pd.DataFrame, table: Table, mask: pd.Series) -> pd.Series:
    """Ids of the rows in ``mask``: the table's key, else account_id, else row numbers (1-based)."""
    for col in (table.key, "account_id"):
        if col and col in df.columns:
            return df.loc[mask, col]
    return pd.Series([f"row {i + 1}" for i in np.flatnonzero(mask.to_numpy())], dtype="string")


# --- reading ---------------------------------------------------------------


def read_file(name: str, path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one table file with pandas (Parquet, CSV or gzipped CSV); an unreadable file is a problem."""
    if is_csv(path) and (problem := csv_bounds(name, path)) is not None:
        return None, [problem]
    try:
        if is_csv(path):
            # Everything as text first: types are checked column by column below,
            # so a stray "n/a" becomes one problem line instead of a parser crash.
            # pandas infers gzip from the ".gz" suffix, as DuckDB and Spark do.
            df = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
        else:
            df = pd.read_parquet(path)
    except Exception as exc:
        msg = str(exc).splitlines()[0][:160] if str(exc) else exc.__class__.__name__
        return None, [Problem(name, "", f"unreadable file {path.name}: {msg}")]
    return df, []


def csv_bounds(name: str, path: Path) -> Problem | None:
    """The first line longer than :data:`MAX_LINE_BYTES`, a header wider than :data:`MAX_COLUMNS`
    or a column named twice, as a problem; None when the file is within bounds.

    Reads line by line with a bounded ``readline``: memory stays at one line
    whatever the file holds (pandas would read a 50 MB header whole, slowly).
    """
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            number = 0
            while line := fh.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(line) > MAX_LINE_BYTES:
                    return Problem(name, "", f"{path.name}: line {number:,} longer than {MAX_LINE_BYTES:,} bytes; refused")
                if number == 1:
                    header = next(csv.reader([line.decode("utf-8", errors="replace")]), [])
                    if len(header) > MAX_COLUMNS:
                        return Problem(name, "", f"{path.name}: {len(header):,} columns, more than {MAX_COLUMNS}; refused")
                    twice = sorted({_cut(c) for c in header if header.count(c) > 1})
                    if twice:
                        return Problem(name, "", f"{path.name}: column named twice in the header: {', '.join(twice)}")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        return Problem(name, "", f"unreadable file {path.name}: {exc.__class__.__name__}")
    return None


def long_cells(name: str, df: pd.DataFrame) -> list[Problem]:
    """Values longer than :data:`MAX_CELL_CHARS` characters, one problem per column (examples cut)."""
    out = []
    for col in df.columns:
        s = df[col]
        if not (pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s)):
            continue
        long = s.astype("string").str.len().fillna(0) > MAX_CELL_CHARS
        if long.any():
            rows = [f"row {i + 1}" for i in np.flatnonzero(long.to_numpy())[:EXAMPLES]]
            out.append(Problem(name, str(col), f"at most {MAX_CELL_CHARS:,} characters", int(long.sum()), tuple(rows)))
    return out


def non_finite(name: str, col: str, raw: pd.Series, typed: pd.Series) -> tuple[Problem | None, pd.Series]:
    """Values that parse as numbers but are not finite (``inf``, ``Infinity``, ``1e309``, NaN from a
    typed source) as a problem naming the values; returns the problem and the mask of those rows."""
    values = typed.astype("float64") if typed.dtype != object else pd.to_numeric(typed, errors="coerce")
    arr = values.to_numpy(dtype="float64", na_value=np.nan)
    bad = pd.Series(np.isinf(arr), index=typed.index)
    if pd.api.types.is_float_dtype(raw):
        bad |= raw.isna() & pd.Series(np.isnan(raw.to_numpy(dtype="float64", na_value=0.0)), index=raw.index)
    else:  # text: "nan" parses to a number here and must not pass as a missing value
        text = raw.astype("string").str.strip().str.lower()
        bad |= text.isin(["nan", "+nan", "-nan"]).fillna(False).astype(bool)
    if not bad.any():
        return None, bad
    shown = examples(raw[bad].astype("string"))
    return Problem(name, col, "a finite number", int(bad.sum()), shown), bad


def _read_duckdb(db: Path, names: list[str]) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    import duckdb  # only DuckDB-file pilots need it; validating a folder stays light

    try:
        con = duckdb.connect(str(db), read_only=True)
    except Exception as exc:
        return {}, [Problem("pilot.yml", "source.path", f"unreadable DuckDB file {db.name}: {str(exc).splitlines()[0][:160]}")]
    out: dict[str, pd.DataFrame] = {}
    try:
        con.execute("SET TimeZone='UTC'")
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        for name in names:
            if name in present:
                out[name] = con.execute(f'SELECT * FROM "{name}"').to_arrow_table().to_pandas()
    except Exception as exc:  # a truncated or corrupt file fails on first read, not on connect
        return {}, [
            Problem("pilot.yml", "source.path", f"unreadable DuckDB file {db.name}: {_cut(first_line(exc, limit=1_000_000))}")
        ]
    finally:
        con.close()
    return out, []


def first_line(exc: BaseException, limit: int = 160) -> str:
    """The first non-empty line of an exception's message (its class name if none)."""
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()]
    return (lines[0] if lines else exc.__class__.__name__)[:limit]


def safe_url(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***`` (it goes into messages)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return url.split("://", 1)[0] + "://..."


def connect_failure(url: str, exc: BaseException) -> str:
    """One line for a connection URL that ``ibis.connect`` could not open, saying what to do.

    A scheme no ibis backend knows, a backend whose driver is missing, and a
    server that refuses or does not answer each get their own advice.
    """
    safe = safe_url(url)
    scheme = urlsplit(url).scheme if "://" in url else ""
    if isinstance(exc, ValueError) and "know how to connect" in str(exc):
        return (
            f"unknown connection URL {safe!r} in source.url: use an ibis backend URL "
            "such as postgres://user@host:5432/db or duckdb:///path/pilot.duckdb"
        )
    if isinstance(exc, ImportError):
        return f"source.url {safe!r} needs the {scheme} backend: pip install 'ibis-framework[{scheme}]'"
    detail = first_line(exc).replace(url, safe)
    password = urlsplit(url).password if "://" in url else None
    if password:  # a driver may echo its connection string
        detail = detail.replace(password, "***")
    return (
        f"cannot connect to {safe} ({detail}): is the server running and reachable, "
        "and are the host, port, user and database in source.url right?"
    )


def _read_ibis(url: str, schema: str | None, names: list[str]) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    import ibis  # only warehouse pilots need it (and its backend drivers)

    try:
        con = ibis.connect(url)
    except Exception as exc:
        return {}, [Problem("pilot.yml", "source.url", connect_failure(url, exc))]
    out: dict[str, pd.DataFrame] = {}
    for name in names:
        # Table by table rather than list_tables(): a missing optional table is not an error,
        # and list_tables() fails on some backend/driver pairs (ibis 12 with duckdb 2).
        try:
            t = con.table(name, database=schema) if schema else con.table(name)
        except Exception:
            continue
        try:
            out[name] = t.to_pyarrow().to_pandas()
        except Exception as exc:
            return out, [Problem(name, "", f"cannot read from {safe_url(url)}: {first_line(exc)}")]
    return out, []


# --- typing ----------------------------------------------------------------

_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def _to_timestamp(s: pd.Series, fmt: str | None = None) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.tz_localize("UTC").astype("datetime64[us, UTC]")  # naive is read as UTC
    return timestamp_text(s.astype("string").str.strip(), fmt).astype("datetime64[us, UTC]")


def _to_bool(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    text = s.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[text.isin(_TRUE)] = True
    out[text.isin(_FALSE)] = False
    return out


def coerce(
    name: str, df: pd.DataFrame, mapping: Mapping | None = None
) -> tuple[pd.DataFrame, list[Problem], dict[str, pd.Index]]:
    """Give each contract column its type; values that do not parse become problems.

    ``mapping`` (pilot.yml ``columns``, ``values``, ``timestamp_format``) is
    applied first: renamed columns, thousands commas, the timestamp format,
    then mapped values (:mod:`workbench.contract.mapping`). A problem line
    shows up to three offending values of numbers, timestamps and booleans.

    Returns the typed frame (contract columns in contract order, then any extra
    columns untouched), the problems, and per column the index of the rows
    whose value failed to parse: they are set to null, and the not-null rule
    must not report them a second time.
    """
    table = TABLES[name]
    mapping = mapping or Mapping()
    problems: list[Problem] = []
    unparsed: dict[str, pd.Index] = {}
    problems += unmatched_renames(name, [str(c) for c in df.columns], mapping)
    df = rename_frame(name, df, mapping)
    out = df.copy()
    for col, spec in table.columns.items():
        if col not in out.columns:
            if spec.required:
                problems.append(Problem(name, col, missing_column_rule(name, col, [str(c) for c in df.columns])))
            continue
        raw = out[col]
        if pd.api.types.is_object_dtype(raw) or pd.api.types.is_string_dtype(raw):
            present = raw.notna() & (raw.astype("string").str.strip() != "")
        else:  # typed columns (Parquet, DuckDB): no blank strings, and formatting them as text is slow
            present = raw.notna()
        if spec.kind == "string":
            typed = raw.astype("string").str.strip()
            typed = typed.where(typed != "", pd.NA)
            what = None
        elif spec.kind == "timestamp":
            typed = _to_timestamp(raw, mapping.timestamp_format)
            what = "parseable timestamp (ISO 8601, read in UTC)"
            if mapping.timestamp_format:
                what = f"parseable timestamp (timestamp_format {mapping.timestamp_format!r}, read in UTC)"
        elif spec.kind in ("float", "int"):
            if raw.dtype == bool:
                typed = raw.astype(float)
            elif pd.api.types.is_object_dtype(raw) or pd.api.types.is_string_dtype(raw):
                typed = pd.to_numeric(number_text(raw), errors="coerce")
            else:
                typed = pd.to_numeric(raw, errors="coerce")
            problem, inf = non_finite(name, col, raw, typed)
            if problem is not None:  # reported with its values, then nulled like any unparsed value
                problems.append(problem)
                typed = typed.where(~inf, np.nan)
                unparsed[col] = df.index[inf.to_numpy()]
                present = present & ~inf
            typed = typed.astype("Float64")
            what = "a number"
            if spec.kind == "int":
                frac = typed.notna() & (typed != typed.round())
                if frac.any():
                    problems.append(Problem(name, col, "an integer", int(frac.sum()), shown_values(raw[frac])))
                    typed = typed.where(~frac, pd.NA)
                    unparsed[col] = unparsed.get(col, pd.Index([])).union(df.index[frac.to_numpy()])
                typed = typed.round().astype("Int64")
        else:
            typed, what = _to_bool(raw), "a boolean (true/false)"
        if what:
            bad = present & typed.isna()
            if col in unparsed:  # a fraction in an integer column: reported once, as not an integer
                bad &= ~df.index.isin(unparsed[col])
            if bad.any():
                if spec.kind == "timestamp" and not mapping.timestamp_format and not pd.api.types.is_datetime64_any_dtype(raw):
                    what += "; " + timestamp_hint(raw[bad], None)  # which timestamp_format, when the values tell
                problems.append(Problem(name, col, what, int(bad.sum()), shown_values(raw[bad])))
                unparsed[col] = unparsed.get(col, pd.Index([])).union(df.index[bad.to_numpy()])
        out[col] = typed
    out = map_values_frame(name, out, mapping)
    ordered = [c for c in table.columns if c in out.columns] + [c for c in out.columns if c not in table.columns]
    return out[ordered], problems, unparsed


# --- the loader ------------------------------------------------------------


def read_pilot(path: str | Path) -> Pilot:
    """Read configuration and tables, collecting problems instead of raising.

    The tables are the ones :func:`resolve` finds, the same the engine opens.
    Raises :class:`PilotError` only when not even pilot.yml can be read.
    """
    try:
        loc = resolve(path)
    except ConfigError as err:
        # The message of each problem, not its printed line (which now starts with "ERROR").
        raise PilotError([Problem("pilot.yml", "", p.rule.removeprefix("pilot.yml: ")) for p in err.problems]) from None
    problems: list[Problem] = list(loc.problems)
    raw: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    names = list(TABLES)
    if loc.kind == "folder":
        for name, file in loc.files.items():
            df, probs = read_file(name, file)
            problems += probs
            files[name] = file
            if df is not None:
                raw[name] = df
    elif loc.kind == "duckdb":
        if not loc.problems:
            raw, probs = _read_duckdb(loc.db, names)
            problems += probs
            files = dict.fromkeys(raw, loc.db)
    else:
        raw, probs = _read_ibis(loc.url, loc.schema, names)
        problems += probs
    tables: dict[str, pd.DataFrame] = {}
    unparsed: dict[tuple[str, str], pd.Index] = {}
    mapping = Mapping.of(loc.config)
    for name, df in raw.items():
        problems += long_cells(name, df)
        typed, probs, bad = coerce(name, df, mapping)
        tables[name] = typed
        problems += probs
        unparsed |= {(name, col): idx for col, idx in bad.items()}
    if "accounts" not in raw and not any(p.table in ("accounts", "pilot.yml") for p in problems):
        wanted = " or ".join(f"accounts{s}" for s in SUFFIXES) if loc.kind == "folder" else "table accounts"
        problems.append(Problem("accounts", "", f"required table not found ({wanted})"))
    return Pilot(config=loc.config, tables=tables, root=loc.root, files=files, problems=problems, unparsed=unparsed)
