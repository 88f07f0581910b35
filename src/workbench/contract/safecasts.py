"""Casts from text that never raise, for engines without a safe cast (PostgreSQL).

DuckDB and Spark have ``TRY_CAST``: a value that does not parse becomes null.
ibis compiles ``try_cast`` to a plain ``CAST`` on PostgreSQL (and on engines
like it), which raises on the first impossible date or out-of-range number, so
one bad cell made the whole table unreadable. Here the text is checked first by
ibis expressions (regular expressions, string lengths, integer ranges; nothing
an engine can fail on) and cast only where the cast cannot fail, with the
values DuckDB's ``TRY_CAST`` gives:

Timestamps (ISO 8601 as DuckDB reads it)::

    YYYY-M-D [(T| )H:MM[:SS[.f]][Z | +HH[[:]MM]]]     (T and Z upper case)
    1 <= M <= 12, 1 <= D <= days(M, Y)               (February 29 in leap years:
                                                     Y % 4 == 0 and Y % 100 != 0, or Y % 400 == 0)
    H <= 23, MM <= 59, SS <= 59, or exactly 24:00[:00] (midnight of the next day)
    value = timestamp(YYYY-M-D H:MM:SS.ffffff) - sign (HH * 60 + MM) minutes

The fraction is truncated to microseconds, the offset applied as minutes (any
two digits, as DuckDB does; PostgreSQL's own parser refuses offsets beyond
15:59), and year 0 is 1 BC (read as year 4, then 4 years back).

Timestamps in pilot.yml's ``timestamp_format`` (numeric strptime codes ``%Y %m %d %H %M %S %f``
and literals) are read by the format as one regular expression, their fields checked as above
(but 24:00, which strptime refuses) and cast as ISO text; month names and the 12-hour clock are
left to the engine's own parser.

Numbers (text that matched :data:`workbench.contract.casts.NUMBER`, not ``inf``/``nan``)::

    digits = integer and fraction digits, sig = digits without leading zeros
    m = len(integer digits) - (leading zeros of digits) - 1 + exponent   (value = d.ddd x 10^m)
    sig empty                                     -> 0
    m > 308, or m = 308 and sig >= 1.7976931348623158079e308's digits   -> overflow (null: not finite)
    m < -324, or m = -324 and sig <= 2.4703282292062327208e-324's digits -> 0 (rounds to zero)
    otherwise                                     -> CAST(text AS DOUBLE)

The two bounds are half an ulp beyond the largest double and half the smallest
subnormal (round to nearest even); digits are compared on the first 20, so a
value within 1e-19 relative of a bound may be classed as beyond it (never cast,
so never an error).
"""

from __future__ import annotations

import re
from typing import Any

import ibis

#: Engines whose ``try_cast`` is a real safe cast; every other engine gets the checked casts below.
TRY_CAST_ENGINES = frozenset({"duckdb", "pyspark"})

TIMESTAMP = (
    r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"([T ]([0-9]{1,2}):([0-9]{2})(:([0-9]{2})(\.([0-9]+))?)?(Z|([+-])([0-9]{2}):?([0-9]{2})?)?)?$"
)
# Its fields, read by separate expressions (DuckDB's regexp_extract reads groups 0-9 only).
DATE = r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
CLOCK = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[T ]([0-9]{1,2}):([0-9]{2})(:([0-9]{2})(\.([0-9]+))?)?"
ZONE = r":[0-9]{2}(\.[0-9]+)?([+-])([0-9]{2}):?([0-9]{2})?$"
# The local part of a TIMESTAMP (no zone), the fraction cut to microseconds.
LOCAL = r"^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?)"
# The parts of a number's text (lower case, matched NUMBER) its magnitude is read from.
INTEGER_DIGITS = r"^[+-]?0*([0-9]*)"
FRACTION_ZEROS = r"^[+-]?0*\.(0*)"
EXPONENT = r"e([+-]?0*[0-9]{1,5})$"
HUGE_EXPONENT = r"e[+-]?0*[1-9][0-9]{5}"
MANTISSA = r"^[+-]?([0-9.]*)"
NONZERO = r"^[^e]*[1-9]"
# The first 20 significant digits of the bounds (see the module's docstring).
OVERFLOW_DIGITS = "17976931348623158079"
UNDERFLOW_DIGITS = "24703282292062327208"
MAX_EXPONENT_DIGITS = 5


