"""`workbench init` and the walk-through of docs/your-first-pilot.md on a CRM-style export.

The user's path: init from the exports, copy them in as init prints, validate
(the first attempt names the primary metric and the date it needs), change
one line, validate again, analyze. At most two validate attempts, one
mapping section written by init, no traceback anywhere.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from crm_export import write_crm_export
from typer.testing import CliRunner

from workbench.cli.main import app
from workbench.contract.config import PilotConfig, load_config, parse_config
from workbench.contract.tables import TABLES


def _invoke(*args: str):
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_init_writes_a_template_that_validates_to_the_defaults(tmp_path):
    r = _invoke("init", tmp_path / "mine")
    assert r.exit_code == 0, r.output
    cfg = load_config(tmp_path / "mine" / "pilot.yml")
    defaults = PilotConfig(name="mine", arms={"control": "pressure", "treatment": "empathy"}, observed_until=cfg.observed_until)
    assert cfg == defaults
    text = (tmp_path / "mine" / "pilot.yml").read_text()
    # Every key of pilot.yml is in the template, set or commented with its default.
    for key in PilotConfig.model_fields:
        assert key == "contract" or f"{key}:" in text, key
    for name, table in TABLES.items():
        header = (tmp_path / "mine" / "headers" / f"{name}.csv").read_text().strip().split(",")
        assert sorted(header) == sorted(table.columns)
    assert r.output.splitlines()[-3:] == [
        f"  1. put each table in {tmp_path / 'mine'} as <table>.csv or <table>.parquet (columns: {tmp_path / 'mine' / 'headers'})",
        f"  2. workbench validate {tmp_path / 'mine'}",
        f"  3. workbench run {tmp_path / 'mine'}   (or: workbench analyze {tmp_path / 'mine'})",
    ]
    again = _invoke("init", tmp_path / "mine")
    assert again.exit_code == 1 and "already exists" in again.output


def test_an_unreadable_export_is_one_line(tmp_path):
    r = _invoke("init", tmp_path / "p", "--from", tmp_path / "nope.csv")
    assert r.exit_code == 1
    assert r.output.strip() == f"ERROR {tmp_path / 'nope.csv'} [--from]: file not found"


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """The walk-through up to a valid pilot: (pilot folder, outputs of each step)."""
    tmp = tmp_path_factory.mktemp("walk")
    exports = write_crm_export(tmp / "export")
    before = _hashes(tmp / "export")
    pilot = tmp / "pilot"
    froms = [a for p in exports.values() for a in ("--from", p)]
    init = _invoke("init", pilot, *froms)
    assert init.exit_code == 0, init.output
    # The user runs the copy commands init printed.
    copies = [shlex.split(line.strip()) for line in init.output.splitlines() if line.strip().startswith("cp ")]
    assert len(copies) == 4
    for _, src, dst in copies:
        shutil.copy(src, dst)
    first = _invoke("validate", pilot)
    # The one line they change: windows short enough for what was observed.
    yml = pilot / "pilot.yml"
    yml.write_text(yml.read_text().replace("# windows:  ", "windows: {outcome_days: 45, max_due_days: 14}  # "))
    second = _invoke("validate", pilot)
    assert _hashes(tmp / "export") == before
    return pilot, init, first, second


def test_init_proposes_the_mapping_from_the_exports(walked):
    pilot, init, _, _ = walked
    assert "accounts_export.csv: looks like table accounts (7 column(s) renamed)" in init.output
    assert "contacts_export.csv: looks like table contacts (6 column(s) renamed, 1 value(s) mapped)" in init.output
    data = yaml.safe_load((pilot / "pilot.yml").read_text())
    assert data["arms"] == {"control": "Control", "treatment": "Empathy"}
    assert data["columns"]["accounts"]["Account ID"] == "account_id"
    assert data["columns"]["accounts"]["Group"] == "arm"
    assert data["values"] == {"contacts.channel": {"Phone": "call"}}  # "Outbound", "SMS": any case matches
    assert data["timestamp_format"] == "%m/%d/%Y %H:%M"  # month first: the exports have days above 12
    assert parse_config(data).observed_until.isoformat() == "2026-05-14T00:00:00+00:00"  # the day after the last event
    text = (pilot / "pilot.yml").read_text()
    assert "kept_ptp needs 93 days after assigned_at: the first account is\n# eligible on 2026-06-02" in text


def test_first_validate_names_the_primary_metric_and_the_date_it_needs(walked):
    _, _, first, _ = walked
    assert first.exit_code == 1
    problems = [line for line in first.output.splitlines() if line.startswith("ERROR")]
    assert problems == [
        "ERROR pilot.yml.primary_metric [kept_ptp: assigned_at + 93 days <= observed_until 2026-05-14: no account is "
        "eligible for the primary metric; observed_until 2026-06-02 or later would give some "
        "(or shorten windows in pilot.yml, or choose another primary_metric)]"
    ]


def test_second_validate_passes_and_says_who_is_eligible(walked):
    _, _, _, second = walked
    assert second.exit_code == 0, second.output
    assert "accounts per arm: Control (control) 200; Empathy (treatment) 200" in second.output
    line = next(x for x in second.output.splitlines() if x.startswith("eligible accounts per metric"))
    assert line.startswith(
        "eligible accounts per metric (Control/Empathy): engagement 400 (200/200); ptp 400 (200/200); kept_ptp "
    )


def test_analyze_and_checks_on_the_mapped_export(walked, tmp_path):
    pilot, _, _, _ = walked
    r = _invoke("analyze", pilot, "--out", tmp_path / "results.json", "--draws", "500")
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "results.json").read_text())
    kept = doc["metrics"]["kept_ptp"]
    assert kept["control"]["n"] > 0 and kept["treatment"]["n"] > 0
    assert kept["control"]["n"] + kept["treatment"]["n"] == int(
        next(x for x in _invoke("validate", pilot).output.splitlines() if x.startswith("eligible"))
        .split("kept_ptp ")[1]
        .split()[0]
    )
    # Money parsed from "1,660.78": recovery is a finite ratio, not a parse failure.
    assert 0 < doc["metrics"]["recovery"]["control"]["mean"] < 1
    checks = _invoke("checks", pilot)
    balance = next(x for x in checks.output.splitlines() if "balance" in x)
    assert "days_past_due" in balance and "segment=Medical" in balance


@pytest.mark.slow
def test_the_export_reaches_a_rendered_report(walked, tmp_path):
    pilot, _, _, _ = walked
    r = _invoke("run", pilot, "--out", tmp_path / "reports", "-p", "smoke=true", "-p", "figure_dpi=60")
    assert r.exit_code == 0, r.output
    summary = next((tmp_path / "reports").rglob("07_executive_summary.html"))
    assert "Empathy" in summary.read_text()  # the export's own arm label, through to the report
