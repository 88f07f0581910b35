"""A real database server: a simulated pilot in a PostgreSQL schema, read by connection URL.

The session starts a throwaway PostgreSQL cluster (the Debian packages that
``.ci/install-postgres`` installs) on 127.0.0.1 and a free port, trust auth,
as the ``postgres`` user when run as root (PostgreSQL refuses root), with a
server time zone that is not UTC so that the engine's UTC session is tested
too; the finalizer stops it and removes its data. Outside CI a machine without
the server skips with the reason; with ``CI=true`` the test fails instead.

``workbench metrics``, ``checks`` and ``analyze`` on the pilot.yml pointing at
the server must give the statistics of the same pilot read from Parquet
(counts exact, sums to 1e-9). The engine failures (a server that refuses the
connection, a URL no backend reads) are one line each, exit 1.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_engine import assert_same_stats
from typer.testing import CliRunner

from workbench.cli.main import app
from workbench.contract.io import write_pilot
from workbench.contract.tables import TABLES

SCHEMA = "pilot"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_bindir() -> Path | None:
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()]
    if found:
        return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"PostgreSQL server test cannot run in CI: {reason} (.ci/install-postgres installs the server)")
    pytest.skip(f"no PostgreSQL server on this machine: {reason} (run .ci/install-postgres)")


@pytest.fixture(scope="session")
def postgres():
    """``(host, port)`` of a throwaway PostgreSQL cluster, stopped at the end of the session."""
    if not IN_CI:
        pytest.importorskip("psycopg", reason="psycopg (ibis' PostgreSQL driver) is not installed")
    bindir = _pg_bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        _unavailable("initdb/pg_ctl not found")
    run_as: list[str] = []
    data = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            _unavailable("running as root without runuser")
        try:
            shutil.chown(data, "postgres", "postgres")
        except (LookupError, PermissionError) as exc:
            _unavailable(f"no postgres user to run the server as ({exc})")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    pgdata, log = data / "db", data / "server.log"
    opts = f"-h 127.0.0.1 -p {port} -k {data} -c timezone=America/New_York -c fsync=off"

    def pg(*args: str | Path, timeout: int = 60):
        cmd = [*run_as, *map(str, args)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)

    try:
        pg(bindir / "initdb", "-D", pgdata, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
        pg(bindir / "pg_ctl", "-D", pgdata, "-l", log, "-w", "-t", "30", "-o", opts, "start")
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        if log.exists():
            detail += log.read_text()[-500:]
        shutil.rmtree(data, ignore_errors=True)
        _unavailable(f"the server did not start: {exc} {detail.strip()[-500:]}")
    try:
        yield "127.0.0.1", port
    finally:
        # fast shutdown: the cluster is thrown away
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def pilots(postgres, tmp_path_factory):
    """The same simulated pilot as a Parquet folder and as a schema on the server."""
    import ibis

    from workbench.simulate.pilot import simulate_tables

    host, port = postgres
    cfg, tables, _ = simulate_tables(accounts=1200, seed=11, agents=10, with_truth=False)
    root = tmp_path_factory.mktemp("server")
    folder = write_pilot(root / "parquet", cfg, tables, "parquet")
    con = ibis.postgres.connect(host=host, port=port, user="postgres", database="postgres")
    con.create_database(SCHEMA, force=True)
    for name, df in tables.items():
        con.create_table(name, df, database=SCHEMA)
    con.disconnect()
    by_url = root / "url"
    by_url.mkdir()
    data = yaml.safe_load((folder / "pilot.yml").read_text())
    data["source"] = {"kind": "ibis", "url": f"postgres://postgres@{host}:{port}/postgres", "schema": SCHEMA}
    (by_url / "pilot.yml").write_text(yaml.safe_dump(data))
    return folder, by_url


def _cli(*args: str | Path) -> str:
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output + repr(r.exception)
    return r.output


def _same(a, b, where: str = "") -> None:
    """Equal documents: numbers to 1e-9 relative, integers and text exactly."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float | int):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (where, a, b)
    else:
        assert a == b, (where, a, b)


