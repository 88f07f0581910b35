"""The Typer application and its one error handler.

Every verb raises :class:`workbench.errors.WorkbenchError` (or lets one
through) for input the user can fix; :class:`HandledGroup` prints each problem
on its own line to stderr and exits 1. An unwritable output is one line too.
Anything else is a defect of the workbench: one line naming it, exit 1, and
the traceback only with ``WORKBENCH_DEBUG=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import typer
from typer.core import TyperGroup

from workbench.contract.validate import validate_pilot
from workbench.effects.results import to_json, write_json
from workbench.errors import PilotError, Problem, WorkbenchError


def _echo_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)


class HandledGroup(TyperGroup):
    """Typer's group with the workbench's one handler around every verb."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except WorkbenchError as err:
            _echo_lines(err.lines())
            raise typer.Exit(1) from None
        except OSError as exc:  # unwritable folder, disk full, file in the way
            where = exc.filename or ""
            _echo_lines([f"ERROR {where} [writable]: cannot write ({exc.strerror or exc})".replace("  ", " ")])
            raise typer.Exit(1) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, typer.Exit):
            raise
        except Exception as exc:
            if os.environ.get("WORKBENCH_DEBUG"):
                raise
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            _echo_lines(
                [
                    (
                        f"ERROR internal [{exc.__class__.__name__}]: {first} "
                        "(a defect of the workbench; WORKBENCH_DEBUG=1 shows the traceback)"
                    )
                ]
            )
            raise typer.Exit(1) from None


app = typer.Typer(cls=HandledGroup, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def fail(lines: list[str] | str) -> None:
    """Stop the verb with one or more problem lines (exit 1)."""
    raise WorkbenchError(lines)


def require_valid(pilot: Path, backend: str = "duckdb"):
    """Validate a pilot on ``backend`` before a verb uses it; returns the validation report (its
    ``pilot`` is the pilot opened on that engine, for the verb to use), or fails with every error."""
    report = validate_pilot(pilot, backend)
    if not report.ok:
        raise PilotError([Problem("", "", f"pilot {pilot}: invalid; run `workbench validate {pilot}`"), *report.errors])
    return report


def write_doc(doc: dict, out: Path | None, echo: bool = True) -> None:
    """Write a results document to ``out`` (whole or nothing), or print it when ``out`` is None and ``echo``."""
    if out is None:
        if echo:
            typer.echo(to_json(doc), nl=False)
        return
    try:
        write_json(doc, out)
    except OSError as exc:
        fail(f"ERROR {out} [writable]: cannot write ({exc.strerror or exc})")
    typer.echo(f"written to {out}", err=True)
