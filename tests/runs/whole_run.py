"""The suite's one whole ``workbench run``: a small simulated pilot carrying personal data and every attack.

A whole run costs about 40 s of one core. The suite used to build two, a plain
run on a pilot with personal data (read by test_run, test_notebooks, test_trust
and test_browser) and a hostile run (test_hostile_run, test_browser), and each
worker built one before its first test. One pilot carries both, so one run
answers both sets of questions: nothing personal, no identifier and no
markup reaches any output, and the run is complete, rendered and the same on
a rerun. Built once per session through tests/shared.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml
from shared import once
from typer.testing import CliRunner

from workbench.cli.main import app

SMOKE = ["-p", "smoke=true", "-p", "figure_dpi=60"]  # short MCMC, small images: the suite's budget

# The attacks of issue 20, planted in data and pilot.yml.
NAME = "../../<img src=x onerror=window.pwned=1><style>body{background:url(https://example.invalid/a.png)}</style>"
TREATMENT = "empathy<img src=x onerror=window.pwned=2>"
FORMULA = '=HYPERLINK("https://example.invalid","click")'
PERSON = "Jane Roe +1-555-0199"  # an undeclared segment value: a name and a phone number


def _pilot(root: Path) -> dict:
    from workbench.simulate.pilot import simulate_pilot

    pilot = simulate_pilot(root / "pilot", accounts=1500, seed=3, preset="realistic", agents=10, with_truth=False)
    cfg = yaml.safe_load((pilot / "pilot.yml").read_text())
    acc = pd.read_parquet(pilot / "accounts.parquet")
    # Personal data a real extract carries beyond the contract: it must never reach a report.
    acc["customer_name"] = [f"Jane Roe{i}" for i in range(len(acc))]
    acc["phone"] = [f"+1-555-01{i:04d}" for i in range(len(acc))]
    acc["notes"] = "lost her job at Acme, medical bills"
    # Markup in the arm label, spreadsheet formulas and a person in the segments.
    acc["arm"] = acc["arm"].replace({"empathy": TREATMENT})
    acc["segment"] = acc["segment"].replace({"job_loss": FORMULA, "medical": "@SUM(1)", "retiree": "+SUM(1,1)"})
    acc.loc[acc.index[:3], "segment"] = PERSON
    # one account assigned after observed_until: a validate warning, never a failed run
    acc.loc[acc.index[-1], "assigned_at"] = pd.Timestamp(cfg["observed_until"]) + pd.Timedelta(days=2)
    acc.to_parquet(pilot / "accounts.parquet", index=False)
    cfg["name"] = NAME  # markup, and a name that would climb out of --out
    cfg["arms"]["treatment"] = TREATMENT
    cfg["allocation"] = {"pressure": 0.5, TREATMENT: 0.5}
    cfg["segments"] = [FORMULA, "@SUM(1)", "+SUM(1,1)", "single_parent", "young_professional", "stable", "other"]
    (pilot / "pilot.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return {"pilot": str(pilot)}


def pilot() -> Path:
    """1,500 simulated accounts handled by 10 agents, with personal data and the attacks (once per session)."""
    return Path(once("whole-run-pilot", _pilot)["pilot"])


def _run(root: Path) -> dict:
    base = root / "out"
    res = CliRunner().invoke(app, ["run", str(pilot()), "--out", str(base), *SMOKE])
    assert res.exit_code == 0, res.output + (res.stderr if res.stderr_bytes else "")
    index = Path(re.search(r"run complete: (\S+index\.html)", res.output).group(1))
    return {"run_dir": str(index.parent), "base": str(base), "output": res.output}


def whole_run() -> tuple[Path, Path, str]:
    """(run folder, --out base, CLI output) of ``workbench run`` with smoke parameters, once per session."""
    built = once("whole-run", _run)
    return Path(built["run_dir"]), Path(built["base"]), built["output"]
