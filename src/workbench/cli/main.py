"""Command line: the notebooks' twin (verbs as in DESIGN.md).

Heavy libraries (pandas, ibis, PyMC) are imported inside the commands so that
``workbench --help`` stays fast. Errors in the user's data or arguments are
printed one line per problem to stderr with exit code 1, never a traceback.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from workbench import __version__

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def _root() -> None:
    """Empathy pilot workbench: judge A/B pilots of empathy-led against pressure-based collections."""


def fail(lines: list[str] | str, code: int = 1) -> None:
    """Print each problem on its own line to stderr and exit (no traceback)."""
    for line in [lines] if isinstance(lines, str) else lines:
        typer.echo(line, err=True)
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the package version."""
    print(__version__)


class Preset(str, Enum):
    realistic = "realistic"
    null = "null"
    vendor_claims = "vendor-claims"


class Fmt(str, Enum):
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
    from workbench.simulate.pilot import simulate_pilot

    if randomization not in ("account", "agent"):
        fail(f"--randomization: must be account or agent, not {randomization!r}")
    path = simulate_pilot(
        out, accounts=accounts, seed=seed, preset=preset.value, agents=agents, randomization=randomization, fmt=fmt.value
    )
    typer.echo(f"pilot written to {path}")


@app.command()
def validate(
    pilot: Annotated[Path, typer.Argument(help="pilot folder, its pilot.yml, or a DuckDB file")],
) -> None:
    """Check a pilot against data contract v1: a summary and exit 0, or every problem and exit 1."""
    from workbench.contract.validate import run_validate

    raise typer.Exit(run_validate(pilot))


def _write(doc: dict, out: Path | None) -> None:
    from workbench.effects.analyze import to_json

    text = to_json(doc)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)  # whole or nothing
    except OSError as exc:
        fail(f"--out {out}: cannot write ({exc.strerror or exc})")
    typer.echo(f"results written to {out}", err=True)


@app.command()
def analyze(
    pilot: Annotated[Path, typer.Argument(help="pilot folder, its pilot.yml, or a DuckDB file")],
    out: Annotated[Path | None, typer.Option(help="results JSON (default: stdout)")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="interval level")] = 0.95,
    draws: Annotated[int, typer.Option(min=100, help="posterior draws (conjugate models)")] = 4000,
    smoke: Annotated[bool, typer.Option(help="short MCMC with low diagnostics thresholds (tests only)")] = False,
    backend: Annotated[str, typer.Option(help="duckdb | pyspark")] = "duckdb",
) -> None:
    """Estimate every metric's effect (Bayesian, with diagnostics and a frequentist cross-check)."""
    from workbench.contract.validate import validate_pilot
    from workbench.effects.analyze import Settings, analyze_pilot

    report = validate_pilot(pilot)
    if not report.ok:
        fail([f"pilot {pilot}: invalid; run `workbench validate {pilot}`"] + [p.line() for p in report.errors])
    mc = {"mcmc_draws": 200, "mcmc_tune": 200} if smoke else {}
    doc = analyze_pilot(pilot, Settings(level=level, draws=draws, seed=seed, smoke=smoke, **mc), backend=backend)
    _write(doc, out)


@app.command("analyze-summary")
def analyze_summary(
    file: Annotated[Path, typer.Argument(help="CSV of arm-level counts: metric, arm, n + successes | mean, sd | exposure, events")],
    control: Annotated[str, typer.Option(help="control arm label")],
    treatment: Annotated[str, typer.Option(help="treatment arm label")],
    out: Annotated[Path | None, typer.Option(help="results JSON (default: stdout)")] = None,
    primary: Annotated[str | None, typer.Option(help="metric that gets the verdict")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="interval level")] = 0.95,
) -> None:
    """Run the effect engine on published arm-level counts."""
    from workbench.effects.analyze import Design, Settings, analyze_stats
    from workbench.effects.summary import SummaryError, read_summary

    try:
        stats, hib, deff = read_summary(file, control, treatment)
    except SummaryError as err:
        fail(err.problems)
    if primary is not None and primary not in set(stats["metric"]):
        fail(f"--primary: metric {primary!r} is not in {file.name}")
    design = Design(control=control, treatments=[treatment], primary=primary, higher_is_better=hib, design_effect=deff)
    doc = analyze_stats(stats, design, Settings(level=level, seed=seed))
    doc["source"] = "summary"
    _write(doc, out)


def verdict_lines(doc: dict) -> list[str]:
    """One plain line per metric: arms, difference with interval, P(better), role and verdict."""
    lines = [f"{'metric':18} {'control':>9} {'treatment':>9}  difference [{doc['level']:.0%} interval]      P(better)  verdict"]
    for name, m in doc["metrics"].items():
        d = m["effect"]["difference"]
        if d["mean"] is None:
            continue
        lo, hi = d["interval"]
        v = m["decision"]["verdict"] + ("" if m["diagnostics"]["ok"] else " (unreliable fit)")
        lines.append(
            f"{name:18} {m['control']['mean']:9.4g} {m['treatment']['mean']:9.4g}  {d['mean']:+9.4g} [{lo:+.4g}, {hi:+.4g}]"
            f"  {m['prob_better']:8.3f}  {m['role']}: {v}"
        )
    dec = doc["decision"]
    lines.append(f"headline ({dec['primary_metric']}): {dec['verdict']}; guardrails: "
                 + ", ".join(f"{k} {v}" for k, v in sorted(dec["guardrails"].items())))
    return lines


# Verbs whose code lives in their own modules (heavy imports stay inside them).
from workbench.cli import metrics as cli_metrics

app.command("metrics")(cli_metrics.metrics)
app.command("checks")(cli_metrics.checks)

from workbench.cli import run as cli_run

app.command("run")(cli_run.run)
app.command("demo")(cli_run.demo)

from workbench.cli import claims as cli_claims

app.command("claims")(cli_claims.claims)

from workbench.cli import design as cli_design

app.command("meta")(cli_design.meta)
app.command("design")(cli_design.design)
app.command("monitor")(cli_design.monitor)


def main() -> None:
    app()
