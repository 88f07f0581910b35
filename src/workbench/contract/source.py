"""Load a pilot (data contract v1) from a folder, a pilot.yml, or a DuckDB file.

Loading is read-only: files are opened for reading and DuckDB files with
``read_only=True``; nothing is ever written next to the input. Every problem
met while reading (missing or unreadable file, missing required column, value
of the wrong type, unparseable timestamp) becomes a :class:`Problem`, never an
exception, so that validation can list them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.contract.config import ConfigError, PilotConfig, load_config
from workbench.contract.tables import TABLES, Table
from workbench.errors import PilotError, Problem

EXAMPLES = 3  # example ids per problem line


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


def locate(path: str | Path) -> tuple[Path, Path]:
    """Return ``(root folder, pilot.yml path)`` for a folder, a yml, or a DuckDB file.

    A DuckDB file's configuration is the ``pilot.yml`` in the same folder.
    """
    path = Path(path)
    if path.is_dir():
        return path, path / "pilot.yml"
    if path.suffix in (".yml", ".yaml"):
        return path.parent, path
    if path.suffix in (".duckdb", ".db"):
        return path.parent, path.parent / "pilot.yml"
    return path, path / "pilot.yml"


def examples(ids: pd.Series, n: int = EXAMPLES) -> tuple[str, ...]:
    """A few distinct example ids, as strings, for an error line."""
    return tuple(str(x) for x in pd.unique(ids.astype("string").fillna("<null>"))[:n])


def row_labels(df: pd.DataFrame, table: Table, mask: pd.Series) -> pd.Series:
    """Ids of the rows in ``mask``: the table's key, else account_id, else row numbers (1-based)."""
    for col in (table.key, "account_id"):
        if col and col in df.columns:
            return df.loc[mask, col]
    return pd.Series([f"row {i + 1}" for i in np.flatnonzero(mask.to_numpy())], dtype="string")


# --- reading ---------------------------------------------------------------


def _read_folder(root: Path, name: str) -> tuple[pd.DataFrame | None, Path | None, list[Problem]]:
    candidates = [root / f"{name}.parquet", root / f"{name}.csv", root / f"{name}.csv.gz"]
    found = [p for p in candidates if p.exists()]
    if not found:
        return None, None, []
    problems = []
    if len(found) > 1:
        problems.append(Problem(name, "", f"several files ({', '.join(p.name for p in found)}); read {found[0].name}", severity="warning"))
    p = found[0]
    try:
        if p.suffix == ".parquet":
            df = pd.read_parquet(p)
        else:
            # Everything as text first: types are checked column by column below,
            # so a stray "n/a" becomes one problem line instead of a parser crash.
            df = pd.read_csv(p, dtype="string", keep_default_na=False, na_values=[""])
    except Exception as exc:  # noqa: BLE001 - any reader error is the user's file, not our bug
        msg = str(exc).splitlines()[0][:160] if str(exc) else exc.__class__.__name__
        return None, p, [*problems, Problem(name, "", f"unreadable file {p.name}: {msg}")]
    return df, p, problems


