"""Trust: no person in a report, the manifest, byte-identical reruns, a killed run never looks complete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from test_run import completed_run, tiny_pilot
from typer.testing import CliRunner
from whole_run import SMOKE

from workbench.cli.main import app
from workbench.report.privacy import scan
from workbench.runs.manifest import sha256


def _identifiers(pilot: Path) -> list[str]:
    acc = pd.read_parquet(pilot / "accounts.parquet")
    contacts = pd.read_parquet(pilot / "contacts.parquet", columns=["contact_id"])
    ids = list(acc["account_id"]) + list(acc["agent_id"].dropna().unique()) + list(contacts["contact_id"][:2000])
    ids += list(acc["customer_name"]) + list(acc["phone"]) + ["lost her job at Acme"]
    for t, col in (("promises", "promise_id"), ("payments", "payment_id"), ("complaints", "complaint_id")):
        ids += list(pd.read_parquet(pilot / f"{t}.parquet", columns=[col])[col][:500])
    return ids


def test_rendered_reports_carry_no_personal_data():
    run_dir = completed_run()[0]
    files = sorted(run_dir.glob("*.html")) + sorted(run_dir.glob("*.ipynb"))
    assert len(files) >= 12
    hits = scan(files, _identifiers(tiny_pilot()))
    assert hits == [], hits[:10]


def test_manifest_records_inputs_parameters_versions_commit():
    run_dir = completed_run()[0]
    m = json.loads((run_dir / "manifest.json").read_text())
    pilot = tiny_pilot()
    assert m["inputs"]["accounts.parquet"]["sha256"] == sha256(pilot / "accounts.parquet")
    assert m["inputs"]["pilot.yml"]["sha256"] == sha256(pilot / "pilot.yml")
    assert m["pilot_yml"] == (pilot / "pilot.yml").read_text()
    assert m["parameters"]["smoke"] is True and "seed" in m
    assert m["packages"]["pymc"] and m["packages"]["workbench"]
    assert "commit" in m["project"]


def test_results_json_has_no_time_or_path_and_is_sorted():
    """Byte-identical on a rerun: tests/runs/test_hostile_run.py reruns the analysis of this same run."""
    run_dir = completed_run()[0]
    text = (run_dir / "results.json").read_text()
    assert str(tiny_pilot()) not in text and run_dir.name not in text and "2026-11" not in text
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"


@pytest.mark.slow  # two whole runs and a kill -9 in between: minutes on two cores
def test_killed_run_is_never_complete_and_the_next_run_succeeds(tmp_path):
    base = tmp_path / "reports"
    cmd = [sys.executable, "-m", "workbench", "run", str(tiny_pilot()), "--out", str(base), *SMOKE]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    # Kill in the middle of the notebooks: once the first executed notebook exists.
    while time.time() < deadline and not list(base.glob("*/.*partial/01_*.ipynb")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    statuses = [json.loads(p.read_text())["status"] for p in base.rglob("status.json")]
    assert "complete" not in statuses
    assert not list(base.glob("*/*/index.html")) or all(
        json.loads((p.parent / "status.json").read_text())["status"] != "complete" for p in base.glob("*/*/index.html")
    )
    res = CliRunner().invoke(app, ["run", str(tiny_pilot()), "--out", str(base), *SMOKE])
    assert res.exit_code == 0, res.output
    complete = [p for p in base.rglob("status.json") if json.loads(p.read_text())["status"] == "complete"]
    assert len(complete) == 1 and not complete[0].parent.name.startswith(".")


def test_unwritable_output_is_one_clear_line():
    blocker = Path(tempfile.mkdtemp()) / "a-file"
    blocker.write_text("x")
    res = CliRunner().invoke(app, ["run", str(tiny_pilot()), "--out", str(blocker / "reports")])
    assert res.exit_code == 1
    assert "run failed: cannot write the run under" in res.output and "Traceback" not in res.output