def test_metrics_checks_and_analyze_by_url_match_the_parquet_pilot(pilots, tmp_path):
    folder, by_url = pilots
    took = {}
    for verb, extra in (("metrics", ["--by", "segment"]), ("checks", []), ("analyze", ["--smoke", "--draws", "500"])):
        docs = []
        for pilot in folder, by_url:
            out = tmp_path / f"{verb}_{pilot.name}.json"
            started = time.perf_counter()
            _cli(verb, pilot, "--out", out, *extra)
            took[f"{verb} {pilot.name}"] = f"{time.perf_counter() - started:.1f} s"
            docs.append(json.loads(out.read_text()))
        file_doc, url_doc = docs
        if verb == "metrics":
            assert len(file_doc["stats"]) > 30
            assert_same_stats(pd.DataFrame(file_doc["stats"]), pd.DataFrame(url_doc["stats"]))
            assert file_doc["notes"] == url_doc["notes"]
        else:
            for doc in docs:  # where each run read its pilot from
                doc.pop("pilot", None)
            _same(file_doc, url_doc, verb)
    print("server test:", took)


def _url_pilot(tmp_path: Path, url: str) -> Path:
    from pilot_factory import make_pilot

    root = make_pilot(tmp_path / "p")
    data = yaml.safe_load((root / "pilot.yml").read_text())
    data["source"] = {"kind": "ibis", "url": url, "schema": SCHEMA}
    (root / "pilot.yml").write_text(yaml.safe_dump(data))
    return root


@pytest.mark.parametrize(
    ("url", "says"),
    [
        # a port nothing listens on: the server refuses the connection
        (f"postgres://postgres:secret@127.0.0.1:{_free_port()}/postgres", "is the server running"),
        ("nosuchdb://somewhere/x", "unknown connection url"),
    ],
    ids=["server-refuses", "bad-url"],
)
def test_engine_failures_are_one_line(tmp_path, url, says):
    pytest.importorskip("psycopg")
    root = _url_pilot(tmp_path, url)
    for verb in ("metrics", "checks", "validate"):
        r = CliRunner().invoke(app, [verb, str(root)])
        assert r.exit_code == 1, r.output + repr(r.exception)
        lines = [x for x in r.output.strip().splitlines() if x.startswith("ERROR")]
        # metrics and checks validate first: the same problem line, after the line naming the pilot
        assert len(lines) == (1 if verb == "validate" else 2), r.output
        assert lines[-1].startswith("ERROR pilot.yml.source.url"), r.output
        assert says in lines[-1].lower(), lines[-1]
        assert "secret" not in r.output, "the password is printed"
        assert "Traceback" not in r.output


def test_spark_without_java_is_one_line(tmp_path, monkeypatch):
    # no JVM is started: the engine looks for java before Spark's launcher would fail noisily
    pyspark_sql = pytest.importorskip("pyspark.sql")
    from pilot_factory import make_pilot

    monkeypatch.setattr(pyspark_sql.SparkSession, "getActiveSession", staticmethod(lambda: None))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    r = CliRunner().invoke(app, ["metrics", str(make_pilot(tmp_path / "p")), "--backend", "pyspark"])
    assert r.exit_code == 1, r.output + repr(r.exception)
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR engine: Spark needs Java"), r.output
    assert "JAVA_HOME" in lines[0] and "--backend duckdb" in lines[0]


def test_a_schema_without_the_tables_is_one_line(pilots, tmp_path):
    _, by_url = pilots
    data = yaml.safe_load((by_url / "pilot.yml").read_text())
    data["source"]["schema"] = "no_such_schema"
    root = tmp_path / "p"
    root.mkdir()
    (root / "pilot.yml").write_text(yaml.safe_dump(data))
    r = CliRunner().invoke(app, ["metrics", str(root)])
    assert r.exit_code == 1, r.output + repr(r.exception)
    lines = [x for x in r.output.strip().splitlines() if x.startswith("ERROR")]
    # validation runs first and names the missing table; the engine's own line says the same when reached
    assert lines and "accounts" in lines[-1] and "not found" in lines[-1], r.output
    assert "Traceback" not in r.output


