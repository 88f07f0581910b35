"""Command line entry point (verbs are added issue by issue; see DESIGN.md)."""

import typer

from workbench import __version__

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def _root() -> None:
    """Empathy pilot workbench."""


@app.command()
def version() -> None:
    """Print the package version."""
    print(__version__)


def main() -> None:
    app()
