"""``workbench run`` and ``workbench demo``: every notebook, executed and rendered.

Kept apart from :mod:`workbench.cli.main` so that papermill, nbconvert and rich load
only for these verbs. A failure is one line on stderr and exit code 1.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from workbench.cli.app import app
from workbench.cli.metrics import BACKEND_HELP
from workbench.contract.validate import run_validate
from workbench.defaults import DEFAULT_SEED
from workbench.errors import RunError
from workbench.report.terminal import verdict_lines
from workbench.simulate.pilot import simulate_pilot


def _progress():
    """A rich progress bar: the analysis stage by name, then the notebook (k of n) and the cell within it, then the last pages."""

    bar = Progress(TextColumn("{task.description:<58}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False)
    tasks: dict = {}

    def notify(event: str, **info) -> None:
        if event == "analysis":
            tasks["nb"] = bar.add_task("analysis (once for the run)", total=None)
        elif event == "stage":
            bar.update(tasks["nb"], description=f"analysis: {info['name']}")
        elif event == "notebook":
            bar.update(tasks["nb"], description=f"notebook {info['name']}", total=info["total"], completed=info["index"])
            if "cell" in tasks:
                bar.remove_task(tasks["cell"])
            tasks["cell"] = bar.add_task("  cell", total=None)
        elif event == "cell":
            bar.update(tasks["cell"], description=f"  cell {info['index'] + 1}", total=info["total"], completed=info["index"])
        elif event == "rendering":  # the last notebook has run; its page (and maybe the one before) still renders
            bar.update(tasks["nb"], description="rendering the last HTML pages")

    return bar, notify, tasks


def execute(pilot: Path, out: Path, params: list[str], backend: str = "duckdb") -> Path:
    """Run every notebook with a progress bar; exit 1 with one line when anything fails."""
    from workbench.runs.pipeline import run_pilot  # papermill and nbformat take ~1.5 s to import: only run and demo need them

    bar, notify, tasks = _progress()
    try:
        with bar:
            folder = run_pilot(pilot, base=out, pairs=params, progress=notify, backend=backend)
            bar.update(tasks["nb"], description="every notebook executed and rendered", completed=bar.tasks[0].total)
            bar.remove_task(tasks.pop("cell"))
    except OSError as exc:  # unwritable folder, disk full, file in the way
        where = exc.filename or out
        raise RunError(f"run failed: cannot write the run under {out} ({exc.strerror or exc}: {where})") from None
    return folder


@app.command()
def run(
    pilot: Annotated[Path, typer.Argument(help="pilot folder, its pilot.yml, or a DuckDB file")],
    out: Annotated[Path, typer.Option(help="base folder: the run goes to OUT/<pilot name>/<run_id>/")] = Path("reports"),
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="notebook parameter key=value (repeatable)")] = None,
    backend: Annotated[str, typer.Option("--engine", "--backend", help=BACKEND_HELP)] = "duckdb",
) -> None:
    """Fit once, execute every notebook with papermill, render HTML (the executive summary without code).

    The pilot is read once: validated on the engine, and the same opened tables feed the analysis.
    """
    folder = execute(pilot, out, param or [], backend)
    for line in verdict_lines(json.loads((folder / "results.json").read_text(encoding="utf-8"))):
        typer.echo(line)
    typer.echo(f"run complete: {folder / 'index.html'}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="where the demo pilot goes; reports go to OUT/reports")] = Path("data/demo"),
    accounts: Annotated[int, typer.Option(min=100, help="accounts in the simulated pilot")] = 20_000,
    agents: Annotated[int, typer.Option(min=2, help="agents")] = 40,
    seed: Annotated[int, typer.Option(help="random seed (the same for every verb)")] = DEFAULT_SEED,
    reports: Annotated[Path | None, typer.Option(help="base folder for the run (default: reports/)")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="notebook parameter key=value")] = None,
) -> None:
    """The main job: simulate the default pilot (20,000 accounts, 40 agents), run every notebook, print index.html."""

    t0 = time.perf_counter()
    pilot = out / "pilot"
    typer.echo(f"simulating {accounts:,} accounts, {agents} agents (preset realistic, seed {seed}) into {pilot}")
    simulate_pilot(pilot, accounts=accounts, seed=seed, preset="realistic", agents=agents)
    if run_validate(pilot, out=io.StringIO()) != 0:  # the summary is not wanted here; problems still print
        raise RunError("the simulated pilot failed validation (a bug: please report it)")
    params = [f"seed={seed}", *(param or [])]
    folder = execute(pilot, reports or Path("reports"), params)

    for line in verdict_lines(json.loads((folder / "results.json").read_text(encoding="utf-8"))):
        typer.echo(line)
    typer.echo(f"demo complete in {time.perf_counter() - t0:.0f} s: {folder / 'index.html'}")
