"""The data-quality page's one document: validation and the pilot checks as a report may show them.

``workbench run`` has already validated the pilot and run every check by the
time the notebooks execute; it writes this document (``data_quality.json``)
and notebook 02 shows it, rather than reading the whole pilot twice more (on
10M contacts validating and checking again was the largest part of the
notebooks' time). Run by hand, without a run's results, the notebook builds
the same document from the pilot (:func:`pilot_quality`): one object, either
way.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from workbench.checks import CheckResult, run_checks
from workbench.contract.validate import ValidationReport, validate_pilot
from workbench.report.privacy import hide_undeclared
from workbench.report.views import scrub_undeclared


def quality_doc(validation: ValidationReport, checks: list[CheckResult], declared: list[str] | None) -> dict[str, Any]:
    """Validation lines, warning lines and every check, as a report shows them.

    Counts only: no problem line carries the ids or values behind it (the
    examples are dropped), no check its agents' identifiers, and segment
    values pilot.yml does not declare (free text, maybe personal) read
    ``other``.
    """
    if validation.ok:
        lines = validation.summary_lines()
    else:
        lines = [replace(p, examples=()).line() for p in validation.errors]
    return {
        "validation": {"ok": validation.ok, "lines": lines},
        "warnings": [replace(p, examples=()).line() for p in validation.warnings],
        "checks": [
            {
                "check": r.check,
                "status": r.status,
                "summary": scrub_undeclared(r.summary, r.numbers, declared),
                "numbers": hide_undeclared({k: v for k, v in r.numbers.items() if k != "agents"}, declared),
            }
            for r in checks
        ],
    }


def pilot_quality(pilot: str | Path, backend: str = "duckdb") -> dict[str, Any]:
    """:func:`quality_doc` of the pilot at ``pilot``: validated, then checked when valid."""
    v = validate_pilot(pilot, backend)
    if v.pilot is None:  # not even pilot.yml could be read
        return quality_doc(v, [], None)
    checks = run_checks(v.pilot.tables, v.pilot.config) if v.ok else []  # the tables validation opened
    return quality_doc(v, checks, v.pilot.config.segments)
