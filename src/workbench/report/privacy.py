"""Keeping people out of reports: pseudonyms for agents, suppression of small cells, a scanner.

Reports carry aggregates only. Agent ids are replaced by stable pseudonyms
(a keyed hash, so the same agent has the same pseudonym in every report of a
pilot, and the mapping cannot be reversed without the key); any cell (segment,
agent, week) with fewer accounts than pilot.yml ``min_cell_size`` is
suppressed and says so.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

SUPPRESSED = "suppressed"


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


def scan(paths: Iterable[Path], identifiers: Iterable[str]) -> list[tuple[str, str]]:
    """Every (file, identifier) where an identifier appears as a whole token in a file's text."""
    idents = [i for i in identifiers if i]
    if not idents:
        return []
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, idents)) + r")(?![A-Za-z0-9])")
    hits = []
    for p in paths:
        text = Path(p).read_text(encoding="utf-8", errors="ignore")
        hits += [(str(p), m) for m in sorted(set(pattern.findall(text)))]
    return hits
