"""A hostile pilot run end to end: markup in its name and arm label, formulas and personal data in
its segments, a late account, a name that would climb out of ``--out``.

The suite's one whole run (tests/runs/whole_run.py, once per session, read by test_browser.py too); every output file is then
scanned for input identifiers, planted personal data, small cells, raw agent ids, absolute paths,
spreadsheet formulas and references outside the page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from whole_run import FORMULA, pilot, whole_run

from workbench.report.pages import CSP, external_references
from workbench.report.privacy import scan

MIN_CELL = 10


def hostile_pilot() -> Path:
    """The suite's small simulated pilot with the attacks of issue 20 planted in data and pilot.yml."""
    return pilot()


def hostile_run() -> tuple[Path, Path, str]:
    """(run folder, --out base, CLI output) of ``workbench run`` on it: the suite's one whole run."""
    return whole_run()


@pytest.fixture(scope="module")
def run():
    return hostile_run()


def _outputs(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.iterdir() if p.is_file())


def _identifiers(pilot: Path) -> list[str]:
    acc = pd.read_parquet(pilot / "accounts.parquet")
    ids = list(acc["account_id"]) + list(acc["agent_id"].dropna().unique()) + ["Jane Roe", "555-0199"]
    for t, col in (("contacts", "contact_id"), ("promises", "promise_id"), ("payments", "payment_id")):
        ids += list(pd.read_parquet(pilot / f"{t}.parquet", columns=[col])[col][:1000])
    return ids


def test_warning_row_does_not_fail_the_run_and_is_counted(run) -> None:
    run_dir, _, _ = run
    results = (run_dir / "results.json").read_text()
    assert "1 account(s) assigned after observed_until left out of the weekly statistics" in results


def test_run_folder_stays_inside_out_under_a_sanitized_name(run) -> None:
    run_dir, base, _ = run
    assert run_dir.resolve().is_relative_to(base.resolve())
    assert run_dir.parent.parent.resolve() == base.resolve()
    assert re.fullmatch(r"[A-Za-z0-9._-]+", run_dir.parent.name) and not run_dir.parent.name.startswith(".")


def test_no_identifier_personal_data_or_absolute_path_in_any_output(run) -> None:
    run_dir, base, _ = run
    files = _outputs(run_dir)
    assert len(files) >= 20
    assert scan(files, _identifiers(hostile_pilot())) == []
    rendered = [p for p in files if p.suffix in (".html", ".ipynb")]
    roots = {str(hostile_pilot().parent), str(base), "/work/", "/tmp/", "/home/", "/root/"}
    leaks = [(p.name, r) for p in rendered for r in roots if r in p.read_text(encoding="utf-8")]
    assert leaks == []


def test_no_cell_under_the_minimum_size_in_any_csv(run) -> None:
    run_dir, _, _ = run
    for name in ("stats_segment.csv", "stats_week.csv"):
        df = pd.read_csv(run_dir / name, dtype=str, keep_default_na=False)
        small = df[df["accounts"].map(lambda v: v.isdigit() and int(v) < MIN_CELL)]
        assert small.empty, (name, small.head())
        blanked = df[df["suppressed"] == "True"]
        assert (blanked["accounts"] == f"< {MIN_CELL}").all() and (blanked["mean"] == "").all()


def test_undeclared_segments_are_other_and_formulas_neutralized(run) -> None:
    run_dir, _, _ = run
    seg = pd.read_csv(run_dir / "stats_segment.csv", dtype=str, keep_default_na=False)
    assert "'" + FORMULA in set(seg["segment"]) and "'@SUM(1)" in set(seg["segment"])
    for csv in run_dir.glob("*.csv"):
        cells = pd.read_csv(csv, dtype=str, keep_default_na=False).to_numpy().ravel()
        formulas = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or re.match(r"-[^0-9.]", c)]
        assert formulas == [], (csv.name, formulas[:3])


def test_every_page_has_the_csp_and_no_outside_reference(run) -> None:
    run_dir, _, _ = run
    pages = sorted(run_dir.glob("*.html"))
    assert len(pages) == 8
    for page in pages:
        text = page.read_text(encoding="utf-8")
        soup = BeautifulSoup(text, "html.parser")
        policy = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
        assert policy is not None and policy["content"] == CSP, page.name
        assert external_references(text) == [], page.name
        assert soup.find("script") is None, page.name
        assert [a for t in soup.find_all(True) for a in t.attrs if a.lower().startswith("on")] == [], page.name
    summary = (run_dir / "07_executive_summary.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=window.pwned=2&gt;" in summary


def test_csvs_and_results_are_byte_identical_on_rerun(run, tmp_path) -> None:
    """The analysis again on the same pilot and seed: results.json and every CSV, byte for byte."""
    from workbench.runs.pipeline import prepare

    run_dir, _, _ = run
    again = prepare(hostile_pilot(), tmp_path, seed=1, smoke=True)
    for key, path in again.items():
        if path.suffix in (".csv", ".json"):
            assert path.read_bytes() == (run_dir / path.name).read_bytes(), key
    assert again["results"].name == "results.json"