def _read_duckdb(db: Path, names: list[str]) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    import duckdb

    if not db.exists():
        return {}, [Problem("pilot.yml", "source.path", f"DuckDB file not found: {db}")]
    try:
        con = duckdb.connect(str(db), read_only=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt or locked DuckDB file
        return {}, [Problem("pilot.yml", "source.path", f"unreadable DuckDB file {db.name}: {str(exc).splitlines()[0][:160]}")]
    out: dict[str, pd.DataFrame] = {}
    try:
        con.execute("SET TimeZone='UTC'")
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        for name in names:
            if name in present:
                out[name] = con.execute(f'SELECT * FROM "{name}"').to_arrow_table().to_pandas()
    finally:
        con.close()
    return out, []


def _read_ibis(url: str, schema: str | None, names: list[str]) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    import ibis

    try:
        con = ibis.connect(url)
    except Exception as exc:  # noqa: BLE001 - any backend error (driver, auth, network)
        return {}, [Problem("pilot.yml", "source.url", f"cannot read from {url}: {str(exc).splitlines()[0][:160]}")]
    out: dict[str, pd.DataFrame] = {}
    for name in names:
        # Table by table rather than list_tables(): a missing optional table is not an error,
        # and list_tables() fails on some backend/driver pairs (ibis 12 with duckdb 2).
        try:
            t = con.table(name, database=schema) if schema else con.table(name)
        except Exception:  # noqa: BLE001, S112 - absent table: optional unless it is accounts
            continue
        try:
            out[name] = t.to_pyarrow().to_pandas()
        except Exception as exc:  # noqa: BLE001 - the backend could not read it
            return out, [Problem(name, "", f"cannot read from {url}: {str(exc).splitlines()[0][:160]}")]
    return out, []


# --- typing ----------------------------------------------------------------

_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def _to_timestamp(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.tz_localize("UTC").astype("datetime64[us, UTC]")  # naive is read as UTC
    text = s.astype("string").str.strip()
    try:
        out = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    except (ValueError, TypeError):
        out = pd.to_datetime(text, utc=True, errors="coerce", format="mixed")
    return out.astype("datetime64[us, UTC]")


def _to_bool(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    text = s.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[text.isin(_TRUE)] = True
    out[text.isin(_FALSE)] = False
    return out


def coerce(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem], dict[str, pd.Index]]:
    """Give each contract column its type; values that do not parse become problems.

    Returns the typed frame (contract columns in contract order, then any extra
    columns untouched), the problems, and per column the index of the rows
    whose value failed to parse: they are set to null, and the not-null rule
    must not report them a second time.
    """
    table = TABLES[name]
    problems: list[Problem] = []
    unparsed: dict[str, pd.Index] = {}
    out = df.copy()
    for col, spec in table.columns.items():
        if col not in out.columns:
            if spec.required:
                problems.append(Problem(name, col, "required column missing"))
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
            typed, what = _to_timestamp(raw), "parseable timestamp (ISO 8601, read in UTC)"
        elif spec.kind in ("float", "int"):
            typed = pd.to_numeric(raw, errors="coerce") if raw.dtype != bool else raw.astype(float)
            typed = typed.astype("Float64")
            what = "a number"
            if spec.kind == "int":
                frac = typed.notna() & (typed != typed.round())
                if frac.any():
                    problems.append(Problem(name, col, "an integer", int(frac.sum()), examples(row_labels(df, table, frac))))
                    typed = typed.where(~frac, pd.NA)
                    unparsed[col] = df.index[frac.to_numpy()]
                typed = typed.round().astype("Int64")
        else:
            typed, what = _to_bool(raw), "a boolean (true/false)"
        if what:
            bad = present & typed.isna()
            if bad.any():
                problems.append(Problem(name, col, what, int(bad.sum()), examples(row_labels(df, table, bad))))
                unparsed[col] = unparsed.get(col, pd.Index([])).union(df.index[bad.to_numpy()])
        out[col] = typed
    ordered = [c for c in table.columns if c in out.columns] + [c for c in out.columns if c not in table.columns]
    return out[ordered], problems, unparsed


# --- the loader ------------------------------------------------------------


def read_pilot(path: str | Path) -> Pilot:
    """Read configuration and tables, collecting problems instead of raising.

    Raises :class:`PilotError` only when not even pilot.yml can be read.
    """
    root, yml = locate(path)
    if not root.exists():
        raise PilotError([Problem("pilot", "", f"not found: {path}")])
    try:
        config = load_config(yml)
    except ConfigError as err:
        raise PilotError([Problem("pilot.yml", "", line.removeprefix("pilot.yml: ")) for line in err.lines()]) from None
    problems: list[Problem] = []
    raw: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    src = config.source
    names = list(TABLES)
    if src.kind == "folder":
        folder = root / src.path if src.path else root
        for name in names:
            df, p, probs = _read_folder(folder, name)
            problems += probs
            if df is not None:
                raw[name] = df
            if p is not None:
                files[name] = p
    elif src.kind == "duckdb":
        db = Path(path) if Path(path).suffix in (".duckdb", ".db") else root / src.path
        raw, probs = _read_duckdb(db, names)
        problems += probs
        files = {n: db for n in raw}
    else:
        raw, probs = _read_ibis(src.url, src.schema_, names)
        problems += probs
    tables: dict[str, pd.DataFrame] = {}
    unparsed: dict[tuple[str, str], pd.Index] = {}
    for name, df in raw.items():
        typed, probs, bad = coerce(name, df)
        tables[name] = typed
        problems += probs
        unparsed |= {(name, col): idx for col, idx in bad.items()}
    if "accounts" not in raw and not any(p.table == "accounts" for p in problems):
        problems.append(Problem("accounts", "", "required table not found (accounts.parquet or accounts.csv)"))
    return Pilot(config=config, tables=tables, root=root, files=files, problems=problems, unparsed=unparsed)


def load_pilot(path: str | Path) -> Pilot:
    """Load and fully validate a pilot; raise :class:`PilotError` listing every error.

    Warnings do not stop loading; they are kept in ``Pilot.problems``.
    """
    from workbench.contract.validate import validate_pilot

    report = validate_pilot(path)
    if report.errors:
        raise PilotError(report.errors)
    return report.pilot
