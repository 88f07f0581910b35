"""Command line: the notebooks' twin (verbs as in DESIGN.md).

Importing the verb modules registers their commands on the one Typer app
(:mod:`workbench.cli.app`), in the order ``workbench --help`` lists them.
Errors in the user's data or arguments are printed one line per problem to
stderr with exit code 1, never a traceback (:class:`workbench.cli.app.HandledGroup`).
"""

from __future__ import annotations

import sys

from workbench.cli import claims, core, design, init, metrics, run  # noqa: F401 - registers the verbs
from workbench.cli.app import app

__all__ = ["app", "main", "without_iri_grammar"]


def without_iri_grammar() -> None:
    """Keep jsonschema from loading ``rfc3987_syntax`` in this process (call before nbformat is imported).

    jsonschema, under nbformat and papermill, imports ``rfc3987_syntax`` when it
    is installed (jupyterlab's jupyter-events asks for it) only to check the
    ``iri`` string format, and that module builds a Lark grammar at import:
    importing nbformat and papermill took 2.95 s with it and 0.5 s without
    (measured), in every ``workbench run``, for a format nothing of a run checks. Marked absent, jsonschema skips that one check (its own
    ``ImportError`` fallback); notebook kernels are other processes, untouched.
    """
    sys.modules.setdefault("rfc3987_syntax", None)


def main() -> None:
    """Console entry point (``workbench``)."""
    without_iri_grammar()
    app()
