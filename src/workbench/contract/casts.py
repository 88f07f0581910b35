"""The contract's types as safe casts on the engine: per column the typed value and what did not parse.

A table as read (an ibis table: all text from CSV, typed from Parquet, a DuckDB
file or a database) gets, for each contract column, three expressions that
validation counts on the engine and never pulls into Python:

- ``present``: a value was given (not null, and for text not blank);
- ``typed``: the value in its contract type, null when absent or unparsed
  (strings trimmed, pilot.yml ``values`` applied; numbers with thousands
  commas; timestamps as naive UTC; booleans from ``true/false/t/f/1/0/yes/no/y/n``);
- ``failures``: ``(rule, mask)`` per way a value can fail its type, in the
  order the lines are printed: ``a finite number`` (``inf``, ``NaN``,
  ``1e309``), ``an integer`` (``7.5``, or ``1e300`` beyond 64 bits, in an integer column), then ``a number``,
  ``a boolean (true/false)`` or ``parseable timestamp ...``.

The text rules are regular expressions evaluated by the engine, so every
backend accepts the same numbers and timestamps::

    number     [+-]? (digits [. digits] | . digits) [e [+-] digits] | inf | infinity | nan   (any case)
    timestamp  YYYY-M-D [(T| )H[:MM[:SS[.f]]]] [Z | +HH[:MM]]   (ISO 8601; naive is UTC)

and the engine's own safe cast (``TRY_CAST``) then rejects impossible dates
(``2026-02-30``). An engine without one (PostgreSQL, whose ``try_cast`` is a
plain ``CAST`` that raises) gets the checked casts of
:mod:`workbench.contract.safecasts`, which give the same values. A number whose text is ``inf``/``nan`` or whose value
overflows a double is not finite. With ``timestamp_format`` in pilot.yml the
engine's ``strptime`` (DuckDB ``try_strptime``) decides.
"""

from __future__ import annotations

import functools
import math
import re
import string
from dataclasses import dataclass, field
from typing import Any

import ibis

from workbench.contract.mapping import GROUPED, Mapping, map_values_table, rename_table, trimmed
from workbench.contract.safecasts import finite_float, iso_timestamp, safe_cast, strptime_timestamp
from workbench.contract.tables import FALSE_WORDS, TABLES, TRUE_WORDS

