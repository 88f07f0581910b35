"""One way in: locate a pilot and find its table files; bounded reads; the wording of example ids.

Every verb opens a pilot through this module. :func:`resolve` turns what the
user typed (a folder, its ``pilot.yml``, a ``.duckdb`` file, or a pilot.yml
whose ``source:`` names a folder, a DuckDB file or an ibis URL) into a
:class:`Location`; the file-name rules (one file per table: ``<table>.parquet``,
``<table>.csv`` or ``<table>.csv.gz``) live here once, so the ibis engine
(:func:`workbench.contract.engine.open_pilot`), validation and the run
manifest accept exactly the same files.

Loading is read-only: files are opened for reading and DuckDB files with
``read_only=True``; nothing is ever written next to the input. Every problem
met while locating (missing folder, two files for one table, a FIFO or a link
out of the pilot) and every CSV beyond the bounded-read limits
(:func:`csv_bounds`, checked before any engine reads the file) becomes a
:class:`Problem`, never an exception, so that validation can list them all.
"""

from __future__ import annotations

import csv
import gzip
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from workbench.contract.config import ConfigError, PilotConfig, load_config
from workbench.contract.tables import TABLES
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


def file_state(f: Path) -> tuple[str, int, int]:
    """A file's path, size and modification time in ns: how make and DVC tell a changed input.

    Raises OSError when the file cannot be read."""
    st = f.stat()
    return str(f.resolve()), st.st_size, st.st_mtime_ns


def input_files(path: str | Path, loc: Location | None = None) -> list[Path]:
    """pilot.yml and every file the pilot's tables are read from (all table files found, or the DuckDB file).

    ``loc`` is ``resolve(path)`` when the caller has it already (pilot.yml is then not read again).
    """
    _, yml = locate(path)
    files = [yml] if yml.is_file() else []
    try:
        loc = loc or resolve(path)
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


# --- bounded reads ---------------------------------------------------------


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
