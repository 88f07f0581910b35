"""Hostile pilots through every verb that reads a pilot: the exact line, exit 1, input unchanged.

Each case plants one attack of issue 20 in the tiny hand-built pilot: non-finite numbers, a
setting that would switch a gate off, repeated keys and headers, files that never end or block,
links out of the pilot, huge lines and cells, a truncated DuckDB file. ``validate`` must print
the exact line; ``metrics``, ``checks``, ``analyze`` and ``monitor`` must fail with that same
line and no traceback, and nothing in the pilot folder may change.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import yaml
from pilot_factory import make_pilot
from test_validate import _set
from typer.testing import CliRunner

from workbench.cli.main import app
from workbench.contract import source


def _yml(mutate):
    def after(root: Path):
        data = yaml.safe_load((root / "pilot.yml").read_text())
        mutate(data)
        (root / "pilot.yml").write_text(yaml.safe_dump(data))

    return after


def _append_yml(text: str):
    return lambda root: (root / "pilot.yml").write_text((root / "pilot.yml").read_text() + text)


def _replace(name: str, make):
    def after(root: Path):
        (root / name).unlink()
        make(root / name)

    return after


def _csv(name: str, edit):
    def after(root: Path):
        (root / name).write_text(edit((root / name).read_text()))

    return after


def _link_outside(root: Path):
    outside = root.parent / "elsewhere.csv"
    (root / "payments.csv").rename(outside)
    os.symlink(outside, root / "payments.csv")


def _truncate_duckdb(root: Path):
    db = root / "pilot.duckdb"
    db.write_bytes(db.read_bytes()[:5000])


def _long_cell(text: str) -> str:
    head, first, *rest = text.splitlines()
    return "\n".join([head, first + "x" * (source.MAX_CELL_CHARS + 1), *rest]) + "\n"


LONG = source.MAX_LINE_BYTES
# id: (edit of the tables, format, file-level change, the exact line validate prints)
CASES = {
    "inf-payment": (
        _set("payments", "amount", 0, "inf"),
        "csv",
        None,
        "ERROR payments.amount [a finite number]: 1 row, e.g. inf",
    ),
    "infinity-balance": (
        _set("accounts", "balance", 1, "Infinity"),
        "csv",
        None,
        "ERROR accounts.balance [a finite number]: 1 row, e.g. Infinity",
    ),
    "overflow-balance": (
        _set("accounts", "balance", 1, "1e309"),
        "csv",
        None,
        "ERROR accounts.balance [a finite number]: 1 row, e.g. 1e309",
    ),
    "nan-string-amount": (
        _set("payments", "amount", 0, "NaN"),
        "csv",
        None,
        "ERROR payments.amount [a finite number]: 1 row, e.g. NaN",
    ),
    "inf-parquet": (
        _set("accounts", "balance", 1, float("inf")),
        "parquet",
        None,
        "ERROR accounts.balance [a finite number]: 1 row, e.g. inf",
    ),
    "nan-allocation": (
        None,
        "parquet",
        _yml(lambda d: d.update(allocation={"pressure": float("nan"), "empathy": 0.5})),
        "ERROR pilot.yml [allocation.pressure: Input should be a finite number",
    ),
    "allocation-not-one": (
        None,
        "parquet",
        _yml(lambda d: d.update(allocation={"pressure": 400, "empathy": 100})),
        "ERROR pilot.yml [(top level): allocation shares must sum to 1 (they sum to 500)]",
    ),
    "nan-margin": (
        None,
        "parquet",
        _yml(lambda d: d.update(guardrails={"complaints": {"margin": float("nan")}})),
        "ERROR pilot.yml [guardrails.complaints.margin: Input should be a finite number",
    ),
    "inf-threshold": (
        None,
        "parquet",
        _yml(lambda d: d.update(guardrails={"complaints": {"margin": 0.01, "threshold": float("inf")}})),
        "ERROR pilot.yml [guardrails.complaints.threshold: Input should be a finite number",
    ),
    "inf-rope": (
        None,
        "parquet",
        _yml(lambda d: d.update(rope={"ptp": float("inf")})),
        "ERROR pilot.yml [rope.ptp: Input should be a finite number",
    ),
    "claims-file-missing": (
        None,
        "parquet",
        _yml(lambda d: d.update(claims="nowhere.yml")),
        "ERROR pilot.yml [claims: claims register file not found: nowhere.yml]",
    ),
    "claims-unknown-id": (
        None,
        "parquet",
        _yml(lambda d: d.update(claims=["no-such-claim"])),
        "ERROR pilot.yml [claims: unknown claim id(s): no-such-claim (known: ",
    ),
    "repeated-yaml-key": (
        None,
        "parquet",
        _append_yml("name: again\n"),
        "ERROR pilot.yml [name: key repeated at line ",
    ),
    "repeated-csv-header": (
        None,
        "csv",
        _csv("payments.csv", lambda t: t.replace("\n", ",amount\n", 1)),
        "ERROR payments [payments.csv: column named twice in the header: amount]",
    ),
    "fifo-table": (
        None,
        "parquet",
        _replace("payments.parquet", os.mkfifo),
        "ERROR payments [payments.parquet: not a regular file (a FIFO, device, socket or folder); refused]",
    ),
    "dev-zero-link": (
        None,
        "csv",
        _replace("payments.csv", lambda p: os.symlink("/dev/zero", p)),
        "ERROR payments [payments.csv: not a regular file (a FIFO, device, socket or folder); refused]",
    ),
    "link-outside-pilot": (
        None,
        "csv",
        _link_outside,
        "ERROR payments [payments.csv: a link to a file outside the pilot folder; refused]",
    ),
    "fifo-pilot-yml": (
        None,
        "parquet",
        _replace("pilot.yml", os.mkfifo),
        "ERROR pilot.yml [(file): not a regular file; refused (pilot.yml)]",
    ),
    "huge-header": (
        None,
        "csv",
        _csv("payments.csv", lambda t: ",".join(f"c{i}" for i in range(200_000)) + "\n" + t),
        f"ERROR payments [payments.csv: line 1 longer than {LONG:,} bytes; refused]",
    ),
    "wide-header": (
        None,
        "csv",
        _csv("payments.csv", lambda t: t.replace("\n", "," + ",".join(f"c{i}" for i in range(600)) + "\n", 1)),
        f"ERROR payments [payments.csv: 604 columns, more than {source.MAX_COLUMNS}; refused]",
    ),
    "huge-line": (
        None,
        "csv",
        _csv("payments.csv", lambda t: t + "Y9,A1," + "9" * (LONG + 10) + "\n"),
        f"ERROR payments [payments.csv: line 4 longer than {LONG:,} bytes; refused]",
    ),
    "huge-cell": (
        None,
        "csv",
        _csv("accounts.csv", _long_cell),
        f"ERROR accounts.closed_at [at most {source.MAX_CELL_CHARS:,} characters]: 1 row, e.g. row 1",
    ),
    "truncated-duckdb": (
        None,
        "duckdb",
        _truncate_duckdb,
        "ERROR pilot.yml.source.path [unreadable DuckDB file pilot.duckdb: IO Error: Could not read enough bytes",
    ),
}
VERBS = ("validate", "metrics", "checks", "analyze", "monitor")


def _hashes(root: Path) -> dict[str, str]:
    return {p.name: ("fifo" if not p.is_file() else hashlib.sha256(p.read_bytes()).hexdigest()) for p in sorted(root.iterdir())}


@pytest.fixture(scope="module")
def pilots(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for case, (edit, fmt, after, _) in CASES.items():
        root = make_pilot(tmp_path_factory.mktemp(case) / "p", fmt, None, edit)
        if after is not None:
            after(root)
        out[case] = root
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_pilot_through_every_verb(pilots, case) -> None:
    root, expected = pilots[case], CASES[case][3]
    before = _hashes(root)
    for verb in VERBS:
        r = CliRunner().invoke(app, [verb, str(root)])
        assert r.exit_code == 1, (verb, r.output)
        assert r.exception is None or isinstance(r.exception, SystemExit), (verb, repr(r.exception))
        lines = r.output.splitlines()
        assert "Traceback" not in r.output and all(len(line) < 400 for line in lines), (verb, r.output[:500])
        said = [line for line in lines if line.startswith("ERROR")] or lines
        # metrics and checks print a pilot.yml problem without the ERROR prefix (the loader's own line)
        plain = expected.removeprefix("ERROR pilot.yml [").removesuffix("]").replace("(file): ", "(file): ")
        assert any(line.startswith(expected) or ("pilot.yml: " + plain) in line for line in said), (verb, r.output)
    assert _hashes(root) == before
