"""A corpus of defective pilots, one defect each: exit 1, one line per problem, no traceback, files untouched.

Together with the per-rule cases of ``test_validate.py`` these cover schema,
types, ranges, cross-table rules, files and configuration.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pilot_factory import config_dict, make_pilot, ts
from test_validate import _concat, _drop_col, _set
from typer.testing import CliRunner

from workbench.cli.main import app


def _yml(mutate):
    def after(root: Path):
        data = yaml.safe_load((root / "pilot.yml").read_text())
        mutate(data)
        (root / "pilot.yml").write_text(yaml.safe_dump(data))

    return after


def _write(name: str, content: bytes):
    def after(root: Path):
        for old in root.glob(name.split(".")[0] + ".*"):
            old.unlink()
        (root / name).write_bytes(content)

    return after


def _del_key(key):
    return _yml(lambda d: d.pop(key))


CORPUS = {
    # id: (edit of the tables, fmt, after(root) file-level change, expected fragment of the output)
    "dup-promise-id": (_set("promises", "promise_id", 1, "P1"), "parquet", None, "promises.promise_id [unique]: 2 rows, e.g. P1"),
    "dup-payment-id": (_set("payments", "payment_id", 1, "Y1"), "parquet", None, "payments.payment_id [unique]: 2 rows, e.g. Y1"),
    "dup-complaint-id": (
        _concat("complaints", {"complaint_id": "K1", "account_id": "A1", "filed_at": ts("2026-01-21"), "kind": "internal"}),
        "parquet",
        None,
        "complaints.complaint_id [unique]: 2 rows, e.g. K1",
    ),
    "negative-dpd": (
        _set("accounts", "days_past_due", 0, -4),
        "parquet",
        None,
        "accounts.days_past_due [>= 0]: 1 row, e.g. '-4'",
    ),
    "negative-prior-paid": (
        _set("accounts", "prior_paid", 1, -10.0),
        "parquet",
        None,
        "accounts.prior_paid [>= 0]: 1 row, e.g. '-10.0'",
    ),
    "orphan-complaint": (
        _set("complaints", "account_id", 0, "NOPE"),
        "parquet",
        None,
        "complaints.account_id [exists in accounts]",
    ),
    "orphan-survey": (_set("surveys", "account_id", 0, "NOPE"), "parquet", None, "surveys.account_id [exists in accounts]"),
    "orphan-promise": (_set("promises", "account_id", 0, "NOPE"), "parquet", None, "promises.account_id [exists in accounts]"),
    "missing-channel-column": (
        _drop_col("contacts", "channel"),
        "parquet",
        None,
        "contacts.channel [required column missing; found 'contact_id', 'account_id', 'at', 'direction', "
        "'reached', 'agent_id', 'handle_seconds', 'empathy_score']",
    ),
    "missing-arm-column": (
        _drop_col("accounts", "arm"),
        "parquet",
        None,
        "accounts.arm [required column missing; found 'account_id', 'assigned_at', 'balance', 'segment', "
        "'agent_id', 'days_past_due', 'prior_paid', 'closed_at']",
    ),
    "text-amount-csv": (_set("payments", "amount", 0, "ten"), "csv", None, "payments.amount [a number]: 1 row, e.g. 'ten'"),
    "csat-zero": (_set("surveys", "csat", 0, 0), "parquet", None, "surveys.csat [an integer 1-5]: 1 row, e.g. '0'"),
    "nps-fraction-csv": (_set("surveys", "nps", 0, 7.5), "csv", None, "surveys.nps [an integer]: 1 row, e.g. '7.5'"),
    "negative-empathy": (
        _set("contacts", "empathy_score", 0, -1.0),
        "parquet",
        None,
        "contacts.empathy_score [between 0 and 100]: 1 row, e.g. '-1.0'",
    ),
    "text-handle-seconds": (
        _set("contacts", "handle_seconds", 1, "long"),
        "csv",
        None,
        "contacts.handle_seconds [a number]: 1 row, e.g. 'long'",
    ),
    "bad-due-date-csv": (
        _set("promises", "due_at", 1, "2026-02-30"),
        "csv",
        None,
        "promises.due_at [parseable timestamp (ISO 8601, read in UTC); e.g. 2026-03-01T14:22:00Z, "
        "or set timestamp_format in pilot.yml (strptime codes)]: 1 row, e.g. '2026-02-30'",
    ),
    "null-account-id": (_set("accounts", "account_id", 2, None), "csv", None, "accounts.account_id [not null]"),
    "null-reached": (_set("contacts", "reached", 2, None), "csv", None, "contacts.reached [not null]"),
    "empty-csv-file": (None, "csv", _write("payments.csv", b""), "payments [unreadable file payments.csv"),
    "binary-garbage-csv": (None, "csv", _write("contacts.csv", b"\x00\xff\xfe" * 50), "contacts"),
    "truncated-parquet": (
        None,
        "parquet",
        lambda r: (r / "accounts.parquet").write_bytes((r / "accounts.parquet").read_bytes()[:100]),
        "accounts [unreadable file accounts.parquet",
    ),
    "empty-pilot-yml": (None, "parquet", lambda r: (r / "pilot.yml").write_text(""), "pilot.yml [(top level): must be a mapping"),
    "pilot-yml-list": (
        None,
        "parquet",
        lambda r: (r / "pilot.yml").write_text("- a\n- b\n"),
        "pilot.yml [(top level): must be a mapping",
    ),
    "pilot-yml-syntax": (
        None,
        "parquet",
        lambda r: (r / "pilot.yml").write_text("name: [unclosed\n"),
        "pilot.yml [(file): not valid YAML",
    ),
    "no-observed-until": (None, "parquet", _del_key("observed_until"), "pilot.yml [observed_until: Field required]"),
    "no-name": (None, "parquet", _del_key("name"), "pilot.yml [name: Field required]"),
    "allocation-mismatch": (
        None,
        "parquet",
        _yml(lambda d: d.update(allocation={"pressure": 1, "nice": 1})),
        "pilot.yml [(top level): allocation must name exactly the arm labels ['empathy', 'pressure'] (got ['nice', 'pressure'])]",
    ),
    "unknown-source-kind": (
        None,
        "parquet",
        _yml(lambda d: d.update(source={"kind": "ftp"})),
        "pilot.yml [source.kind: Input should be 'folder', 'duckdb' or 'ibis' (got 'ftp')]",
    ),
    "duckdb-file-missing": (
        None,
        "parquet",
        _yml(lambda d: d.update(source={"kind": "duckdb", "path": "nowhere.duckdb"})),
        "DuckDB file not found",
    ),
    "contract-version-2": (
        None,
        "parquet",
        _yml(lambda d: d.update(contract=2)),
        "pilot.yml [contract: this workbench reads contract 1, not 2]",
    ),
    "negative-window": (
        None,
        "parquet",
        _yml(lambda d: d.update(windows={"outcome_days": -5})),
        "pilot.yml [windows.outcome_days: Input should be greater than 0 (got -5)]",
    ),
    "randomization-typo": (
        None,
        "parquet",
        _yml(lambda d: d.update(randomization="agents")),
        "pilot.yml [randomization: Input should be 'account' or 'agent' (got 'agents')]",
    ),
}


def _hashes(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


def test_corpus_is_distinct_and_large_enough():
    from test_validate import BROKEN

    assert len(CORPUS) + len(BROKEN) >= 40
    assert not set(CORPUS) & set(BROKEN)


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_defective_pilot(tmp_path, case):
    edit, fmt, after, expected = CORPUS[case]
    root = make_pilot(tmp_path / "p", fmt, None, edit)
    if after is not None:
        after(root)
    before = _hashes(root)
    r = CliRunner().invoke(app, ["validate", str(root)])
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    text = r.output
    assert "Traceback" not in text
    assert expected in text, text
    problem_lines = [line for line in text.splitlines() if line.startswith(("ERROR", "WARNING"))]
    assert problem_lines and all(len(line) < 400 for line in problem_lines)
    assert _hashes(root) == before


def test_good_pilot_passes_the_same_harness(tmp_path):
    root = make_pilot(tmp_path / "p", "csv", config_dict())
    r = CliRunner().invoke(app, ["validate", str(root)])
    assert r.exit_code == 0, r.output
    assert pd.notna(r.output)