def safe_cast(backend: str) -> bool:
    """Whether the engine needs the checked casts (its ``try_cast`` raises)."""
    return backend not in TRY_CAST_ENGINES and backend != ""


def _group(text: Any, pattern: str, i: int) -> Any:
    # null when the group did not take part (DuckDB returns '' there, PostgreSQL null)
    return text.re_extract(pattern, i).nullif("")


def _int(text: Any, pattern: str, i: int) -> Any:
    return _group(text, pattern, i).cast("int32")


def _valid_date_time(y: Any, m: Any, d: Any, hh: Any, mi: Any, ss: Any, frac: Any, midnight: bool) -> Any:
    """Whether the fields (integers; ``hh`` null for a date alone) make a timestamp: the month's days
    (leap years), 00:00:00-23:59:59, and with ``midnight`` exactly 24:00[:00] too (ISO 8601)."""
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    days = ibis.cases((m == 2, ibis.ifelse(leap, 29, 28)), (m.isin([4, 6, 9, 11]), 30), else_=31)
    clock = (hh <= 23) & (mi <= 59) & (ss.isnull() | (ss <= 59))
    if midnight:
        clock = clock | ((hh == 24) & (mi == 0) & (ss.isnull() | (ss == 0)) & (frac.isnull() | frac.re_search("^0+$")))
    return m.between(1, 12) & d.between(1, days) & (hh.isnull() | clock)


def _local(valid: Any, text: Any, y: Any) -> Any:
    """``CAST(text AS TIMESTAMP)`` where ``valid`` (text ``YYYY-...``, 4 digits of year), else null.

    DuckDB reads year 0 as 1 BC, a leap year, which PostgreSQL's cast refuses: read in year 4
    (leap too), then 4 years earlier."""
    text = ibis.ifelse(y == 0, "0004" + text.substr(4), text)
    ts = ibis.ifelse(valid.fill_null(False), text, ibis.null("string")).cast("timestamp")
    return ts - ibis.ifelse(y == 0, 4, 0).as_interval("Y")


def iso_timestamp(text: Any) -> Any:
    """Trimmed text as a naive UTC timestamp, null unless ISO 8601 as DuckDB reads it (the module's docstring)."""
    y, m, d = (_int(text, DATE, i) for i in (1, 2, 3))
    hh, mi, ss = _int(text, CLOCK, 1), _int(text, CLOCK, 2), _int(text, CLOCK, 4)
    valid = text.re_search(TIMESTAMP) & _valid_date_time(y, m, d, hh, mi, ss, _group(text, CLOCK, 6), midnight=True)
    sign = ibis.ifelse(_group(text, ZONE, 2) == "-", -1, 1)
    offset = (sign * (_int(text, ZONE, 3) * 60 + _int(text, ZONE, 4).fill_null(0))).fill_null(0)
    return _local(valid, _group(text, LOCAL, 1), y) - offset.as_interval("m")


