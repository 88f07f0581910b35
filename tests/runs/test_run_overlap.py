"""``workbench run`` overlaps its two processes: the kernel warms up while the run fits, and
notebook *i*'s page renders while notebook *i + 1* executes; failures still end the run in one line.

Notebook execution and rendering are replaced by stand-ins here (what is tested is the order
of the steps and what a failure leaves); the real run is ``test_run.py``'s.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import nbformat
import pytest
from pilot_factory import make_pilot

from workbench.errors import RunError
from workbench.runs import notebooks, pipeline
from workbench.runs.pipeline import EXECUTIVE, NOTEBOOKS, Run, execute_notebooks

WAIT = 10  # seconds a stand-in waits for the step it must overlap (never reached when the steps overlap)


class Steps:
    """Stand-ins for ``notebooks.execute`` and ``notebooks.render_html`` that record the order of the steps.

    A page's render waits for the next notebook to start executing: it finishes only if the
    two overlap (it records whether it had to give up). With ``serial_after`` set, a notebook
    starts only once the previous page is rendered (a failing page is then seen before the next one).
    """

    def __init__(self, root: Path, bad_page: str | None = None, bad_notebook: str | None = None, serial_after=False):
        self.root, self.bad_page, self.bad_notebook, self.serial_after = root, bad_page, bad_notebook, serial_after
        self.started = {nb: threading.Event() for nb in NOTEBOOKS}
        self.rendered = {nb: threading.Event() for nb in NOTEBOOKS}
        self.executed: list[str] = []
        self.overlapped: dict[str, bool] = {}
        self.no_input: dict[str, bool] = {}
        self.page_failed = False

    def execute(self, template: Path, out: Path, parameters: dict, cwd: Path, on_cell, km) -> None:
        nb = out.stem
        self.started[nb].set()
        i = NOTEBOOKS.index(nb)
        if self.serial_after and i:
            self.rendered[NOTEBOOKS[i - 1]].wait(WAIT)
        nb_doc = nbformat.v4.new_notebook()
        nb_doc.cells = [nbformat.v4.new_code_cell(f"print({str(self.root)!r})")]
        nbformat.write(nb_doc, out)
        if nb == self.bad_notebook:
            raise ValueError("boom in a cell")
        self.executed.append(nb)

    def render_html(self, nb_path: Path, html_path: Path, no_input: bool) -> None:
        nb = nb_path.stem
        try:
            i = NOTEBOOKS.index(nb)
            if i + 1 < len(NOTEBOOKS) and not self.page_failed:  # after a failed page no notebook starts
                self.overlapped[nb] = self.started[NOTEBOOKS[i + 1]].wait(WAIT)
            self.no_input[nb] = no_input
            assert str(self.root) not in nb_path.read_text(), "rendered before the paths were scrubbed"
            if nb == self.bad_page:
                self.page_failed = True
                raise RunError(f"{nb_path.name}: the rendered HTML would load from outside the page (https://x)")
            html_path.write_text("<html></html>")
        finally:
            self.rendered[nb].set()


def _execute(tmp_path: Path, monkeypatch, steps: Steps) -> tuple[Run, list[str], tuple | None, list]:
    monkeypatch.setattr(notebooks, "execute", steps.execute)
    monkeypatch.setattr(notebooks, "render_html", steps.render_html)
    work = tmp_path / "run"
    work.mkdir()
    run = Run(pilot=tmp_path, run_id="r", final=tmp_path / "final", work=work)
    events: list = []
    done, failed = execute_notebooks(
        run, tmp_path, {nb: {} for nb in NOTEBOOKS}, {str(tmp_path): "."}, None, lambda e, **i: events.append((e, i))
    )
    return run, done, failed, events


def test_each_page_renders_while_the_next_notebook_executes(tmp_path, monkeypatch) -> None:
    steps = Steps(tmp_path)
    run, done, failed, events = _execute(tmp_path, monkeypatch, steps)
    assert failed is None and done == list(NOTEBOOKS)
    assert steps.overlapped == dict.fromkeys(NOTEBOOKS[:-1], True)
    assert steps.no_input == {nb: nb == EXECUTIVE for nb in NOTEBOOKS}
    assert all((run.work / f"{nb}.html").is_file() for nb in NOTEBOOKS)
    # progress: every notebook in order, then the pages still rendering
    assert [i["name"] for e, i in events if e == "notebook"] == list(NOTEBOOKS)
    assert events[-1][0] == "rendering"


def test_a_failed_page_stops_the_run_at_its_notebook(tmp_path, monkeypatch) -> None:
    steps = Steps(tmp_path, bad_page="03_metrics", serial_after=True)
    run, done, failed, events = _execute(tmp_path, monkeypatch, steps)
    assert [i["name"] for e, i in events if e == "notebook"] == list(NOTEBOOKS[:4]) and events[-1][0] != "rendering"
    nb, exc = failed
    assert nb == "03_metrics" and done == ["01_pilot_design", "02_data_quality"]
    line, rec = notebooks.error_line(nb, exc)
    assert line.startswith("notebook 03_metrics failed: RunError:") and rec["notebook"] == nb
    # notebook 04 ran while page 03 rendered; nothing after it started, and what it left is gone
    assert steps.executed == list(NOTEBOOKS[:4])
    kept = sorted(p.name for p in run.work.iterdir())
    assert kept == [f"{nb}.{ext}" for nb in NOTEBOOKS[:2] for ext in ("html", "ipynb")] + ["03_metrics.ipynb"]


def test_an_earlier_failed_page_outranks_a_later_failed_notebook(tmp_path, monkeypatch) -> None:
    steps = Steps(tmp_path, bad_page="04_effects", bad_notebook="05_segments")
    run, done, failed, _ = _execute(tmp_path, monkeypatch, steps)
    assert failed[0] == "04_effects" and done == list(NOTEBOOKS[:3])
    assert not (run.work / "05_segments.ipynb").exists()
    # a notebook failing with every page before it rendered is the failure
    steps = Steps(tmp_path / "b", bad_notebook="05_segments")
    (tmp_path / "b").mkdir()
    _, done, failed, events = _execute(tmp_path / "b", monkeypatch, steps)
    assert failed[0] == "05_segments" and isinstance(failed[1], ValueError) and done == list(NOTEBOOKS[:4])
    assert "rendering" not in [e for e, _ in events]


def test_template_imports_are_the_cells_top_level_imports(tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("import nothing_from_markdown"),
        nbformat.v4.new_code_cell("import pandas as pd\nfrom workbench.report import views as report\nx = 1"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport from_a_magic_cell"),
        nbformat.v4.new_code_cell("def f():\n    import inside_a_function\nfrom . import relative\nimport pandas as pd"),
    ]
    nbformat.write(nb, tmp_path / "a.ipynb")
    assert notebooks.template_imports(tmp_path, ("a",)) == "import pandas as pd\nfrom workbench.report import views as report"
    # the real templates: every notebook's own imports are warmed
    code = notebooks.template_imports(pipeline.notebooks_dir(), NOTEBOOKS)
    assert "from workbench.runs import pipeline as run" in code and "import seaborn as sns" in code


@pytest.fixture(scope="module")
def pilot(tmp_path_factory) -> Path:
    return make_pilot(tmp_path_factory.mktemp("overlap") / "pilot")


def _status(base: Path) -> tuple[Path, dict]:
    [run] = [p for p in base.glob("*/*") if p.is_dir()]
    return run, json.loads((run / "status.json").read_text())


def test_a_kernel_that_cannot_start_fails_the_run_before_the_analysis(pilot, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(notebooks, "KERNEL", "no-such-kernel")
    monkeypatch.setattr(pipeline, "prepare", lambda *a, **k: pytest.fail("the analysis ran without a kernel"))
    with pytest.raises(RunError) as err:
        pipeline.run_pilot(pilot, base=tmp_path)
    assert "the notebook kernel did not start: NoSuchKernel" in str(err.value) and "\n" not in str(err.value)
    run, status = _status(tmp_path)
    assert not run.name.startswith(".") and status["status"] == "failed"
    assert status["error"]["notebook"] == NOTEBOOKS[0] and "failed at 01_pilot_design" in (run / "index.html").read_text()


def test_a_failed_analysis_shuts_the_warming_kernel_down(pilot, tmp_path, monkeypatch) -> None:
    kernels: list = []
    shared_kernel = notebooks.shared_kernel

    def recording(cwd):
        cm = shared_kernel(cwd)
        km = cm.__enter__()
        kernels.append(km)
        return _Entered(cm, km)

    def failing(*a, **k):
        assert kernels and kernels[0].has_kernel, "the kernel starts before the analysis"
        raise ZeroDivisionError("in the analysis")

    monkeypatch.setattr(notebooks, "shared_kernel", recording)
    monkeypatch.setattr(pipeline, "prepare", failing)
    with pytest.raises(RunError) as err:
        pipeline.run_pilot(pilot, base=tmp_path)
    assert "analysis failed: ZeroDivisionError: in the analysis (run kept in " in str(err.value)
    assert not kernels[0].has_kernel  # shut down, not left running
    assert not [t for t in threading.enumerate() if t.name == "kernel-warm-up"]  # the warm-up's thread joined
    run, status = _status(tmp_path)
    assert not run.name.startswith(".") and status["status"] == "failed" and status["error"]["notebook"] is None


class _Entered:
    """A context manager already entered (the kernel it recorded), exited as the original."""

    def __init__(self, cm, km):
        self.cm, self.km = cm, km

    def __enter__(self):
        return self.km

    def __exit__(self, *exc):
        return self.cm.__exit__(*exc)
