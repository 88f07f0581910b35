"""Property-based: no input, however broken, makes validation raise."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pilot_factory import make_pilot

from workbench.contract.tables import TABLES
from workbench.contract.validate import validate_pilot

cell = st.one_of(
    st.just(""),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["2026-01-05", "2026-13-45", "NaT", "true", "call", "inbound", "A1", "pressure", "1e309"]),
)


csv_cases = {
    "table": st.sampled_from(sorted(TABLES)),
    "rows": st.lists(st.lists(cell, min_size=0, max_size=10), min_size=0, max_size=6),
    "header_drop": st.integers(0, 3),
}


# Each example validates a whole pilot (about 1.3 s): 20 fixed examples in the default suite,
# 300 new ones each time in the slow run below.
@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(**csv_cases)
def test_random_csv_never_raises(table, rows, header_drop):
    _never_raises(table, rows, header_drop)


@pytest.mark.slow  # 300 examples: about 7 minutes
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(**csv_cases)
def test_random_csv_never_raises_at_length(table, rows, header_drop):
    _never_raises(table, rows, header_drop)


def _never_raises(table, rows, header_drop):
    with tempfile.TemporaryDirectory() as d:
        root = make_pilot(Path(d) / "p", "csv")
        cols = list(TABLES[table].columns)[header_drop:]
        lines = [",".join(cols)] + [",".join('"' + v.replace('"', '""') + '"' for v in r) for r in rows]
        (root / f"{table}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        report = validate_pilot(root)
        for p in report.errors + report.warnings:
            assert "\n" not in p.line()


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(text=st.text(max_size=200))
def test_random_pilot_yml_never_raises(text):
    with tempfile.TemporaryDirectory() as d:
        root = make_pilot(Path(d) / "p")
        (root / "pilot.yml").write_text(text, encoding="utf-8")
        report = validate_pilot(root)
        assert report.errors
