"""The one exception family of the workbench.

Every error a user can cause (a broken pilot, a bad pilot.yml, an unreadable
summary file, a plan that does not match, an engine that cannot open the data)
is a :class:`WorkbenchError` carrying one or more :class:`Problem` objects. The
command line has one handler (``workbench.cli.app.main``) that prints one line
per problem and exits 1; nothing else in the package formats errors for users.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``SEVERITY table.column [rule]: rows, e.g. examples``.

    ``table`` and ``column`` name where the problem is (a table of the pilot,
    ``pilot.yml``, a file), ``rule`` what was expected, ``rows`` how many rows
    break it and ``examples`` a few offending values or ids. A problem with no
    table is a free text line (``rule`` holds the whole message).
    """

    table: str
    column: str
    rule: str
    rows: int = 0
    examples: tuple[str, ...] = ()
    severity: str = "error"  # or "warning"

    def line(self) -> str:
        if not self.table:  # a free-text problem still reads as one: "ERROR <text>"
            text = self.rule
            return text if text.startswith(("ERROR", "WARNING")) else f"{self.severity.upper()} {text}"
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{self.severity.upper()} {where} [{self.rule}]"
        if self.rows:
            text += f": {self.rows:,} row{'s' if self.rows != 1 else ''}"
            if self.examples:
                text += ", e.g. " + ", ".join(self.examples)
        elif self.examples:
            text += ": " + ", ".join(self.examples)
        return text

    def __str__(self) -> str:
        # The command line echoes ``err.problems`` as they are: each must print as
        # its one line (a message with a newline inside stays one line), not its repr.
        return " ".join(self.line().split("\n"))


def _as_problem(p: Problem | str) -> Problem:
    return p if isinstance(p, Problem) else Problem("", "", str(p))


class WorkbenchError(Exception):
    """Bad input the user can fix; ``problems`` lists every reason, one line each.

    Accepts one message, a list of messages, or :class:`Problem` objects.
    """

    def __init__(self, problems: Iterable[Problem | str] | Problem | str):
        if isinstance(problems, str | Problem):
            problems = [problems]
        self.problems: list[Problem] = [_as_problem(p) for p in problems] or [Problem("", "", "unknown error")]
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """The problems as printed, one line each (no newline inside a line)."""
        return [" ".join(p.line().split("\n")) for p in self.problems]


class ConfigError(WorkbenchError):
    """pilot.yml (or another settings file) is missing, unreadable or invalid."""


class PilotError(WorkbenchError):
    """The pilot's tables break the data contract."""


class EngineError(WorkbenchError):
    """The pilot's tables could not be opened or queried by the data engine."""


class SummaryError(ConfigError):
    """An arm-level summary file (published counts) is unusable."""


class PlanError(WorkbenchError):
    """plan.lock is missing, unreadable, invalid, or does not match the pilot."""


class MetaError(WorkbenchError):
    """A results file given to the meta-analysis is unreadable or lacks the metric."""


class RunError(WorkbenchError):
    """A run could not start or a notebook failed."""


class ModelInputError(WorkbenchError, ValueError):
    """Cells, arms or priors a model cannot take."""
