"""What a problem line shows so the user can fix it: offending values, columns found, did-you-mean.

Only values of enumerations, timestamps and numbers are shown (up to
:data:`SHOWN`, distinct, quoted, cut to :data:`WIDTH` characters): those say
what is wrong without printing personal data. Free text (names, notes) is
never shown; ids are shown only where the id itself is the problem (unique,
exists in accounts), as before.
"""

from __future__ import annotations

import difflib
import re

import pandas as pd

from workbench.contract.mapping import Mapping
from workbench.errors import Problem

SHOWN = 3  # offending values per problem line
WIDTH = 30  # characters of one shown value
FOUND = 12  # column names listed when a required one is missing

# Timestamps written with slashes or dots and the year last: 03/01/2026 14:22, 1.3.2026.
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(\s+\d{1,2}:\d{2}(:\d{2})?)?\s*$")


def shown_values(s: pd.Series, n: int = SHOWN) -> tuple[str, ...]:
    """Up to ``n`` distinct offending values, quoted (``'Phone'``), for a problem line."""
    out = []
    for v in pd.unique(s.dropna().astype("string")):
        text = str(v)
        out.append(repr(text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"))
        if len(out) == n:
            break
    return tuple(out)


def norm(name: str) -> str:
    """A column name compared loosely: lower case, runs of non-alphanumerics as one ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def closest_column(wanted: str, found: list[str]) -> str | None:
    """The found column most like ``wanted`` (``Account ID`` for ``account_id``), or None."""
    by_norm = {norm(c): c for c in found}
    if norm(wanted) in by_norm:
        return by_norm[norm(wanted)]
    close = difflib.get_close_matches(norm(wanted), list(by_norm), n=1, cutoff=0.75)
    return by_norm[close[0]] if close else None


def missing_column_rule(table: str, col: str, found: list[str]) -> str:
    """``required column missing`` with the columns found and how to map a close one."""
    listed = ", ".join(map(repr, found[:FOUND])) + (f" and {len(found) - FOUND} more" if len(found) > FOUND else "")
    rule = f"required column missing; found {listed or 'no columns'}"
    close = closest_column(col, found)
    if close is not None:
        rule += f"; did you mean {close!r}? map it in pilot.yml: columns: {{{table}: {{{close!r}: {col}}}}}"
    return rule


def slash_format(values: pd.Series) -> tuple[str | None, list[str]]:
    """The strptime format of dates like ``03/01/2026 14:22``: ``(format, [])`` when the values tell
    day-first from month-first (a part above 12), ``(None, [month first, day first])`` when they
    cannot, ``(None, [])`` when they are not such dates."""
    firsts, seconds, sample = [], [], None
    for v in pd.unique(values.dropna().astype("string"))[:5000]:
        m = _DAY_MONTH.match(str(v))
        if m:
            sample = sample or m
            firsts.append(int(m.group(1)))
            seconds.append(int(m.group(2)))
    if sample is None:
        return None, []
    sep = sample.string[sample.end(1)]
    year = "%Y" if len(sample.group(3)) == 4 else "%y"
    clock = "" if not sample.group(4) else " %H:%M:%S" if sample.group(5) else " %H:%M"
    month_first, day_first = f"%m{sep}%d{sep}{year}{clock}", f"%d{sep}%m{sep}{year}{clock}"
    if max(firsts) > 12 and max(seconds) <= 12:
        return day_first, []
    if max(seconds) > 12 and max(firsts) <= 12:
        return month_first, []
    return None, [month_first, day_first]


def timestamp_hint(bad: pd.Series, fmt: str | None) -> str:
    """What to set when timestamps do not parse: ``timestamp_format``, day or month first if the values tell."""
    if fmt:
        return f"timestamp_format {fmt!r} in pilot.yml does not fit these values"
    found, choices = slash_format(bad)
    if found:
        which = "day-first" if found.startswith("%d") else "month-first"
        return f"{which} dates: set timestamp_format: {found!r} in pilot.yml"
    if choices:
        return (
            "day or month first cannot be told from these values: set timestamp_format in pilot.yml, "
            f"{choices[0]!r} (month first) or {choices[1]!r} (day first)"
        )
    return "e.g. 2026-03-01T14:22:00Z, or set timestamp_format in pilot.yml (strptime codes)"


def unmatched_renames(table: str, found: list[str], mapping: Mapping) -> list[Problem]:
    """A warning per pilot.yml ``columns`` entry whose export column is not in the file (a typo?)."""
    out = []
    for src, dst in mapping.columns.get(table, {}).items():
        if src in found or dst in found:
            continue
        close = closest_column(src, found)
        hint = f"did you mean {close!r}?" if close else f"found {', '.join(map(repr, found[:FOUND]))}"
        out.append(Problem("pilot.yml", f"columns.{table}", f"{src!r} is not a column of {table}; {hint}", severity="warning"))
    return out
