"""The core verbs: version, simulate, validate, analyze, analyze-summary.

Errors in the user's data or arguments are raised as
:class:`workbench.errors.WorkbenchError` and printed by the one handler.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from workbench import __version__
from workbench.cli.app import app, fail, require_valid, write_doc
from workbench.cli.metrics import BACKEND_HELP
from workbench.contract.validate import run_validate
from workbench.defaults import DEFAULT_DRAWS, DEFAULT_LEVEL, DEFAULT_SEED
from workbench.effects.analyze import Design, Settings, analyze_run, analyze_stats
from workbench.effects.summary import read_summary, srm
from workbench.models.conjugate import merge_priors
from workbench.report.terminal import verdict_lines
from workbench.simulate.pilot import simulate_pilot


@app.callback()
def _root() -> None:
    """Empathy pilot workbench: judge A/B pilots of empathy-led against pressure-based collections."""


@app.command()
def version() -> None:
    """Print the package version."""
    print(__version__)


class Preset(StrEnum):
    realistic = "realistic"
    null = "null"
    vendor_claims = "vendor-claims"
    falling_hazard = "falling-hazard"  # churn concentrated early (Weibull shape 0.6)
    rising_hazard = "rising-hazard"  # churn concentrated late (shape 1.8)
    delayed_churn = "delayed-churn"  # same 180-day retention, empathy only delays churn


class Fmt(StrEnum):
    parquet = "parquet"
    csv = "csv"
    duckdb = "duckdb"


@app.command()
def simulate(
    out: Annotated[Path, typer.Argument(help="folder to write the pilot into")],
    accounts: Annotated[int, typer.Option(min=10, help="accounts in the pilot")] = 20_000,
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same pilot")] = 1,
    preset: Annotated[Preset, typer.Option(help="planted effects")] = Preset.realistic,
    agents: Annotated[int, typer.Option(min=2, help="agents handling the accounts")] = 40,
    randomization: Annotated[str, typer.Option(help="account | agent")] = "account",
    fmt: Annotated[Fmt, typer.Option("--format", help="table files")] = Fmt.parquet,
) -> None:
    """Simulate a realistic pilot (every table, pilot.yml and truth.json)."""

    if randomization not in ("account", "agent"):
        fail(f"--randomization: must be account or agent, not {randomization!r}")
    path = simulate_pilot(
        out, accounts=accounts, seed=seed, preset=preset.value, agents=agents, randomization=randomization, fmt=fmt.value
    )
    typer.echo(f"pilot written to {path}")


@app.command()
def validate(
    pilot: Annotated[Path, typer.Argument(help="pilot folder, its pilot.yml, or a DuckDB file")],
    backend: Annotated[str, typer.Option("--engine", "--backend", help=BACKEND_HELP)] = "duckdb",
) -> None:
    """Check a pilot against data contract v1 on its engine: a summary and exit 0, or every problem and exit 1."""

    raise typer.Exit(run_validate(pilot, backend=backend))


@app.command()
def analyze(
    pilot: Annotated[Path, typer.Argument(help="pilot folder, its pilot.yml, or a DuckDB file")],
    out: Annotated[Path | None, typer.Option(help="write the results JSON here (the verdict table still prints)")] = None,
    json_: Annotated[bool, typer.Option("--json", help="print the results JSON instead of the verdict table")] = False,
    seed: Annotated[int, typer.Option(help="random seed (the same for every verb)")] = DEFAULT_SEED,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="interval level")] = DEFAULT_LEVEL,
    draws: Annotated[int, typer.Option(min=100, help="posterior draws (conjugate models)")] = 4000,
    smoke: Annotated[bool, typer.Option(help="short MCMC with low diagnostics thresholds (tests only)")] = False,
    backend: Annotated[str, typer.Option(help="duckdb | pyspark")] = "duckdb",
) -> None:
    """Estimate every metric's effect (Bayesian, with diagnostics and a frequentist cross-check)."""

    opened = require_valid(pilot, backend).pilot  # validated on the engine that then computes: one read
    mc = {"mcmc_draws": 200, "mcmc_tune": 200} if smoke else {}
    settings = Settings(level=level, draws=draws, seed=seed, smoke=smoke, **mc)
    doc = analyze_run(pilot, settings, backend, opened=opened).doc
    show_doc(doc, out, json_)


@app.command("analyze-summary")
def analyze_summary(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV of arm-level counts: metric, arm, n + successes | mean, sd | exposure, events [, sd] | sum, sum_sq, denom, denom_sq, cross"
        ),
    ],
    control: Annotated[str, typer.Option(help="control arm label")],
    treatment: Annotated[
        list[str], typer.Option(help="treatment arm label; repeat for several arms, each judged against control")
    ],
    out: Annotated[Path | None, typer.Option(help="write the results JSON here (the verdict table still prints)")] = None,
    json_: Annotated[bool, typer.Option("--json", help="print the results JSON instead of the verdict table")] = False,
    primary: Annotated[str | None, typer.Option(help="metric that gets the verdict")] = None,
    seed: Annotated[int, typer.Option(help="random seed (the same for every verb)")] = DEFAULT_SEED,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="interval level")] = DEFAULT_LEVEL,
    draws: Annotated[int, typer.Option(min=100, help="posterior draws (models without a closed form)")] = DEFAULT_DRAWS,
    priors: Annotated[
        str | None,
        typer.Option(help='family priors as JSON, inline or a .json file: {"binary": {"alpha": 2, "beta": 8}}'),
    ] = None,
) -> None:
    """Run the effect engine on published arm-level counts."""

    for arm in treatment[1:]:  # every named arm must have a row for every metric (raises otherwise)
        read_summary(file, control, arm)
    stats, hib, deff = read_summary(file, control, treatment[0])
    if primary is not None and primary not in set(stats["metric"]):
        fail(f"--primary: metric {primary!r} is not in {file.name}")
    families = _priors_arg(priors)
    design = Design(
        control=control,
        treatments=list(treatment),
        primary=primary,
        higher_is_better=hib,
        design_effect=deff,
        priors={"families": families} if families else None,
    )
    doc = analyze_stats(stats, design, Settings(level=level, seed=seed, draws=draws))
    doc["source"] = "summary"
    check = srm(stats, [control, *treatment])
    if check is not None:
        doc["srm"] = check
    show_doc(doc, out, json_)


def _priors_arg(text: str | None) -> dict | None:
    """``--priors``: a JSON object of family priors, inline or in a file; checked against the known families."""
    if not text:
        return None
    path = Path(text)
    try:
        raw = json.loads(path.read_text(encoding="utf-8") if path.suffix == ".json" and path.exists() else text)
    except (OSError, json.JSONDecodeError) as exc:
        fail(f'--priors: not JSON ({exc.__class__.__name__}): give e.g. \'{{"binary": {{"alpha": 2}}}}\'')
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        fail("--priors: must map a family (binary, count, ordinal, hazard) to its parameters")
    try:
        merge_priors(raw)
    except (ValueError, TypeError) as exc:
        fail(f"--priors: {exc}")
    return raw


def show_doc(doc: dict, out: Path | None, as_json: bool) -> None:
    """The results: JSON to ``out`` when given; JSON on stdout with ``--json``, else the verdict table."""
    if out is not None:
        write_doc(doc, out)
    if as_json:
        write_doc(doc, None)
    else:
        for line in verdict_lines(doc):
            typer.echo(line)