def _on_server(postgres, root: Path, schema: str, tmp_path: Path) -> Path:
    """The Parquet pilot at ``root`` copied into a schema of the server (text columns stay text); its pilot.yml."""
    import ibis

    host, port = postgres
    con = ibis.postgres.connect(host=host, port=port, user="postgres", database="postgres")
    con.create_database(schema, force=True)
    for f in sorted(root.glob("*.parquet")):
        con.create_table(f.stem, pd.read_parquet(f), database=schema)
    con.disconnect()
    data = yaml.safe_load((root / "pilot.yml").read_text())
    data["source"] = {"kind": "ibis", "url": f"postgres://postgres@{host}:{port}/postgres", "schema": schema}
    out = tmp_path / schema
    out.mkdir(parents=True)
    (out / "pilot.yml").write_text(yaml.safe_dump(data))
    return out


def _as_text(t, at: list[str], handle: list[str], days: list[str], paid: list[str]) -> None:
    """Timestamps and numbers as a CRM export holds them: text."""
    t["contacts"]["at"], t["contacts"]["handle_seconds"] = at, handle
    t["accounts"]["days_past_due"], t["payments"]["paid_at"] = days, paid


def _typed(report, table: str, cols: list[str]) -> dict[str, list]:
    """Validation's typed values of ``cols``, in key order."""
    from workbench.contract.casts import cast_table

    t, casts = cast_table(table, report.pilot.raw[table])
    key = TABLES[table].key
    df = t.select(key, *(casts[c].typed for c in cols)).to_pandas().sort_values(key)
    return {c: df[casts[c].typed].astype(object).where(df[casts[c].typed].notna(), None).tolist() for c in cols}


def test_values_no_cast_reads_are_lines_on_postgres_as_on_duckdb(postgres, tmp_path):
    """PostgreSQL's CAST raises where DuckDB's TRY_CAST gives null: an impossible date, a number beyond a
    double or an int64 must be one line each (not an unreadable table), the lines and values DuckDB gives."""
    from pilot_factory import make_pilot

    from workbench.contract.validate import open_and_validate

    def edit(t):
        _as_text(
            t,
            # 07:00+16:00 is 2026-01-13 15:00 UTC: an offset PostgreSQL's own parser refuses, DuckDB reads
            at=["2026-01-06T10:00:00Z", "2026-02-30", "2026-01-01 25:00:00", "2026-01-14 07:00+16:00"],
            handle=["1e999", "0", "420", "12.5.3"],
            days=["30", "60", "1e300", "4.5e1"],
            paid=["2026-01-19", "2026-13-01"],
        )
        t["contacts"].loc[2, "channel"] = "pigeon"  # a value rule of the same table still runs
        t["payments"].loc[1, "account_id"] = "ZZ"  # and the cross-table rules

    root = make_pilot(tmp_path / "p", "parquet", None, edit)
    duck = open_and_validate(root)
    pg = open_and_validate(_on_server(postgres, root, "text_pilot", tmp_path))
    lines = [p.line() for p in duck.errors + duck.warnings]
    assert not any("unreadable" in x for x in lines), lines
    for expected in (
        "ERROR contacts.handle_seconds [a finite number]: 1 row, e.g. 1e999",
        "ERROR contacts.handle_seconds [a number]: 1 row, e.g. '12.5.3'",
        "ERROR accounts.days_past_due [an integer]: 1 row, e.g. '1e300'",
        "ERROR payments.account_id [exists in accounts]: 1 row, e.g. ZZ",
    ):
        assert expected in lines, (expected, lines)
    at = next(x for x in lines if x.startswith("ERROR contacts.at [parseable timestamp"))
    assert at.endswith("2 rows, e.g. '2026-02-30', '2026-01-01 25:00:00'"), at
    assert any(x.startswith("ERROR payments.paid_at [parseable timestamp") and x.endswith("e.g. '2026-13-01'") for x in lines)
    assert any(x.startswith("ERROR contacts.channel [one of") for x in lines), lines
    assert [p.line() for p in pg.errors + pg.warnings] == lines
    # the values that do parse are the same instants and numbers
    typed = _typed(duck, "contacts", ["at", "handle_seconds"])
    assert typed == _typed(pg, "contacts", ["at", "handle_seconds"])
    assert typed["at"][3] == pd.Timestamp("2026-01-13 15:00") and typed["handle_seconds"][1:3] == [0.0, 420.0]
    assert (
        _typed(duck, "accounts", ["days_past_due"])
        == _typed(pg, "accounts", ["days_past_due"])
        == {"days_past_due": [30, 60, None, 45]}
    )
