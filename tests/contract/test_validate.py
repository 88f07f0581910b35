"""Each validation rule with a small broken pilot and the line it must print."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from pilot_factory import config_dict, make_pilot, ts
from shared import cli

from workbench.contract.source import PilotError
from workbench.contract.validate import load_pilot, validate_pilot


def _set(table, col, row, value):
    def edit(t):
        df = t[table]
        if df[col].dtype.kind in "iuf" or str(df[col].dtype) in ("Int64", "Float64", "boolean", "bool"):
            df[col] = df[col].astype(object)
        if "datetime" in str(df[col].dtype):
            df[col] = df[col].astype(object)
        df.loc[row, col] = value

    return edit


def _drop_col(table, col):
    def edit(t):
        t[table] = t[table].drop(columns=[col])

    return edit


def _drop_table(table):
    def edit(t):
        del t[table]

    return edit


def _concat(table, row: dict):
    def edit(t):
        t[table] = pd.concat([t[table], pd.DataFrame([row])], ignore_index=True)

    return edit


BROKEN = {
    # name: (edit, fmt, config overrides, expected line fragments)
    "duplicate account id": (
        _set("accounts", "account_id", 1, "A1"),
        "parquet",
        {},
        "ERROR accounts.account_id [unique]: 2 rows, e.g. A1",
    ),
    "account in two arms": (
        _set("accounts", "account_id", 1, "A1"),
        "parquet",
        {},
        "ERROR accounts.arm [an account in one arm only]: 2 rows, e.g. A1",
    ),
    "orphan contact": (
        _set("contacts", "account_id", 0, "A99"),
        "parquet",
        {},
        "ERROR contacts.account_id [exists in accounts]: 1 row, e.g. A99",
    ),
    "orphan payment": (
        _set("payments", "account_id", 1, "ZZ"),
        "parquet",
        {},
        "ERROR payments.account_id [exists in accounts]: 1 row, e.g. ZZ",
    ),
    "undeclared arm": (
        _set("accounts", "arm", 0, "nice"),
        "parquet",
        {},
        "ERROR accounts.arm [declared in pilot.yml arms (found 'nice')]: 1 row, e.g. A1",
    ),
    "declared arm without accounts": (
        None,
        "parquet",
        {"arms": {"control": "pressure", "treatment": "empathy", "treatment_b": "hybrid"}},
        "ERROR accounts.arm [declared arm 'hybrid' has accounts (it has none)]",
    ),
    "due before made": (
        _set("promises", "due_at", 0, ts("2026-01-01")),
        "parquet",
        {},
        "ERROR promises.due_at [due_at >= made_at]: 1 row, e.g. P1",
    ),
    "zero promise amount": (_set("promises", "amount", 1, 0.0), "parquet", {}, "ERROR promises.amount [> 0]: 1 row, e.g. '0.0'"),
    "negative payment": (_set("payments", "amount", 0, -5.0), "parquet", {}, "ERROR payments.amount [> 0]: 1 row, e.g. '-5.0'"),
    "negative balance": (
        _set("accounts", "balance", 2, -1.0),
        "parquet",
        {},
        "ERROR accounts.balance [>= 0]: 1 row, e.g. '-1.0'",
    ),
    "negative handle time": (
        _set("contacts", "handle_seconds", 0, -3.0),
        "parquet",
        {},
        "ERROR contacts.handle_seconds [>= 0]: 1 row, e.g. '-3.0'",
    ),
    "csat out of range": (_set("surveys", "csat", 0, 7), "parquet", {}, "ERROR surveys.csat [an integer 1-5]: 1 row, e.g. '7'"),
    "csat not integer": (_set("surveys", "csat", 1, 4.5), "csv", {}, "ERROR surveys.csat [an integer]: 1 row, e.g. '4.5'"),
    "nps out of range": (_set("surveys", "nps", 1, 11), "parquet", {}, "ERROR surveys.nps [an integer 0-10]: 1 row, e.g. '11'"),
    "unknown channel": (
        _set("contacts", "channel", 2, "pigeon"),
        "parquet",
        {},
        "ERROR contacts.channel [one of call, sms, email, letter, chat, portal (any case); "
        "map others in pilot.yml values: contacts.channel]: 1 row, e.g. 'pigeon'",
    ),
    "unknown direction": (
        _set("contacts", "direction", 1, "sideways"),
        "parquet",
        {},
        "ERROR contacts.direction [one of outbound, inbound (any case); map others in pilot.yml values: contacts.direction]: "
        "1 row, e.g. 'sideways'",
    ),
    "empathy score above 100": (
        _set("contacts", "empathy_score", 1, 130.0),
        "parquet",
        {},
        "ERROR contacts.empathy_score [between 0 and 100]: 1 row, e.g. '130.0'",
    ),
    "unparseable timestamp": (
        _set("contacts", "at", 3, "next tuesday"),
        "csv",
        {},
        "ERROR contacts.at [parseable timestamp (ISO 8601, read in UTC); e.g. 2026-03-01T14:22:00Z, "
        "or set timestamp_format in pilot.yml (strptime codes)]: 1 row, e.g. 'next tuesday'",
    ),
    "text in a number": (
        _set("accounts", "balance", 0, "n/a"),
        "csv",
        {},
        "ERROR accounts.balance [a number]: 1 row, e.g. 'n/a'",
    ),
    "not a boolean": (
        _set("contacts", "reached", 0, "maybe"),
        "csv",
        {},
        "ERROR contacts.reached [a boolean (true/false)]: 1 row, e.g. 'maybe'",
    ),
    "null required value": (
        _set("accounts", "assigned_at", 3, None),
        "csv",
        {},
        "ERROR accounts.assigned_at [not null]: 1 row, e.g. A4",
    ),
    "missing required column": (
        _drop_col("payments", "paid_at"),
        "parquet",
        {},
        "ERROR payments.paid_at [required column missing; found 'payment_id', 'account_id', 'amount']",
    ),
    "missing accounts table": (_drop_table("accounts"), "parquet", {}, "ERROR accounts [required table not found"),
    "empty accounts": (
        lambda t: t.update(accounts=t["accounts"].iloc[0:0], **{k: t[k].iloc[0:0] for k in t if k != "accounts"}),
        "parquet",
        {},
        "ERROR accounts [at least one account (the table is empty)]",
    ),
    "duplicate contact id": (
        _set("contacts", "contact_id", 3, "C1"),
        "parquet",
        {},
        "ERROR contacts.contact_id [unique]: 2 rows, e.g. C1",
    ),
    "unknown complaint kind": (
        _set("complaints", "kind", 0, "angry"),
        "parquet",
        {},
        "ERROR complaints.kind [one of internal, regulator (any case); map others in pilot.yml values: complaints.kind]: "
        "1 row, e.g. 'angry'",
    ),
    "closed before assigned": (
        _set("accounts", "closed_at", 1, ts("2025-12-01")),
        "parquet",
        {},
        "ERROR accounts.closed_at [closed_at >= assigned_at]: 1 row, e.g. A2",
    ),
    "agent in two arms": (
        _set("accounts", "agent_id", 2, "G2"),
        "parquet",
        {"randomization": "agent"},
        "ERROR accounts.agent_id [an agent in one arm only (randomization is agent)]: 3 rows, e.g. G2",
    ),
    "bad pilot.yml key": (
        None,
        "parquet",
        {"windows": {"outcome_day": 30}},
        "ERROR pilot.yml [windows.outcome_day: unknown key; did you mean 'outcome_days'?]",
    ),
    "bad primary metric": (
        None,
        "parquet",
        {"primary_metric": "happiness"},
        "ERROR pilot.yml [primary_metric: unknown metric 'happiness'",
    ),
    "no control arm": (None, "parquet", {"arms": {"a": "x", "b": "y"}}, "ERROR pilot.yml [arms: arms needs a 'control' label]"),
}


def _hashes(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_pilot_names_the_problem(tmp_path, case):
    edit, fmt, over, expected = BROKEN[case]
    root = make_pilot(tmp_path / "p", fmt, config_dict(**over), edit)
    report = validate_pilot(root)
    lines = [p.line() for p in report.errors]
    assert not report.ok
    assert any(line.startswith(expected) for line in lines), lines


def test_every_problem_is_listed_not_just_the_first(tmp_path):
    def edit(t):
        for f in (
            _set("accounts", "balance", 2, -1.0),
            _set("contacts", "channel", 2, "pigeon"),
            _set("payments", "account_id", 1, "ZZ"),
        ):
            f(t)

    report = validate_pilot(make_pilot(tmp_path / "p", edit=edit))
    rules = {(p.table, p.column, p.rule.split(" (")[0]) for p in report.errors}
    assert {("accounts", "balance", ">= 0"), ("payments", "account_id", "exists in accounts")} <= rules
    assert any(r[0] == "contacts" and r[1] == "channel" for r in rules)
    assert len(report.errors) == 3


def test_a_value_that_does_not_parse_is_reported_once(tmp_path):
    report = validate_pilot(make_pilot(tmp_path / "p", "csv", edit=_set("accounts", "balance", 0, "n/a")))
    assert [p.rule for p in report.errors] == ["a number"]


def test_warnings_do_not_fail(tmp_path):
    def edit(t):
        _set("accounts", "segment", 0, "astronaut")(t)
        _set("payments", "paid_at", 0, ts("2026-09-01"))(t)
        _set("contacts", "at", 0, ts("2025-12-31"))(t)

    report = validate_pilot(make_pilot(tmp_path / "p", edit=edit))
    assert report.ok
    lines = [w.line() for w in report.warnings]
    assert "WARNING accounts.segment [a segment listed in pilot.yml segments]: 1 row, e.g. astronaut" in lines
    assert any(line.startswith("WARNING payments.paid_at [paid_at after observed_until") for line in lines)
    assert any(line.startswith("WARNING contacts.at [at before the account's assigned_at") for line in lines)


def _frame(t) -> pd.DataFrame:
    df = t.execute()
    return df.sort_values(list(df.columns[:2])).reset_index(drop=True)


def test_parquet_csv_duckdb_give_the_same_tables(tmp_path):
    loaded = {fmt: load_pilot(make_pilot(tmp_path / fmt, fmt)) for fmt in ("parquet", "csv", "duckdb")}
    ref = loaded["parquet"].tables
    for fmt in ("csv", "duckdb"):
        other = loaded[fmt].tables
        assert set(other) == set(ref)
        for name in ref:
            pd.testing.assert_frame_equal(_frame(other[name]), _frame(ref[name]), check_dtype=False, obj=f"{fmt}:{name}")


def test_duckdb_file_path_is_accepted(tmp_path):
    root = make_pilot(tmp_path / "d", "duckdb")
    assert validate_pilot(root / "pilot.duckdb").ok
    assert validate_pilot(root / "pilot.yml").ok


def test_timestamps_are_read_in_utc(tmp_path):
    # An offset timestamp in a CSV is the same instant in UTC.
    root = make_pilot(tmp_path / "p", "csv")
    text = (root / "contacts.csv").read_text().replace("2026-01-06T10:00:00.000000Z", "2026-01-06T12:00:00+02:00")
    (root / "contacts.csv").write_text(text)
    at = load_pilot(root).tables["contacts"].select("contact_id", "at").execute().sort_values("contact_id")["at"]
    assert at.iloc[0] == ts("2026-01-06 10:00").tz_localize(None)  # the engine holds UTC wall time, naive


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path):
    root = make_pilot(tmp_path / "p")
    (root / "payments.parquet").write_bytes(b"this is not parquet")
    report = validate_pilot(root)
    assert any(p.table == "payments" and p.rule.startswith("unreadable file payments.parquet") for p in report.errors)


def test_missing_pilot_yml(tmp_path):
    root = make_pilot(tmp_path / "p")
    (root / "pilot.yml").unlink()
    with pytest.raises(PilotError, match="not found"):
        load_pilot(root)


def test_missing_optional_parts_are_summarised(tmp_path):
    def edit(t):
        del t["surveys"]
        t["accounts"] = t["accounts"].drop(columns=["prior_paid"])

    report = validate_pilot(make_pilot(tmp_path / "p", edit=edit))
    assert report.ok
    text = "\n".join(report.summary_lines())
    assert "missing table surveys: disables csat, nps" in text
    assert "missing column accounts.prior_paid: disables pre-period covariate adjustment" in text
    assert "pressure (control) 2; empathy (treatment) 2" in text


def _cli(*args):
    return cli(*args)  # in this process (tests/shared.py): the verb's answer without 3-4 s of imports


def test_cli_validate_ok_and_broken_leave_files_untouched(tmp_path):
    good = make_pilot(tmp_path / "good", "csv")
    r = _cli("validate", str(good))
    assert r.returncode == 0, r.stderr
    assert "accounts per arm" in r.stdout

    def edit(t):
        _set("accounts", "balance", 2, -1.0)(t)
        _set("surveys", "csat", 0, 9)(t)
        _set("contacts", "at", 3, "garbage")(t)

    bad = make_pilot(tmp_path / "bad", "csv", edit=edit)
    before = _hashes(bad)
    r = _cli("validate", str(bad))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr + r.stdout
    errors = [line for line in r.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 3, r.stderr
    assert _hashes(bad) == before
    assert sorted(p.name for p in bad.iterdir()) == sorted(before)


def test_cli_validate_nonexistent_path():
    r = _cli("validate", "/nonexistent/pilot")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "not found" in r.stderr


def test_a_report_is_kept_while_the_files_are_unchanged(tmp_path, monkeypatch):
    """Verbs of one process do not run the rules again on the same bytes; any change to a file does."""
    import os

    from workbench.contract import validate as v

    root = make_pilot(tmp_path / "p", "csv")
    runs = []
    real = v.open_and_validate
    monkeypatch.setattr(v, "open_and_validate", lambda *a, **k: runs.append(1) or real(*a, **k))
    first = validate_pilot(root)
    again = validate_pilot(root)
    assert first.ok and again.ok and len(runs) == 1
    assert again.summary == first.summary and again.warnings == first.warnings
    # the kept report comes with the pilot opened afresh, usable by the verb
    assert again.pilot is not first.pilot and again.pilot.problems == first.pilot.problems
    assert set(again.pilot.tables) == set(first.pilot.tables)
    assert again.pilot.tables["accounts"].count().execute() == first.pilot.tables["accounts"].count().execute()
    # a file rewritten (same size, a later modification time) is read again and its new problem found
    csv = root / "accounts.csv"
    text = csv.read_text()
    broken = text.replace("A1,pressure,", "A1,pressurx,", 1)
    assert broken != text and len(broken) == len(text)
    csv.write_text(broken)
    st = csv.stat()
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    after = validate_pilot(root)
    assert len(runs) == 2 and not after.ok
    assert any(p.table == "accounts" and p.column == "arm" for p in after.errors), [p.line() for p in after.errors]
    assert validate_pilot(root).errors == after.errors and len(runs) == 2  # the invalid report is kept too
    # pilot.yml is one of the files: a changed threshold is a new report
    yml = root / "pilot.yml"
    yml.write_text(yml.read_text() + "\n")
    validate_pilot(root)
    assert len(runs) == 3
