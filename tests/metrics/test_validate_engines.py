"""Validation runs on the engine: one broken pilot gives the same lines on DuckDB, Spark and PostgreSQL.

The pilot breaks many rules at once (a range, a value that is not finite, an
enumeration, not null, a repeated key and so an account in two arms, an
unknown account, due before made, and three warnings), and is written by
pandas with nanosecond timestamps, the Parquet Spark refuses unless read as
longs. DuckDB's lines are checked rule by rule; Spark (through the CLI's
``--backend pyspark``) and a PostgreSQL schema must print exactly them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from pilot_factory import config_dict, make_pilot, ts
from typer.testing import CliRunner

from workbench.cli.main import app
from workbench.contract.validate import validate_pilot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_server import _on_server, postgres  # noqa: F401  (the session's PostgreSQL server, a fixture)
from test_validate import _set


def _broken(t) -> None:
    for edit in (
        _set("accounts", "balance", 2, -1.0),
        _set("accounts", "prior_paid", 1, float("inf")),
        _set("accounts", "account_id", 1, "A1"),
        _set("accounts", "segment", 0, "astronaut"),
        _set("contacts", "channel", 2, "pigeon"),
        _set("contacts", "reached", 1, None),
        _set("contacts", "at", 0, ts("2025-12-31")),
        _set("payments", "account_id", 1, "ZZ"),
        _set("payments", "paid_at", 0, ts("2026-09-01")),
        _set("promises", "due_at", 0, ts("2026-01-01")),
        _set("surveys", "csat", 0, 9),
    ):
        edit(t)


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    root = make_pilot(tmp_path_factory.mktemp("engines") / "p", "parquet", None, _broken)
    for f in root.glob("*.parquet"):  # as pandas writes them by default: nanoseconds
        df = pd.read_parquet(f)
        for col in df.columns:
            if isinstance(df[col].dtype, pd.DatetimeTZDtype):
                df[col] = df[col].astype("datetime64[ns, UTC]")
        df.to_parquet(f)
    assert pq.read_schema(root / "contacts.parquet").field("at").type.unit == "ns"
    return root


def _lines(report) -> list[str]:
    return [p.line() for p in report.errors + report.warnings]


def test_duckdb_names_every_broken_rule_once(broken):
    lines = _lines(validate_pilot(broken))
    where = [line.split("]")[0] + "]" for line in lines]
    for expected in (
        "ERROR accounts.account_id [unique]",
        "ERROR accounts.balance [>= 0]",
        "ERROR accounts.prior_paid [a finite number]",
        "ERROR contacts.reached [not null]",
        "ERROR surveys.csat [an integer 1-5]",
        "ERROR accounts.arm [an account in one arm only]",
        "ERROR promises.due_at [due_at >= made_at]",
        "ERROR payments.account_id [exists in accounts]",
        "WARNING accounts.segment [a segment listed in pilot.yml segments]",
        "WARNING contacts.at [at before the account's assigned_at (ignored by metrics)]",
        "WARNING payments.paid_at [paid_at after observed_until (ignored by metrics)]",
    ):
        assert where.count(expected) == 1, (expected, lines)
    assert any(w.startswith("ERROR contacts.channel [one of call,") for w in where), lines
    # the examples are the offending values or ids, as the user wrote them
    assert "ERROR accounts.prior_paid [a finite number]: 1 row, e.g. inf" in lines
    assert "ERROR payments.account_id [exists in accounts]: 1 row, e.g. ZZ" in lines


@pytest.mark.slow  # a dozen Spark queries: 283 s measured under load 11 on 2 cores, beside the session's start
def test_spark_prints_the_same_lines_through_the_cli(broken, spark):
    duck = CliRunner().invoke(app, ["validate", str(broken)])
    sp = CliRunner().invoke(app, ["validate", str(broken), "--backend", "pyspark"])
    assert duck.exit_code == sp.exit_code == 1, sp.output
    problems = [x for x in sp.output.splitlines() if x.startswith(("ERROR", "WARNING"))]
    assert problems == [x for x in duck.output.splitlines() if x.startswith(("ERROR", "WARNING"))]
    assert len(problems) >= 12


def test_postgres_prints_the_same_lines(broken, postgres, tmp_path):  # noqa: F811  (the fixture imported above)
    on_server = _on_server(postgres, broken, "broken_pilot", tmp_path)
    assert _lines(validate_pilot(on_server)) == _lines(validate_pilot(broken))


FORMAT = "%m/%d/%Y %H:%M"


def _formatted(t) -> None:
    """Every timestamp in pilot.yml's timestamp_format (month first), three that do not fit it."""
    for df in t.values():
        for col in df.columns:
            if str(df[col].dtype).startswith("datetime"):
                df[col] = df[col].dt.strftime(FORMAT).astype(object)
    t["contacts"]["at"] = ["01/06/2026 10:00", "02/30/2026 10:00", "2026-01-07 09:30", "1/13/2026 15:00"]
    t["payments"].loc[1, "paid_at"] = "13/01/2026 10:00"  # day first