def finite_float(low: Any, ok: Any, not_finite: Any) -> Any:
    """Lower-case number text (``ok``: it matched NUMBER) as a double, null when not a finite number.

    ``inf``/``nan`` text and overflowing values are null (both are counted as not finite by the
    caller), values that round to zero are 0 (the module's docstring). Each part is one regular
    expression on the text, read by the next without nesting: PostgreSQL expands every reference to a
    column of a subquery into its expression, so nested parts grow the query exponentially (measured:
    a 4-row table took 70 s to plan and run when the digits were derived from one another).
    """
    lead = low.re_extract(INTEGER_DIGITS, 1).length()  # integer digits after leading zeros
    zeros = low.re_extract(FRACTION_ZEROS, 1).length().fill_null(0)  # zeros after the point (integer part 0)
    huge = low.re_search(HUGE_EXPONENT)
    exp = low.re_extract(EXPONENT, 1).nullif("").cast("int32").fill_null(0)
    exp = ibis.ifelse(huge, ibis.ifelse(low.re_search("e-"), -1, 1) * 10**MAX_EXPONENT_DIGITS, exp)
    mag = ibis.ifelse(lead > 0, lead - 1, -zeros - 1) + exp
    top = low.re_extract(MANTISSA, 1).re_replace(r"\.", "").re_replace("^0+", "").substr(0, 20).rpad(20, "0")
    zero = ~low.re_search(NONZERO)
    over = (mag > 308) | ((mag == 308) & (top >= OVERFLOW_DIGITS))
    under = (mag < -324) | ((mag == -324) & (top <= UNDERFLOW_DIGITS))
    number = ok & ~not_finite
    return ibis.cases(
        ((number & (zero | under)).fill_null(False), 0.0),
        ((number & ~over).fill_null(False), low.cast("float64")),
        else_=ibis.null("float64"),
    )


# strptime codes the checked cast reads (pilot.yml ``timestamp_format``), as regular expressions.
_FIELDS = {
    "Y": "[0-9]{1,4}",
    "m": "[0-9]{1,2}",
    "d": "[0-9]{1,2}",
    "H": "[0-9]{1,2}",
    "M": "[0-9]{1,2}",
    "S": "[0-9]{1,2}",
    "f": "[0-9]{1,6}",
}


def format_regex(fmt: str) -> tuple[str, list[str]] | None:
    """A strptime format as an anchored regular expression and the codes of its groups, in order;
    None when it holds a code the checked cast does not read (month names, 12-hour clock, ...)."""
    pattern, codes = "", []
    for part in re.findall(r"%.|[^%]+", fmt):
        if part == "%%":
            pattern += "%"
        elif part.startswith("%") and len(part) == 2:
            if part[1] not in _FIELDS or part[1] in codes:
                return None
            pattern += f"({_FIELDS[part[1]]})"
            codes.append(part[1])
        else:  # a literal; a space matches any run of white space, as DuckDB's strptime reads it
            pattern += "".join(r"\s+" if w.isspace() else re.escape(w) for w in re.findall(r"\s+|[^\s]", part))
    return ("^" + pattern + "$", codes) if {"Y", "m", "d"} <= set(codes) else None


def strptime_timestamp(text: Any, fmt: str) -> Any | None:
    """Trimmed text in ``fmt`` (numeric strptime codes) as a naive UTC timestamp, null where it does
    not parse: the fields are read by the format's regular expression, checked as ISO fields are
    (but for 24:00, which strptime refuses), and cast as ISO 8601 text (``YYYY-M-D H:MM:SS.ffffff``).
    Each field is read from the text itself, never from another expression (see :func:`finite_float`:
    nested, the statistics' query of a 4-account pilot took 24 s on PostgreSQL). None when the format
    holds a code this does not read (see :func:`format_regex`)."""
    found = format_regex(fmt)
    if found is None:
        return None
    pattern, codes = found

    def field(code: str, default: str | None) -> Any:
        if code in codes:
            return text.re_extract(pattern, codes.index(code) + 1).nullif("")
        return ibis.literal(default, type="string")

    y, m, d = (field(c, None).cast("int32") for c in "Ymd")
    hh, mi, ss = (field(c, "0").cast("int32") for c in "HMS")
    valid = text.re_search(pattern) & _valid_date_time(y, m, d, hh, mi, ss, None, midnight=False)
    iso = field("Y", None).lpad(4, "0") + "-" + field("m", None) + "-" + field("d", None)
    iso += " " + field("H", "0") + ":" + field("M", "0").lpad(2, "0") + ":" + field("S", "0").lpad(2, "0")
    iso += "." + field("f", "0")
    return _local(valid, iso, y)
