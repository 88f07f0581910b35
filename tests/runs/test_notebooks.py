"""Notebook templates: stored without outputs, one typed ``parameters`` cell, executed in the suite."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from workbench.runs.pipeline import NOTEBOOKS, notebooks_dir

TEMPLATES = sorted(notebooks_dir().glob("*.ipynb"))


def test_every_template_is_there() -> None:
    assert [p.stem for p in TEMPLATES] == list(NOTEBOOKS)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs: clear them before committing"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"
    assert "papermill" not in nb.metadata, f"{path.name} is an executed copy, not a template"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_one_parameters_cell_of_typed_literals(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged parameters"
    tree = ast.parse(tagged[0].source)
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), f"{path.name}: parameters cell holds typed assignments only"
        assert isinstance(node.value, ast.Constant), f"{path.name}: {ast.unparse(node)} is not a literal"
        assert type(node.value.value).__name__ == ast.unparse(node.annotation), f"{path.name}: {ast.unparse(node)}"
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_text_pairing_in_step(path: Path) -> None:
    import jupytext

    pair = path.with_suffix(".py")
    assert pair.is_file(), f"{pair.name} missing: jupytext --sync {path}"
    text = [c.source for c in jupytext.read(pair).cells]
    assert text == [c.source for c in nbformat.read(path, as_version=4).cells], f"run jupytext --sync {path}"


def test_every_notebook_executed_with_smoke_parameters() -> None:
    from test_run import completed_run

    run_dir, _ = completed_run()
    for nb in NOTEBOOKS:
        executed = nbformat.read(run_dir / f"{nb}.ipynb", as_version=4)
        params = executed.metadata.papermill.parameters
        assert params["figure_dpi"] == 60 and params.get("smoke", nb < "03") is True, nb
        errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{nb}: {errors[0].ename}: {errors[0].evalue}"
        injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1, nb
        # Figures are embedded PNGs with alt text (report.views.show), as HTML outputs.
        images = [
            o
            for c in executed.cells
            for o in c.get("outputs", [])
            if "image/png" in o.get("data", {}) or 'src="data:image/png;base64,' in str(o.get("data", {}).get("text/html", ""))
        ]
        assert all(' alt="' in str(o["data"].get("text/html", "")) for o in images if "text/html" in o.get("data", {})), nb
        if nb in ("01_pilot_design", "03_metrics", "04_effects", "05_segments", "06_claims_monitoring", "07_executive_summary"):
            assert images, f"{nb}: no figure"


def test_a_run_under_a_relative_folder_renders_every_page(tmp_path: Path, monkeypatch) -> None:
    """``workbench demo --out data/demo`` (a relative run folder) failed: papermill moves the whole
    process into the run folder while a notebook executes, and the previous notebook's page, rendering
    in a thread of its own meanwhile, read its relative path from there. Seven tiny notebooks, each
    executing long enough for the page before it to render during it."""
    from workbench.runs import notebooks
    from workbench.runs.pipeline import NOTEBOOKS, Run, execute_notebooks

    monkeypatch.chdir(tmp_path)
    folder, work = Path("templates"), Path("reports") / "p" / ".run.partial"
    folder.mkdir()
    work.mkdir(parents=True)
    for nb in NOTEBOOKS:
        book = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "py"}})
        book.cells = [
            nbformat.v4.new_code_cell("x: int = 0  # parameter", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("import time\ntime.sleep(0.4)\nprint(x)"),
        ]
        nbformat.write(book, folder / f"{nb}.ipynb")
    run = Run(pilot=Path("pilot"), run_id="run", final=Path("reports") / "p" / "run", work=work)
    with notebooks.shared_kernel(work) as km:
        done, failed = execute_notebooks(run, folder, {nb: {"x": 1} for nb in NOTEBOOKS}, {}, km, lambda *a, **k: None)
    assert failed is None and done == list(NOTEBOOKS), failed
    assert Path.cwd() == tmp_path
    assert all((work / f"{nb}.html").is_file() for nb in NOTEBOOKS)


def test_notebooks_sharing_a_kernel_see_nothing_of_each_other(tmp_path: Path) -> None:
    """The run's notebooks share one kernel (imports paid once); none may see what the previous left."""
    from workbench.errors import RunError
    from workbench.runs import notebooks

    def template(name: str, *sources: str) -> Path:
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "py"}})
        nb.cells = [nbformat.v4.new_code_cell("x: int = 0  # parameter", metadata={"tags": ["parameters"]})]
        nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, path)
        return path

    first = template(
        "first",
        "import sys\nassert sys.wb_warmed and 'warm' not in globals(), 'the warm-up did not run, or its names survived'\n"
        "import warnings\nimport matplotlib.pyplot as plt\n"
        "leak = 42\nplt.figure()\nwarnings.simplefilter('error')\nimport os\nprint(os.getpid())",
        # a reference cycle this notebook leaves: start-up objects are frozen out of collection, its garbage is not
        "import weakref\nclass Cycle: pass\nc = Cycle()\nc.me = c\nsys.wb_cycle = weakref.ref(c)",
    )
    second = template(
        "second",
        "assert 'leak' not in globals() and 'pid' not in globals(), 'a variable of the previous notebook survived'\n"
        "import matplotlib.pyplot as plt\nassert plt.get_fignums() == [], 'a figure of the previous notebook is open'\n"
        "import warnings\nassert ('error', None, Warning, None, 0) not in warnings.filters, 'a warning filter survived'\n"
        "import gc, sys\ngc.collect()\nassert sys.wb_cycle() is None, 'a cycle of the previous notebook was never collected'\n"
        "assert gc.get_freeze_count() > 0, 'the start-up objects are not frozen'",
        "import os\nprint(os.getpid())",
    )
    bad = template("bad", "raise ValueError('boom')")
    with notebooks.shared_kernel(tmp_path) as km:
        # as in a run: the kernel runs the notebooks' imports first (notebooks.warming), and none of its names survive
        with notebooks.warming(km, "import sys\nsys.wb_warmed = True\nwarm = 1") as warmed:
            warmed()
        for path in (first, second):
            notebooks.execute(path, tmp_path / f"out-{path.name}", {"x": 1}, tmp_path, lambda i, n: None, km)
        # a failing notebook in the shared kernel fails as before, in one line
        with pytest.raises(Exception) as err:
            notebooks.execute(bad, tmp_path / "out-bad.ipynb", {}, tmp_path, lambda i, n: None, km)
    out = [nbformat.read(tmp_path / f"out-{p.name}", as_version=4) for p in (first, second)]
    # one kernel (the same process), cells numbered from 1 in each notebook
    pids = {o["text"].strip() for nb in out for o in nb.cells[-1].outputs if o["output_type"] == "stream"}
    assert len(pids) == 1 and pids.pop().isdigit()
    for nb in out:
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), counts
    line, _ = notebooks.error_line("bad", err.value)
    assert line.startswith("notebook bad failed at cell") and "ValueError: boom" in line
    assert not isinstance(err.value, RunError)
