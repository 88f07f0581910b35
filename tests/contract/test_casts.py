"""The safe casts' shortcuts on DuckDB: a trim only where it can change a value, no count a typed source cannot fail."""

from __future__ import annotations

import math
import string

import ibis
import ibis.expr.datatypes as dt
import pytest

from workbench.contract.casts import cannot_fail, spark_format, trimmed

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


# ISO text DuckDB reads (or refuses) at the edges: impossible dates, 24:00, offsets PostgreSQL's parser
# refuses, year 0 (1 BC), fractions beyond microseconds, forms DuckDB refuses (lower-case t, hour alone).
TIMESTAMPS = [
    *("2026-02-30", "2026-02-29", "2024-02-29", "1900-02-29", "2000-02-29", "2026-04-31", "2026-06-30"),
    *("2026-13-01", "2026-00-10", "2026-01-00", "2026-1-5", "0000-01-01", "0000-02-29 10:00Z", "9999-12-31 23:59:59-05"),
    *("2026-01-01 25:00:00", "2026-01-01 24:00", "2026-01-01 24:00:00.000", "2026-01-01 24:00:01", "2026-12-31 24:00+01"),
    *("2026-01-01 23:60", "2026-01-01 23:59:60", "2026-01-01 23:59:59.9999999", "2026-01-01T10:00:00.123456789+01"),
    *("2026-01-01 10", "2026-01-01t10:00", "2026-01-01 10:00z", "2026-01-01 10:00 +05", "2026-01-01Z", "2026-01-01+05"),
    *("2026-01-01 10:00+0530", "2026-01-01 10:00-18:00", "2026-01-01 10:00+99", "2026-01-01 10:00+05:60", None, "soon"),
]
# Numbers at the edges of a double: beyond the largest (overflow), below half the smallest subnormal (0).
NUMBERS = [
    *("1e999", "1.797693134862315807e308", "1.797693134862315808e308", "1234567890123456789012345678901234567890e269"),
    *("1e-400", "2e-324", "3e-324", "2.4703282292062327208e-324", "2.4703282292062327209e-324", "1e-320"),
    *("0.1e309", "-0.00100e+0000309", "1e99999999999999", "1e-99999999999", "1e000000", "5e-0000001", "00.00e5"),
    *("12", "-3.5", "+.5e+3", "5.", "inf", "nan", "12.5.3", None),
]


def test_checked_casts_give_the_values_of_duckdbs_try_cast():
    """The casts PostgreSQL gets (safecasts), evaluated on DuckDB: DuckDB's TRY_CAST's values, where an
    overflow (TRY_CAST: inf) and inf/nan text are null (counted not finite either way)."""
    from workbench.contract.casts import ISO_8601, NOT_FINITE, NUMBER
    from workbench.contract.safecasts import finite_float, iso_timestamp

    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    t = con.create_table("ts", ibis.memtable({"s": TIMESTAMPS}, schema={"s": "string"}))
    iso = t.s.lower().re_search(ISO_8601).fill_null(False)
    ref = ibis.ifelse(iso, t.s, ibis.null("string")).try_cast("timestamp('UTC')").cast("timestamp")
    # epoch and microseconds: Python's datetime has no year 0
    rows = t.select(
        ref=ref.epoch_seconds(),
        ref_us=ref.microsecond(),
        safe=iso_timestamp(t.s).epoch_seconds(),
        safe_us=iso_timestamp(t.s).microsecond(),
    ).to_pandas()
    assert rows["ref"].isna().sum() >= 15 and rows["ref"].notna().sum() >= 15  # both kinds of edge are there
    assert rows.fillna(-1)[["safe", "safe_us"]].values.tolist() == rows.fillna(-1)[["ref", "ref_us"]].values.tolist()
    n = con.create_table("n", ibis.memtable({"s": NUMBERS}, schema={"s": "string"}))
    low = n.s.lower()
    ok, inf = low.re_search(NUMBER).fill_null(False), low.re_search(NOT_FINITE).fill_null(False)
    ref = ibis.ifelse(ok, n.s, ibis.null("string")).try_cast("float64")
    got = n.select(ref=ref, safe=finite_float(low, ok, inf)).to_pandas()
    expected = [None if r is None or math.isnan(r) or math.isinf(r) else r for r in got["ref"].astype(object)]
    assert [None if math.isnan(s) else s for s in got["safe"]] == expected
    assert expected.count(None) == 7 and expected.count(0.0) == 5


@pytest.mark.parametrize(
    ("fmt", "pattern"),
    [
        ("%m/%d/%Y %H:%M", "M/d/yyyy H:m"),  # between literals: one or two digits, as strptime reads
        ("%Y%m%d", "yyyyMMdd"),  # beside another field: the fixed width is the only reading
        ("%Y-%m-%dT%H:%M:%S.%f", "yyyy-M-d'T'H:m:s.SSSSSS"),  # a literal letter quoted, else Spark's pattern letter
        ("%d.%m.%y %I:%M %p", "d.M.yy h:m a"),
        ("%d %b %Y at %H", "d MMM yyyy 'at' H"),
    ],
)
def test_spark_pattern_of_a_strptime_format(fmt, pattern):
    assert spark_format(fmt) == pattern


@pytest.mark.parametrize(
    ("fmt", "values"),
    [
        (
            "%m/%d/%Y %H:%M",
            [
                "01/06/2026 10:00",
                "1/6/2026 9:05",
                "02/30/2026 10:00",
                "02/29/2024 23:59",
                "13/01/2026 10:00",
                "2026-01-07 09:30",
                "01/06/2026 24:00",
                "01/06/2026 10:60",
                "01/06/2026 10:5",
                "01/06/2026  10:00",
                "001/06/2026 10:00",
                "01/06/26 10:00",
                None,
            ],
        ),
        ("%Y%m%d", ["20260106", "2026016", "20260230", "20261301", "2026-01-06"]),
        (
            "%d.%m.%Y %H:%M:%S.%f",
            ["06.01.2026 10:00:00.5", "6.1.2026 1:2:3.123456", "06.01.2026 10:00:61.0", "06.01.2026 10:00:00"],
        ),
    ],
)
def test_checked_strptime_gives_the_values_of_duckdbs_try_strptime(fmt, values):
    """timestamp_format on PostgreSQL (safecasts.strptime_timestamp), evaluated on DuckDB: try_strptime's values."""
    from workbench.contract.casts import _duckdb_try_strptime
    from workbench.contract.safecasts import strptime_timestamp

    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    t = con.create_table("v", ibis.memtable({"s": values}, schema={"s": "string"}))
    ref = _duckdb_try_strptime()(t.s, fmt).cast("timestamp('UTC')").cast("timestamp")
    got = t.select(ref=ref, safe=strptime_timestamp(t.s, fmt)).to_pandas()
    assert got["ref"].notna().sum() >= 2 and got["ref"].isna().sum() >= 2
    assert got["safe"].tolist() == got["ref"].tolist() or got["safe"].astype(str).tolist() == got["ref"].astype(str).tolist()


def test_a_format_the_checked_strptime_does_not_read_is_left_to_the_engine():
    from workbench.contract.safecasts import format_regex

    assert format_regex("%d %b %Y") is None  # month names
    assert format_regex("%I:%M %p %m/%d/%Y") is None  # 12-hour clock
    assert format_regex("%m/%d/%Y %H:%M") == (
        r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{1,4})\s+([0-9]{1,2}):([0-9]{1,2})$",
        list("mdYHM"),
    )
