"""The safe casts' shortcuts on DuckDB: a trim only where it can change a value, no count a typed source cannot fail."""

from __future__ import annotations

import string

import ibis
import ibis.expr.datatypes as dt
import pytest

from workbench.contract.casts import cannot_fail, trimmed

VALUES = [
    "A001",
    " A001",
    "A001 ",
    "\tA001\n",
    "   ",
    "",
    "\x0b\x0cx\r",
    "in side",
    "\xa0nbsp\xa0",  # above 32: not whitespace to ibis' strip either
    "é ",
    " 😀",
    None,
]


def test_trimmed_is_strip_on_every_kind_of_edge():
    con = ibis.duckdb.connect()
    t = con.create_table("v", ibis.memtable({"s": VALUES}, schema={"s": "string"}))
    fast = t.select(t.s, fast=trimmed(t.s, "duckdb"), plain=t.s.strip()).to_pyarrow().to_pylist()
    assert [r["fast"] for r in fast] == [r["plain"] for r in fast]
    expected = [None if v is None else v.strip(string.whitespace) for v in VALUES]
    assert [r["fast"] for r in fast] == expected


@pytest.mark.parametrize(
    ("rule", "kind", "dtype", "skipped"),
    [
        ("a timestamp", "timestamp", dt.Timestamp(timezone="UTC"), True),
        ("a timestamp", "timestamp", dt.string, False),  # text can hold 2026-13-45
        ("a boolean", "bool", dt.boolean, True),
        ("a boolean", "bool", dt.int64, False),
        ("a number", "float", dt.float64, True),
        ("a number", "float", dt.string, False),
        ("a finite number", "float", dt.float64, False),  # inf and NaN are floats
        ("a finite number", "float", dt.int64, True),
        ("a finite number", "float", dt.Decimal(12, 2), True),
        ("an integer", "int", dt.int32, True),
        ("an integer", "int", dt.float64, False),  # 1.5 is a float
    ],
)
def test_only_counts_a_typed_source_cannot_fail_are_skipped(rule, kind, dtype, skipped):
    assert cannot_fail(rule, kind, dtype) is skipped
