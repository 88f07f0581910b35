"""Keeping people out of reports: pseudonyms for agents, suppression of small cells, a scanner.

Reports carry aggregates only. Agent ids are replaced by stable pseudonyms
(a keyed hash, so the same agent has the same pseudonym in every report of a
pilot, and the mapping cannot be reversed without the key); any cell (segment,
agent, week) with fewer accounts than pilot.yml ``min_cell_size`` is
suppressed and says so; segment values pilot.yml does not declare are shown
as ``other``. Every CSV a run writes goes through :func:`write_csv`: text
cells that a spreadsheet would run as a formula are neutralized and floats
are written with a fixed number of significant digits, so two runs on the
same input give the same bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

SUPPRESSED = "suppressed"
OTHER = "other"  # the report label of every segment value pilot.yml does not declare
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a spreadsheet reads as a formula
CSV_DIGITS = 12  # significant digits in CSVs: DuckDB's parallel sums differ in the last bits from run to run


def pilot_key(pilot_yml: bytes) -> str:
    """The pseudonym key of a pilot: a hash of its pilot.yml bytes (stable across runs, not guessable
    from the report alone: reversing a pseudonym needs the pilot's own configuration file)."""
    return hashlib.sha256(b"workbench-pseudonym\0" + pilot_yml).hexdigest()


def pseudonym(value: str, key: str) -> str:
    """A stable pseudonym ``agent-3f9a1c`` for ``value`` under ``key`` (HMAC-SHA256, 6 hex digits)."""
    digest = hmac.new(key.encode(), str(value).encode(), hashlib.sha256).hexdigest()
    return f"agent-{digest[:6]}"


def pseudonymize(df: pd.DataFrame, key: str, column: str = "agent_id") -> pd.DataFrame:
    """Copy of ``df`` with ``column`` replaced by pseudonyms (nulls stay null)."""
    if column not in df.columns:
        return df
    out = df.copy()
    ids = out[column]
    out[column] = ids.map(lambda v: pseudonym(v, key) if pd.notna(v) else v)
    return out


def suppress_small(df: pd.DataFrame, size_column: str, min_size: int, keep: Iterable[str] = ()) -> pd.DataFrame:
    """Blank every statistic of rows whose ``size_column`` is below ``min_size``.

    The row stays (so the reader sees the cell exists) with ``suppressed`` True
    and every column other than ``keep`` and the size set to null; the size is
    shown as ``< min_size``.
    """
    out = df.copy()
    small = out[size_column] < min_size
    out["suppressed"] = small
    keep = set(keep) | {"suppressed"}
    for col in out.columns:
        if col in keep:
            continue
        if col == size_column:
            out[col] = out[col].astype(object).where(~small, f"< {min_size}")
        else:
            out[col] = out[col].astype(object).where(~small, None)
    return out


def group_undeclared(df: pd.DataFrame, declared: Iterable[str] | None, column: str = "segment") -> pd.DataFrame:
    """Copy of ``df`` with every ``column`` value outside ``declared`` shown as :data:`OTHER`.

    ``declared`` None (pilot.yml lists no segments) keeps the values: they
    are then the pilot's own declared labels by omission. Free text in an
    undeclared value (a name, a phone number) never reaches a report.
    """
    if declared is None or column not in df.columns:
        return df
    out = df.copy()
    keep = out[column].isin(list(declared)) | out[column].isna()
    out[column] = out[column].astype(object).where(keep, OTHER)
    return out


def hide_undeclared(numbers: dict, declared: Iterable[str] | None) -> dict:
    """Copy of a nested mapping (a check's numbers) without the keys naming an undeclared segment
    (``segment=<value>`` or the value itself), and ``undeclared segments`` counting them."""
    if declared is None:
        return numbers
    known = set(declared)
    dropped: set[str] = set()

    def keep(key: object) -> bool:
        text = str(key)
        value = text.removeprefix("segment=") if text.startswith("segment=") else None
        if value is not None and value not in known:
            dropped.add(value)
            return False
        return True

    def walk(x: object) -> object:
        return {k: walk(v) for k, v in x.items() if keep(k)} if isinstance(x, dict) else x

    out = walk(numbers)
    if dropped:
        out[f"undeclared segments (shown as {OTHER!r} elsewhere)"] = len(dropped)
    return out


def neutralize(value: object) -> object:
    """A text cell a spreadsheet would evaluate (``=HYPERLINK(..)``, ``@SUM(1)``, ``+1+1``) prefixed
    with a quote so it is shown as text; numbers and other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with every text cell (values and column names) neutralized."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralize, na_action="ignore")
    out.columns = [neutralize(str(c)) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as a CSV safe to open in a spreadsheet, byte-identical for identical input.

    Formulas are neutralized (:func:`safe_frame`), floats written with
    :data:`CSV_DIGITS` significant digits, line endings ``\\n``.
    """
    safe_frame(df).to_csv(path, index=False, float_format=f"%.{CSV_DIGITS}g", lineterminator="\n")
    return Path(path)


def _trie(words: set[str]) -> str:
    """A regular expression matching exactly ``words``, as a trie: ``A00(?:1|2)`` for A001 and A002.

    A plain alternation of thousands of identifiers makes the engine try every
    one of them at every character of a report (22 s for 3.4 MB and 5,700
    identifiers, measured); the trie tries one branch per character read.
    Where one word is a prefix of another, the longer is tried first and the
    shorter is what is left on backtracking, so a word followed by a boundary
    is still found. Words longer than :data:`_TRIE_DEPTH` (no recursion that
    deep) are added as plain alternatives.
    """
    root: dict = {}
    long = sorted(w for w in words if len(w) > _TRIE_DEPTH)
    for w in words:
        if len(w) <= _TRIE_DEPTH:
            node = root
            for ch in w:
                node = node.setdefault(ch, {})
            node[""] = {}  # a word ends here

    def branch(node: dict) -> str:
        alts = [re.escape(ch) + branch(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body  # a word may end here: the rest is optional

    return "|".join(p for p in [branch(root), *map(re.escape, long)] if p)


_TRIE_DEPTH = 200


def scan(paths: Iterable[Path], identifiers: Iterable[str]) -> list[tuple[str, str]]:
    """Every (file, identifier) where an identifier appears as a whole token in a file's text."""
    idents = {i for i in identifiers if i}
    if not idents:
        return []
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + _trie(idents) + r")(?![A-Za-z0-9])")
    hits = []
    for p in paths:
        text = Path(p).read_text(encoding="utf-8", errors="ignore")
        hits += [(str(p), m) for m in sorted(set(pattern.findall(text)))]
    return hits
