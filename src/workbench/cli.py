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
    from workbench.simulate import simulate_pilot

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
    from workbench.validate import run_validate

    raise typer.Exit(run_validate(pilot))


def main() -> None:
    app()
