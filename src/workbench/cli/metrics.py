"""Command functions for ``workbench metrics`` and ``workbench checks``.

Plain functions with typer ``Annotated`` parameters; ``workbench.cli.main``
registers them (``app.command("metrics")(cli_metrics.metrics)``). Heavy
libraries are imported inside the bodies so ``workbench --help`` stays fast.
Bad input prints one line per problem to stderr and exits 1, no traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from workbench.checks import checks_frame, run_checks
from workbench.cli.app import app, fail, require_valid
from workbench.contract.source import locate, resolve
from workbench.metrics.stats import BY, sufficient_stats
from workbench.report.privacy import pilot_key, pseudonymize, suppress_small, write_csv

PILOT_HELP = "pilot folder, its pilot.yml, or a DuckDB file with pilot.yml beside it"
OUT_HELP = "also write the results as data: .json or .csv"
BACKEND_HELP = "engine: duckdb (default) or pyspark; source.kind ibis in pilot.yml uses its URL"

SHOW = ["metric", "arm", "accounts", "excluded", "n", "mean"]


def _open(pilot: Path, backend: str, out: Path | None):
    """Open the pilot, turning every known input error into one-line messages."""

    if out is not None and out.suffix.lower() not in (".json", ".csv"):
        fail(f"--out: must end in .json or .csv, not {out.name!r}")
    if not pilot.exists():
        fail(f"pilot: not found: {pilot}")
    resolve(pilot)  # pilot.yml first: its own one-line errors (ConfigError)
    # Then the contract, as analyze and run do: an inf balance or a truncated DuckDB file is one
    # line naming the problem, never numbers computed from it or an engine's internal error.
    return require_valid(pilot, backend).pilot  # opened once: validated, then used


def _runtime_error(exc: Exception) -> None:
    """An engine error on the user's data (bad types, unreadable file) as one line."""
    first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
    fail(f"engine: could not compute on this pilot ({exc.__class__.__name__}): {first}")


def private_cells(stats, pilot: Path, by: list[str], min_cell_size: int):
    """Agents as pseudonyms (keyed by the pilot's pilot.yml) and cells under ``min_cell_size`` suppressed,
    on screen and in ``--out`` alike: a split is an aggregate, never one person's numbers."""
    if not by:
        return stats
    if "agent_id" in by:
        yml = locate(pilot)[1]
        stats = pseudonymize(stats, pilot_key(yml.read_bytes() if yml.is_file() else b""))
    return suppress_small(stats, "accounts", min_cell_size, keep=("metric", "family", "arm", *by))


@app.command()
def metrics(
    pilot: Annotated[Path, typer.Argument(help=PILOT_HELP)],
    by: Annotated[
        list[str] | None, typer.Option("--by", help="split by segment, agent (agent_id) or week: comma-separated or repeated")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help=OUT_HELP)] = None,
    backend: Annotated[str, typer.Option("--engine", "--backend", help=BACKEND_HELP)] = "duckdb",
) -> None:
    """Sufficient statistics per metric and arm (see docs/metrics.md), on DuckDB by default."""

    # "--by segment,agent,week" as the issue spells it, or repeated --by; "agent" is agent_id.
    by = [{"agent": "agent_id"}.get(b.strip(), b.strip()) for item in (by or []) for b in item.split(",") if b.strip()]
    bad = [b for b in by if b not in BY]
    if bad:
        fail([f"--by: unknown grouping {b!r}; choose from {', '.join(BY)}" for b in bad])
    p = _open(pilot, backend, out)
    try:
        stats = sufficient_stats(p.tables, p.config, by=by)
    except ValueError as exc:
        fail(str(exc))
    except Exception as exc:
        _runtime_error(exc)
    notes = p.notes + stats.attrs.get("notes", [])
    stats = private_cells(stats, pilot, by, p.config.min_cell_size)
    view = stats[[*SHOW[:2], *by, *SHOW[2:]]]
    typer.echo(view.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".csv":
            write_csv(stats, out)
        else:
            rows = json.loads(stats.to_json(orient="records"))
            out.write_text(json.dumps({"notes": notes, "stats": rows}, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@app.command()
def checks(
    pilot: Annotated[Path, typer.Argument(help=PILOT_HELP)],
    out: Annotated[Path | None, typer.Option("--out", help=OUT_HELP)] = None,
    backend: Annotated[str, typer.Option("--engine", "--backend", help=BACKEND_HELP)] = "duckdb",
) -> None:
    """Pilot checks (SRM, balance, contamination, survey response, manipulation, contact frequency, freshness)."""

    p = _open(pilot, backend, out)
    try:
        results = run_checks(p.tables, p.config)
    except Exception as exc:
        _runtime_error(exc)
    df = checks_frame(results)
    for r in results:
        typer.echo(f"{r.status.upper():4}  {r.check:18} {r.summary}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".csv":
            df.assign(numbers=df.numbers.map(lambda d: json.dumps(d, sort_keys=True, default=str))).to_csv(out, index=False)
        else:
            doc = {r.check: {"status": r.status, "summary": r.summary, "numbers": r.numbers} for r in results}
            out.write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
