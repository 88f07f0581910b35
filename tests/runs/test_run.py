"""``workbench run``: one real run per session on a tiny pilot, and one that fails on purpose.

The completed run is the suite's one whole run (tests/runs/whole_run.py, built
once per session and shared by every xdist worker), read here and by
``test_notebooks.py``, ``test_trust.py``, ``test_hostile_run.py`` and
``test_browser.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner
from whole_run import pilot, whole_run

from workbench.cli.main import app
from workbench.runs.pipeline import NOTEBOOKS


def tiny_pilot() -> Path:
    """The suite's small simulated pilot (tests/runs/whole_run.py: personal data and every attack planted)."""
    return pilot()


def completed_run() -> tuple[Path, str]:
    """``workbench run`` on that pilot with smoke parameters; (run folder, CLI output), once per session."""
    run_dir, _, output = whole_run()
    return run_dir, output


@pytest.fixture(scope="module")
def run_dir() -> Path:
    return completed_run()[0]


def test_run_folder_is_complete(run_dir: Path) -> None:
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "complete"
    assert status["notebooks"] == list(NOTEBOOKS)
    assert status["parameters"] == {"smoke": True, "figure_dpi": 60}
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{7}(-\d+)?", run_dir.name)
    assert not [p for p in run_dir.parent.iterdir() if p.name.endswith(".partial")]
    for name in ("results.json", "stats.csv", "stats_segment.csv", "stats_week.csv", "ppc.csv", "index.html"):
        assert (run_dir / name).is_file(), name
    for nb in NOTEBOOKS:
        assert (run_dir / f"{nb}.ipynb").is_file() and (run_dir / f"{nb}.html").is_file(), nb


def test_models_fitted_once_and_shared(run_dir: Path) -> None:
    import nbformat

    for nb in NOTEBOOKS[2:]:
        params = nbformat.read(run_dir / f"{nb}.ipynb", as_version=4).metadata.papermill.parameters
        assert params["results"] == "results.json", nb  # relative to the run folder, the kernel's cwd
    assert json.loads((run_dir / "results.json").read_text())["smoke"] is True


def test_html_is_self_contained(run_dir: Path) -> None:
    external = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
    for page in [*run_dir.glob("*.html")]:
        text = page.read_text(encoding="utf-8")
        assert not external.search(text), f"{page.name}: {external.search(text).group(0)}"
        assert "require.js" not in text and "cdnjs" not in text, page.name
    summary = (run_dir / "07_executive_summary.html").read_text(encoding="utf-8")
    assert summary.count('src="data:image/png;base64,') >= 2  # effects and segments figures, embedded


def test_executive_summary_shows_no_code(run_dir: Path) -> None:
    summary = (run_dir / "07_executive_summary.html").read_text(encoding="utf-8")
    assert 'class="highlight hl-ipython3"' not in summary and 'class="jp-InputPrompt' not in summary
    for code in ("import json", "report.", "run.check_params", "display("):
        assert code not in summary, code
    assert "Headline" not in summary and "probability" in summary
    # the verdict banner and the scorecard come first, with accounts per arm; no code names or raw floats
    assert summary.index("wb-verdict") < summary.index("wb-sentences") and "(primary):" in summary
    assert "wb-scorecard" in summary and "Accounts per arm:" in summary
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", "", summary, flags=re.S))
    visible = re.sub(r"data:image/png;base64,\S+", "", visible)
    for code in ("kept_ptp", "contact_intensity", "handle_time", "descriptive: descriptive"):
        assert code not in visible, code
    assert not re.search(r"\d\.\d{5,}", visible), re.search(r"\d\.\d{5,}", visible)
    assert summary.count(' alt="') >= summary.count('src="data:image/png;base64,')  # every figure has alt text
    analyst = (run_dir / "04_effects.html").read_text(encoding="utf-8")
    assert 'class="highlight hl-ipython3"' in analyst  # analyst notebooks keep their code


def test_index_links_every_report(run_dir: Path) -> None:
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    for nb in NOTEBOOKS:
        assert f'href="{nb}.html"' in index and f'href="{nb}.ipynb"' in index, nb
    assert "complete" in index
    assert "(primary):" in index and "run " in index  # the headline verdict, pilot and run


def test_run_ends_with_the_verdict() -> None:
    output = completed_run()[1]
    lines = output.splitlines()
    table = next(i for i, x in enumerate(lines) if x.startswith("outcome "))
    assert lines[table + 2].split("  ")[0].strip() in output and any(x.startswith("Verdict: ") for x in lines[table:])
    assert output.rstrip().splitlines()[-1].startswith("run complete:")
    assert "KeyboardInterrupt" not in output


def test_failing_notebook_one_line_exit_1_partial_kept(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["run", str(tiny_pilot()), "--out", str(tmp_path), "-p", "smoke=true", "-p", "figure_dpi=0"])
    assert res.exit_code == 1
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, res.stderr
    assert "notebook 01_pilot_design failed at cell" in lines[0] and "figure_dpi=0" in lines[0]
    assert "Traceback" not in res.output + res.stderr
    [run] = [p for p in (tmp_path).glob("*/*") if p.is_dir()]
    assert not run.name.startswith(".")
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "failed" and status["error"]["notebook"] == "01_pilot_design"
    assert status["error"]["cell"] >= 1
    assert (run / "01_pilot_design.ipynb").is_file()  # the partial executed notebook is the record
    assert not (run / "02_data_quality.ipynb").exists()
    assert "failed at 01_pilot_design" in (run / "index.html").read_text()


def test_unknown_or_badly_typed_parameter_fails_before_any_work(tmp_path: Path) -> None:
    for bad, words in ((["-p", "nonsense=1"], "unknown parameter"), (["-p", "level=high"], "not a valid float")):
        res = CliRunner().invoke(app, ["run", str(tiny_pilot()), "--out", str(tmp_path), *bad])
        assert res.exit_code == 1 and words in res.stderr, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_verdict_wording_by_unit_and_gate() -> None:
    from workbench.report import views as report

    doc = {
        "level": 0.95,
        "treatments": ["empathy"],
        "control": "pressure",
        "data_quality": {"ok": True, "failed": []},
        "metrics": {
            "kept_ptp": {
                "unit": "share of accounts",
                "role": "primary",
                "prob_better": 0.9999,
                "control": {"mean": 0.084},
                "treatment": {"mean": 0.155},
                "effect": {"difference": {"mean": 0.071, "interval": [0.061, 0.080]}},
                "diagnostics": {"ok": True},
                "decision": {"verdict": "better"},
            }
        },
    }
    assert report.verdict_sentence(doc, "kept_ptp") == (
        "Kept promise to pay: better. Empathy-led contact raised kept promises from 8.4% to 15.5% of accounts, +7.1 points "
        "(95% interval +6.1 to +8.0); probability it helps: over 99.9%."
    )
    doc["metrics"]["kept_ptp"]["diagnostics"]["ok"] = False
    s = report.verdict_sentence(doc, "kept_ptp")
    assert "inconclusive" in s and "%" not in s  # never a number dressed as a finding
    doc["metrics"]["kept_ptp"]["diagnostics"]["ok"] = True
    doc["data_quality"] = {"ok": False, "failed": ["srm"]}
    assert "inconclusive" in report.verdict_sentence(doc, "kept_ptp") and "srm" in report.verdict_sentence(doc, "kept_ptp")
    m = {"unit": "complaints per account"}
    assert report.fmt_diff(m, 0.0008) == "+0.80 per 1,000 accounts"
    assert report.fmt_diff({"unit": "seconds per reached contact"}, 53.2) == "+53 s"