def test_spark_reads_timestamp_format_as_duckdb(spark, tmp_path):
    """pilot.yml's timestamp_format on Spark: the typed values and the lines DuckDB gives. Spark's
    to_timestamp raised on 02/30 (ANSI mode) and read %m as two digits only (1/13/2026)."""
    from workbench.contract.casts import cast_table
    from workbench.contract.mapping import Mapping
    from workbench.contract.validate import open_and_validate

    root = make_pilot(tmp_path / "p", "csv", config_dict(timestamp_format=FORMAT), _formatted)
    reports = {b: open_and_validate(root, b) for b in ("duckdb", "pyspark")}
    lines = {b: _lines(r) for b, r in reports.items()}
    rule = f"parseable timestamp (timestamp_format {FORMAT!r}, read in UTC)"
    assert lines["duckdb"] == [
        f"ERROR contacts.at [{rule}]: 2 rows, e.g. '02/30/2026 10:00', '2026-01-07 09:30'",
        f"ERROR payments.paid_at [{rule}]: 1 row, e.g. '13/01/2026 10:00'",
    ]
    assert lines["pyspark"] == lines["duckdb"]
    typed = {}
    for b, r in reports.items():
        t, casts = cast_table("contacts", r.pilot.raw["contacts"], Mapping.of(r.pilot.config))
        typed[b] = t.select("contact_id", at=t[casts["at"].typed]).to_pandas().sort_values("contact_id")["at"].tolist()
    assert typed["duckdb"][0] == pd.Timestamp("2026-01-06 10:00") and typed["duckdb"][3] == pd.Timestamp("2026-01-13 15:00")
    assert pd.isna(typed["duckdb"][1]) and pd.isna(typed["duckdb"][2])
    assert [str(x) for x in typed["pyspark"]] == [str(x) for x in typed["duckdb"]]


def test_postgres_reads_timestamp_format_as_duckdb(postgres, tmp_path):  # noqa: F811  (the fixture imported above)
    """PostgreSQL's to_timestamp raised on 02/30/2026 (the table unreadable): the checked fields give
    DuckDB's lines, and a pilot whose values all fit gives DuckDB's statistics."""
    from test_engine import assert_same_stats

    from workbench.metrics.stats import compute_metrics

    def fitting(t):
        _formatted(t)
        t["contacts"].loc[[1, 2], "at"] = ["01/06/2026 11:00", "1/7/2026 9:30"]
        t["payments"].loc[1, "paid_at"] = "01/22/2026 00:00"

    cfg = config_dict(timestamp_format=FORMAT)
    for edit, schema in ((_formatted, "formatted_broken"), (fitting, "formatted")):
        root = make_pilot(tmp_path / schema, "parquet", cfg, edit)
        server = _on_server(postgres, root, schema, tmp_path / "url")
        duck, pg = validate_pilot(root), validate_pilot(server)
        assert _lines(pg) == _lines(duck)
        assert duck.ok is (edit is fitting), _lines(duck)
    assert_same_stats(compute_metrics(root), compute_metrics(server))


def test_run_takes_the_engine_and_refuses_an_unknown_one(tmp_path):
    """``run --backend`` reaches validation before any run folder exists: an unknown engine is one line."""
    pilot = make_pilot(tmp_path / "p", "parquet")
    out = tmp_path / "reports"
    r = CliRunner().invoke(app, ["run", str(pilot), "--out", str(out), "--backend", "sparkle"])
    assert r.exit_code == 1, r.output
    assert "unknown backend 'sparkle'" in r.output and "Traceback" not in r.output
    assert not out.exists()