NUMBER = r"^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?|inf|infinity|nan)$"
NOT_FINITE = r"^[+-]?(inf|infinity|nan)$"
ISO_8601 = (
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([t ][0-9]{1,2}(:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?)?\s*(z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
)
TIMESTAMP_RULE = "parseable timestamp (ISO 8601, read in UTC)"
INT64_BOUND = 2.0**63  # the first double an int64 cannot hold


@dataclass
class Cast:
    """One contract column of one table, typed on the engine (see the module's docstring).

    The fields name columns of the table :func:`cast_table` returns: ``raw``
    the value as read, ``present`` and ``typed``, and per failure its rule and
    the name of its boolean column.
    """

    column: str
    kind: str
    raw: str
    present: str
    typed: str
    failures: list[tuple[str, str]] = field(default_factory=list)
    # whether the raw values are text (a timestamp hint reads them) or typed by the source
    text: bool = False


@functools.cache
def _duckdb_try_strptime() -> Any:
    return ibis.udf.scalar.builtin(lambda x, f: None, name="try_strptime", signature=(("string", "string"), "timestamp"))


# strptime codes as Spark's datetime patterns. The numbers strptime reads in one or two digits
# (01 or 1) are one pattern letter between literals (Spark then reads one or two digits too),
# two beside another field (%Y%m%d: a fixed width is the only reading).
_SPARK_NUMBERS = {"m": "M", "d": "d", "H": "H", "I": "h", "M": "m", "S": "s"}
_SPARK_CODES = {
    "Y": "yyyy",
    "y": "yy",
    "f": "SSSSSS",
    "p": "a",
    "b": "MMM",
    "B": "MMMM",
    "a": "EEE",
    "A": "EEEE",
    "j": "DDD",
    "z": "Z",
    "Z": "z",
    "%": "'%'",
}


def spark_format(fmt: str) -> str:
    """A strptime format (pilot.yml ``timestamp_format``) as a Spark datetime pattern that reads what
    strptime (and DuckDB's ``strptime``) reads: ``%m/%d/%Y %H:%M`` -> ``M/d/yyyy H:m``; literal
    letters quoted (``%Y-%m-%dT%H:%M`` -> ``yyyy-M-d'T'H:m``: an unquoted letter is a pattern to Spark)."""
    parts = re.findall(r"%.|[^%]+", fmt)
    out = []
    for i, part in enumerate(parts):
        code = part[1:] if part.startswith("%") and len(part) == 2 else None
        if code in _SPARK_NUMBERS:
            near = [parts[j] for j in (i - 1, i + 1) if 0 <= j < len(parts)]
            adjacent = any(p.startswith("%") and p != "%%" for p in near)
            out.append(_SPARK_NUMBERS[code] * (2 if adjacent else 1))
        elif code in _SPARK_CODES:
            out.append(_SPARK_CODES[code])
        else:  # a literal: letters (and quotes) quoted, as Spark reads them
            out.append(re.sub(r"[A-Za-z']+", lambda m: "'" + m.group().replace("'", "''") + "'", part))
    return "".join(out)


@functools.cache
def _spark_try_to_timestamp() -> Any:
    return ibis.udf.scalar.builtin(
        lambda x, f: None, name="try_to_timestamp", signature=(("string", "string"), "timestamp('UTC')")
    )


def formatted_timestamp(col: Any, fmt: str, backend: str) -> Any:
    """Text in pilot.yml's ``timestamp_format`` as a naive UTC timestamp, null where it does not parse.

    DuckDB: ``try_strptime``. Spark: ``try_to_timestamp`` with :func:`spark_format` (``to_timestamp``,
    what ibis compiles ``as_timestamp`` to, raises on the first value that does not parse under
    Spark's ANSI mode, the default from Spark 4, and reads ``%m`` as two digits only). An engine
    without TRY_CAST: :func:`~workbench.contract.safecasts.strptime_timestamp` when the format has
    numeric codes only, else the engine's own parser (which may raise on a value that does not fit).
    """
    if backend == "duckdb":
        return _naive(_duckdb_try_strptime()(col, fmt).cast("timestamp('UTC')"), backend)
    if backend == "pyspark":
        return _naive(_spark_try_to_timestamp()(col, spark_format(fmt)), backend)
    if safe_cast(backend) and (checked := strptime_timestamp(col, fmt)) is not None:
        return checked  # no TRY_CAST (PostgreSQL, whose to_timestamp raises on 02/30/2026)
    return _naive(col.as_timestamp(fmt), backend)


def _backend(t: Any) -> str:
    try:
        return t.get_backend().name
    except Exception:  # an unbound table (tests compiling SQL)
        return ""


@functools.cache
def _duckdb_functions() -> tuple[Any, Any, Any]:
    """DuckDB's ``epoch_us``, ``make_timestamp`` and ``isfinite`` as ibis builtin functions."""
    udf = ibis.udf.scalar.builtin
    return (
        udf(lambda x: None, name="epoch_us", signature=((None,), "int64")),
        udf(lambda x: None, name="make_timestamp", signature=(("int64",), "timestamp")),
        udf(lambda x: None, name="isfinite", signature=((None,), "boolean")),
    )


def duckdb_naive_utc(col: Any) -> Any:
    """``CAST(col AS TIMESTAMP)`` of a TIMESTAMPTZ, as DuckDB computes it fast (same values).

    With the session zone UTC the cast yields the instant's UTC wall time, but
    DuckDB routes it through ICU's calendar (about 0.1 us a value: seconds on
    the contact table). ``make_timestamp(epoch_us(col))`` reinterprets the
    instant's microseconds and gives the same timestamp; infinities, which it
    would turn into NULL, keep the plain cast.
    """
    epoch_us, make_timestamp, isfinite = _duckdb_functions()
    return ibis.ifelse(isfinite(col), make_timestamp(epoch_us(col)), col.cast("timestamp"))


def _naive(col: Any, backend: str) -> Any:
    return duckdb_naive_utc(col) if backend == "duckdb" else col.cast("timestamp")


def _text(col: Any, backend: str = "") -> Any:
    """Trimmed text of a raw column, null when blank."""
    s = trimmed(col if col.type().is_string() else col.cast("string"), backend)
    return ibis.ifelse(s == "", ibis.null("string"), s)


def boolean_text(raw: Any) -> Any:
    """A raw column as the contract's boolean: ``true/t/1/yes/y`` and ``false/f/0/no/n`` in any case, else null."""
    if raw.type().is_boolean():
        return raw
    low = _text(raw).lower()
    return ibis.cases((low.isin(TRUE_WORDS), True), (low.isin(FALSE_WORDS), False), else_=ibis.null("boolean"))


def _timestamp(col: Any, fmt: str | None, backend: str) -> Any:
    """A timestamp column (naive or tz-aware) as naive UTC; trimmed text parsed as ISO 8601 or ``fmt``."""
    dt = col.type()
    if dt.is_timestamp():
        return _naive(col, backend) if dt.timezone is not None else col
    if dt.is_date():
        return col.cast("timestamp")
    if fmt:
        return formatted_timestamp(col, fmt, backend)
    if safe_cast(backend):  # no TRY_CAST (PostgreSQL): checked fields, then a cast that cannot fail
        return iso_timestamp(col)
    iso = col.lower().re_search(ISO_8601).fill_null(False)
    return _naive(ibis.ifelse(iso, col, ibis.null("string")).try_cast("timestamp('UTC')"), backend)


def _mapping_trims(name: str, col: str, mapping: Mapping) -> bool:
    """Whether :func:`~workbench.contract.mapping.map_values_table` leaves a text column trimmed.

    It rewrites an enumeration (``contacts.channel``, ...) to the lower case of its trimmed value
    when that is one of the enumeration, else to the value pilot.yml maps it to, else to the
    trimmed value: trimmed whenever pilot.yml's mapped values are (pilot.yml's are members of the
    enumeration; a :class:`Mapping` built by hand may hold others, then the column is trimmed again).
    """
    pairs, enum = mapping.value_map(name, col)
    return enum is not None and all(v == v.strip(string.whitespace) for v in pairs.values())


def _stage(t: Any, cols: dict[str, Any]) -> Any:
    """One more layer of columns: each expression is written once in the SQL, and read by name after."""
    return t.mutate(**cols) if cols else t


def cast_table(name: str, t: Any, mapping: Mapping | None = None, backend: str | None = None) -> tuple[Any, dict[str, Cast]]:
    """Table ``name`` as read, renamed and value-mapped as pilot.yml says, with the casts of its contract columns.

    Returns ``(table, casts)``: the table keeps every column as read (renamed)
    and adds, per contract column present, the columns a :class:`Cast` names
    (``p__col`` present, ``t__col`` typed, ``f<j>__col`` failures). Each
    step is a layer of named columns, so the SQL stays small however many
    rules read them.
    """
    mapping = mapping or Mapping()
    backend = _backend(t) if backend is None else backend
    t = map_values_table(name, rename_table(name, t, mapping), mapping, backend)
    spec = TABLES[name].columns
    cols = [c for c in spec if c in t.columns]
    kind = {c: spec[c].kind for c in cols}
    dt = {c: t[c].type() for c in cols}
    # 1. trimmed text, where the value is read from text
    textual = {
        c
        for c in cols
        if dt[c].is_string()
        or kind[c] == "string"
        or (kind[c] in ("float", "int") and not (dt[c].is_numeric() or dt[c].is_boolean()))
        or (kind[c] == "timestamp" and not (dt[c].is_timestamp() or dt[c].is_date()))
        or (kind[c] == "bool" and not dt[c].is_boolean())
    }
    # An enumeration pilot.yml's mapping rewrote is trimmed already (_mapping_trims): on DuckDB only a
    # blank is left to null, without a second trim of each value.
    trimmed_enums = {c for c in textual if backend == "duckdb" and dt[c].is_string() and _mapping_trims(name, c, mapping)}
    t = _stage(t, {f"s__{c}": t[c].nullif("") if c in trimmed_enums else _text(t[c], backend) for c in textual})
    # 2. numbers: thousands commas removed
    num_text = [c for c in cols if kind[c] in ("float", "int") and c in textual]
    t = _stage(
        t,
        {f"g__{c}": ibis.ifelse(t[f"s__{c}"].re_search(GROUPED), t[f"s__{c}"].replace(",", ""), t[f"s__{c}"]) for c in num_text},
    )
    step: dict[str, Any] = {}
    for c in num_text:
        low = t[f"g__{c}"].lower()
        step[f"ok__{c}"] = low.re_search(NUMBER).fill_null(False)
        step[f"inf__{c}"] = low.re_search(NOT_FINITE).fill_null(False)
    t = _stage(t, step)
    # 3. parsed values and whether a number is finite
    step = {}
    for c in num_text:
        if safe_cast(backend):  # no TRY_CAST (PostgreSQL): only a text that cannot overflow is cast
            step[f"v__{c}"] = finite_float(t[f"g__{c}"].lower(), t[f"ok__{c}"], t[f"inf__{c}"])
        else:
            step[f"v__{c}"] = ibis.ifelse(t[f"ok__{c}"], t[f"g__{c}"], ibis.null("string")).try_cast("float64")
    for c in cols:
        if kind[c] in ("float", "int") and c not in textual:
            step[f"v__{c}"] = t[c].cast("float64")
    t = _stage(t, step)
    step = {}
    for c in cols:
        if kind[c] not in ("float", "int"):
            continue
        v = t[f"v__{c}"]
        if c in num_text:  # a text that is a number but does not fit a double (1e309) overflows: not finite either
            nf = t[f"ok__{c}"] & (t[f"inf__{c}"] | v.isnull() | (v.abs() == ibis.literal(math.inf)))
        elif dt[c].is_floating():
            # Spelled out: ibis 12 compiles isinf() to FALSE on Spark, and notnull() there excludes NaN.
            nf = v.isnan() | (v == ibis.literal(math.inf)) | (v == ibis.literal(-math.inf))
        else:
            nf = ibis.literal(False)
        step[f"nf__{c}"] = nf.fill_null(False)
    t = _stage(t, step)
    # 4. typed values, and what is present
    step = {}
    for c in cols:
        present = t[f"s__{c}"].notnull() if c in textual else t[c].notnull()
        if c not in textual and dt[c].is_floating():
            present = present | t[c].isnan()  # NaN is a value (not finite), not a missing one, on every engine
        step[f"p__{c}"] = present.fill_null(False)
        if kind[c] == "string":
            step[f"t__{c}"] = t[f"s__{c}"] if c in textual else t[c]
        elif kind[c] in ("float", "int"):
            step[f"t__{c}"] = ibis.ifelse(t[f"nf__{c}"], ibis.null("float64"), t[f"v__{c}"])
        elif kind[c] == "timestamp":
            step[f"t__{c}"] = _timestamp(t[f"s__{c}"] if c in textual else t[c], mapping.timestamp_format, backend)
        else:
            step[f"t__{c}"] = t[f"s__{c}"].lower() if c in textual else t[c]
    t = _stage(t, step)
    step = {}
    for c in cols:
        if kind[c] == "int":
            v = t[f"t__{c}"]
            # not whole, or beyond a 64-bit integer (1e300), whose cast to int64 (ibis' round() too) raises
            inside = ibis.ifelse(v.abs() < INT64_BOUND, v, ibis.null("float64"))
            step[f"frac__{c}"] = (v.notnull() & ((v.abs() >= INT64_BOUND) | (inside != inside.round()))).fill_null(False)
        if kind[c] == "bool" and c in textual:
            low = t[f"t__{c}"]
            step[f"t__{c}"] = ibis.cases((low.isin(TRUE_WORDS), True), (low.isin(FALSE_WORDS), False), else_=ibis.null("boolean"))
    t = _stage(t, step)
    # 5. the failures, in the order their lines are printed; a value the source already stores in
    # a type that cannot fail the cast is not counted (see cannot_fail)
    step, casts = {}, {}
    for c in cols:
        p, v = t[f"p__{c}"], t[f"t__{c}"]
        failures: list[tuple[str, Any]] = []
        if kind[c] in ("float", "int"):
            failures.append(("a finite number", t[f"nf__{c}"]))
            unparsed = t[f"nf__{c}"]
            if kind[c] == "int":
                failures.append(("an integer", t[f"frac__{c}"]))
                unparsed = unparsed | t[f"frac__{c}"]
            failures.append(("a number", p & v.isnull() & ~unparsed))
        elif kind[c] == "timestamp":
            what = TIMESTAMP_RULE
            if mapping.timestamp_format:
                what = f"parseable timestamp (timestamp_format {mapping.timestamp_format!r}, read in UTC)"
            failures.append((what, p & v.isnull()))
        elif kind[c] == "bool":
            failures.append(("a boolean (true/false)", p & v.isnull()))
        if c not in textual:
            failures = [(rule, mask) for rule, mask in failures if not cannot_fail(rule, kind[c], dt[c])]
        names = []
        for j, (rule, mask) in enumerate(failures):
            step[f"f{j}__{c}"] = mask.fill_null(False)
            names.append((rule, f"f{j}__{c}"))
        if kind[c] == "int":
            step[f"t__{c}"] = ibis.ifelse(t[f"frac__{c}"], ibis.null("float64"), v).round().cast("int64")
        casts[c] = Cast(c, kind[c], c, f"p__{c}", f"t__{c}", names, c in textual)
    return _stage(t, step), casts


def cannot_fail(rule: str, kind: str, dtype: Any) -> bool:
    """Whether a column the source stores typed (not as text) can never break ``rule``: its count
    would be 0 on every row, so validation does not ask the engine for it.

    - a timestamp or date column is always a timestamp (a time zone is converted, never lost);
    - a boolean column is always a boolean;
    - a numeric (or boolean) column is always a number; it is finite unless floating
      (integers and decimals have no ``inf`` or ``NaN``), and an integer when its type is one
      (an ``int64`` cast to a double is a whole number).
    """
    if kind == "timestamp":
        return dtype.is_timestamp() or dtype.is_date()
    if kind == "bool":
        return dtype.is_boolean()
    if rule == "a number":
        return dtype.is_numeric() or dtype.is_boolean()
    if rule == "a finite number":
        return not dtype.is_floating()
    if rule == "an integer":
        return dtype.is_integer() or dtype.is_boolean()
    return False


def typed_table(t: Any, casts: dict[str, Cast]) -> Any:
    """The contract columns in their types, under their own names (what the cross-table rules read),
    and whether each was given (``_p__<col>``)."""
    return t.select(**{col: t[c.typed] for col, c in casts.items()}, **{f"_{c.present}": t[c.present] for c in casts.values()})
