"""Command line: the notebooks' twin (verbs as in DESIGN.md).

Importing the verb modules registers their commands on the one Typer app
(:mod:`workbench.cli.app`), in the order ``workbench --help`` lists them.
Errors in the user's data or arguments are printed one line per problem to
stderr with exit code 1, never a traceback (:class:`workbench.cli.app.HandledGroup`).
"""

from __future__ import annotations

from workbench.cli import claims, core, design, init, metrics, run  # noqa: F401 - registers the verbs
from workbench.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point (``workbench``)."""
    app()
