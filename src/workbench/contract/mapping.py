"""A CRM export read as the contract: column names, values, numbers and timestamps.

pilot.yml may say how the team's export differs from the contract::

    columns:                      # rename: the export's name -> the contract's
      accounts: {Account ID: account_id}
    values:                       # map values of a string column
      contacts.channel: {Phone: call, Text: sms}
    timestamp_format: "%m/%d/%Y %H:%M"   # every timestamp column (strptime codes)

The rules are defined here once and applied on read by both readers: the
pandas reader that validation uses (:func:`workbench.contract.source.read_pilot`)
and the ibis engine every other verb uses
(:func:`workbench.metrics.engine.open_pilot`); the functions taking an ibis
table use its methods only, so this module does not import ibis. The input
files are never modified.

Rules
-----
- A rename applies when the export's column is present and the contract name
  is not taken by another column.
- Enumerations (``contacts.channel``, ``contacts.direction``,
  ``complaints.kind``) match case-insensitively: ``Outbound`` is ``outbound``;
  a mapping's keys match case-insensitively there too. Any other string
  column (``arm``, ``segment``, ids) is matched exactly, after trimming spaces.
- Numbers may group thousands with commas (``1,660.78`` is 1660.78) when every
  group has three digits; anything else (``1.660,78``) is not a number.
- Timestamps are ISO 8601 unless ``timestamp_format`` is given; a day-first
  or month-first date is never guessed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from workbench.contract.tables import CHANNELS, COMPLAINT_KINDS, DIRECTIONS, TABLES

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("contacts", "channel"): CHANNELS,
    ("contacts", "direction"): DIRECTIONS,
    ("complaints", "kind"): COMPLAINT_KINDS,
}

# A number with thousands grouped by commas: 1,660.78, -12,000, 1,000,000.5.
GROUPED = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"
_GROUPED = re.compile(GROUPED)


@dataclass(frozen=True)
class Mapping:
    """The export-to-contract rules of one pilot (pilot.yml ``columns``, ``values``, ``timestamp_format``).

    ``columns[table][export name] = contract name``; ``values[(table, column)]
    [export value] = contract value``.
    """

    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    timestamp_format: str | None = None

    @classmethod
    def of(cls, config: Any) -> Mapping:
        """The mapping a :class:`~workbench.contract.config.PilotConfig` declares (empty when none)."""
        values = {}
        for key, pairs in (getattr(config, "values", None) or {}).items():
            table, _, col = key.partition(".")
            values[(table, col)] = dict(pairs)
        return cls(
            {t: dict(m) for t, m in (getattr(config, "columns", None) or {}).items()},
            values,
            getattr(config, "timestamp_format", None),
        )

    def renames(self, table: str, found: list[str]) -> dict[str, str]:
        """``{export name: contract name}`` that apply to a table with columns ``found``."""
        present = set(found)
        return {
            src: dst for src, dst in self.columns.get(table, {}).items() if src in present and src != dst and dst not in present
        }

    def value_map(self, table: str, col: str) -> tuple[dict[str, str], tuple[str, ...] | None]:
        """The value mapping of a column and its enumeration (None for a free string column).

        For an enumeration the keys are lower case (matching is case-insensitive).
        """
        enum = ENUMS.get((table, col))
        pairs = self.values.get((table, col), {})
        if enum is None:
            return {str(k).strip(): str(v) for k, v in pairs.items()}, None
        return {str(k).strip().lower(): str(v) for k, v in pairs.items()}, enum

    def mapped_columns(self, table: str) -> list[str]:
        """String columns of ``table`` whose values are rewritten on read."""
        return [c for c in TABLES[table].columns if (table, c) in ENUMS or (table, c) in self.values]


# --- pandas (the reader validation uses) ------------------------------------


def rename_frame(table: str, df: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """The table with the export's column names renamed to the contract's."""
    ren = mapping.renames(table, [str(c) for c in df.columns])
    return df.rename(columns=ren) if ren else df


def mapped_value(value: str, pairs: dict[str, str], enum: tuple[str, ...] | None) -> str:
    """One value as the contract reads it (the rule :func:`map_values_table` writes in ibis).

    Enumerations: the lower-case value when it is one of the enumeration, else
    the mapping of its lower case, else the value as written. Other columns:
    the mapping of the value, else the value.
    """
    if enum is None:
        return pairs.get(value, value)
    key = value.lower()
    return key if key in enum else pairs.get(key, value)


def map_values_frame(table: str, df: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """Map values of string columns (already trimmed); unmapped values stay as they are, to be reported.

    The rule is applied to the distinct values only (a channel column of
    millions of rows holds a handful), and the column is rewritten only when
    one of them changes.
    """
    out = df
    for col in mapping.mapped_columns(table):
        if col not in out.columns:
            continue
        pairs, enum = mapping.value_map(table, col)
        s = out[col].astype("string")
        change = {v: m for v in pd.unique(s.dropna()) if (m := mapped_value(str(v), pairs, enum)) != v}
        if change:
            out = out.copy() if out is df else out
            out[col] = s.replace(change)
    return out


def number_text(s: pd.Series) -> pd.Series:
    """Text of a number column with thousands commas removed where every group has three digits."""
    text = s.astype("string").str.strip()
    grouped = text.str.match(GROUPED).fillna(False).astype(bool)
    return text.where(~grouped, text.str.replace(",", "", regex=False))


def timestamp_text(text: pd.Series, fmt: str | None) -> pd.Series:
    """Parse timestamp text: ISO 8601, or ``fmt`` (strptime codes) when given; naive is UTC."""
    if fmt:
        return pd.to_datetime(text, utc=True, errors="coerce", format=fmt)
    try:
        return pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    except (ValueError, TypeError):
        return pd.to_datetime(text, utc=True, errors="coerce", format="mixed")


# --- ibis (the engine every other verb uses) --------------------------------


def rename_table(table: str, t: Any, mapping: Mapping) -> Any:
    """The ibis table with the export's column names renamed to the contract's."""
    ren = mapping.renames(table, list(t.columns))
    return t.rename({dst: src for src, dst in ren.items()}) if ren else t


@functools.cache
def _duckdb_ascii() -> Any:
    """DuckDB's ``ascii``: the code point of a string's first character (0 for an empty string)."""
    return ibis.udf.scalar.builtin(lambda x: None, name="ascii", signature=(("string",), "int32"))


def trimmed(s: Any, backend: str) -> Any:
    """``s.strip()``, on DuckDB computed only where it can change something.

    ibis trims the characters of ``string.whitespace``, all code points <= 32,
    so a value whose first and last characters are above 32 is its own trim::

        trimmed(s) = s                       if ascii(s) > 32 and ascii(right(s, 1)) > 32
                   = trim(s, whitespace)     otherwise (an empty string too: ascii('') = 0)

    DuckDB's ``trim`` with a set of characters costs about 0.3 us a value
    (seconds on the ids of a contact table); the test costs a fraction of that.
    """
    if backend != "duckdb":
        return s.strip()
    ascii_ = _duckdb_ascii()
    return ibis.ifelse((ascii_(s) > 32) & (ascii_(s.right(1)) > 32), s, s.strip())


def map_values_table(table: str, t: Any, mapping: Mapping, backend: str = "") -> Any:
    """Map values of string columns on an ibis table, with the rules of :func:`map_values_frame`.

    ``backend`` is the engine's name: on DuckDB each value is trimmed only where it can change (:func:`trimmed`).
    """
    mut = {}
    for col in mapping.mapped_columns(table):
        if col not in t.columns or not t[col].type().is_string():
            continue
        pairs, enum = mapping.value_map(table, col)
        s = trimmed(t[col], backend)
        if enum is None:
            mut[col] = s.substitute(pairs, else_=s) if pairs else s
        else:
            # One CASE on the lower-case value: an enumeration's own words first, then the pilot's
            # mapping, else the value as written. Not ``key IN (...)``: DuckDB rewrites an IN list of
            # constants into a join, which no later query can prune, so every metrics query paid a
            # hash join over all contacts for the channel it never reads (6 of 100 CPU s at 2M accounts).
            words = {w: w for w in enum} | {k: v for k, v in pairs.items() if k not in enum}
            mut[col] = s.lower().substitute(words, else_=s)
    return t.mutate(**mut) if mut else t


def number_column(col: Any) -> Any:
    """An ibis string column as float64, thousands commas removed as :func:`number_text` does."""
    s = col.strip()
    return s.re_search(GROUPED).ifelse(s.replace(",", ""), s).cast("float64")


def is_grouped(text: str) -> bool:
    """Whether a number's text groups thousands with commas (``1,660.78``)."""
    return bool(_GROUPED.match(text.strip()))
