"""Validate a pilot against data contract v1 on the engine that computes its metrics, and say what is wrong, all of it.

The pilot is opened once (:func:`workbench.contract.engine.open_location`: DuckDB,
Spark or an ibis URL), and every rule is an ibis expression counted there;
only the counts come back, and a few example values for each line printed
(small ``LIMIT`` queries). Three layers, each reporting every broken rule
rather than the first:

1. reading and typing: files (bounded CSV reads happen before any engine
   sees a file), required columns, then safe casts counted per column
   (:mod:`workbench.contract.casts`: numbers, integers, booleans, parseable
   UTC timestamps);
2. value rules per table (:data:`workbench.contract.rules.VALUE_RULES`, as data): unique ids, not null,
   ranges (amounts > 0, balance >= 0, handle time >= 0, csat 1-5, nps 0-10),
   known channel, direction and complaint kind;
3. cross-table rules: every ``account_id`` exists in accounts, one arm per
   account, arms match pilot.yml both ways, ``due_at >= made_at``, agent
   randomization keeps each agent in one arm (:mod:`workbench.contract.crossrules`);
   then eligibility per metric.

Warnings (events outside the observed window, unknown segments, accounts
assigned after ``observed_until``) are listed but do not fail validation.

Examples are the first offending values in the order of the table as the
engine scans it. Where a rule needs a join (duplicates, orphans, two arms),
the offending keys are found first (at most :data:`KEYS`) and their rows then
read in table order.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.contract.casts import TIMESTAMP_RULE, Cast, typed_table
from workbench.contract.config import ConfigError
from workbench.contract.crossrules import cross_problems
from workbench.contract.eligibility import (
    available,
    eligibility,
    eligibility_line,
    eligibility_of,
    eligibility_problems,
)
from workbench.contract.engine import Pilot, open_location
from workbench.contract.hints import missing_column_rule, shown_values, timestamp_hint, unmatched_renames
from workbench.contract.mapping import Mapping
from workbench.contract.rules import (
    HINT_ROWS,
    KEYS,
    ROWS,
    VALUE_RULES,
    Checked,
    broken,
    column,
    fix,
    one,
    row_numbers,
)
from workbench.contract.source import (
    MAX_CELL_CHARS,
    SUFFIXES,
    Location,
    PilotError,
    Problem,
    examples,
    file_state,
    input_files,
    resolve,
)
from workbench.contract.tablecounts import count_table, texts_of
from workbench.contract.tables import TABLES
from workbench.errors import WorkbenchError


def _read_table(
    name: str, raw: Any, mapping: Mapping, file: str, cfg: Any
) -> tuple[Checked | None, list[Problem], list[Problem]]:
    """Cast one table and count everything it breaks on its own, in one aggregate query.

    Returns the table (None when the engine cannot read it), its reading problems
    (long cells, renames, missing columns, values that do not parse) and its value
    problems (not null, unique, ranges, enumerations), in the order they are printed.
    """
    read: list[Problem] = []
    try:
        t, casts, row = count_table(name, raw, mapping, cfg, file)
    except PilotError as err:  # the engine could not read the table
        return None, err.problems, []
    found = [str(c) for c in raw.columns]
    texts = texts_of(raw)
    spec = TABLES[name]
    for i, c in enumerate(texts):
        if n := row[f"long{i}"]:
            read.append(
                Problem(
                    name, c, f"at most {MAX_CELL_CHARS:,} characters", int(n), row_numbers(raw, raw[c].length() > MAX_CELL_CHARS)
                )
            )
    read += unmatched_renames(name, found, mapping)
    for col, cspec in spec.columns.items():
        if col not in casts:
            if cspec.required:
                read.append(Problem(name, col, missing_column_rule(name, col, found)))
            continue
        c = casts[col]
        for j, (rule, mask) in enumerate(c.failures):
            if not (n := row[f"f_{col}_{j}"]):
                continue
            bad = column(t.filter(t[mask]).select(c.raw), HINT_ROWS if rule == TIMESTAMP_RULE and c.text else ROWS)
            if rule == "a finite number":
                shown = examples(bad.astype("string"))
            else:
                shown = shown_values(bad)
            if rule == TIMESTAMP_RULE and c.text:
                rule += "; " + timestamp_hint(bad, None)  # which timestamp_format, when the values tell
            read.append(Problem(name, col, rule, int(n), shown))
    table = Checked(name, raw, t, casts, typed_table(t, casts), int(row["_rows"]), row)
    values: list[Problem] = []
    for col, c in casts.items():
        if n := row.get(f"null_{col}"):
            values.append(Problem(name, col, "not null", int(n), table.labels(~table.typed[f"_{c.present}"])))
        if col == spec.key and row["keys"] != row["distinct_keys"]:
            values += _unique(table, c)
        for j, (rule, op, arg) in enumerate(VALUE_RULES.get(name, {}).get(col, [])):
            if n := row[f"v_{col}_{j}"]:
                mask = broken(t[c.typed], op, arg)
                values.append(Problem(name, col, fix(name, col, rule), int(n), shown_values(_typed_values(t, c, mask))))
    return table, read, values


def _typed_values(t: Any, c: Cast, mask: Any) -> pd.Series:
    """Offending typed values, with the pandas dtype that formats them as the contract reads them."""
    s = column(t.filter(mask).select(c.typed))
    dtype = {"float": "Float64", "int": "Int64", "string": "string", "bool": "boolean"}.get(c.kind)
    return s.astype(dtype) if dtype else s


def _unique(table: Checked, c: Cast) -> list[Problem]:
    """Rows whose key another row has too (nulls are not duplicates)."""
    keys = table.t.select(k=table.t[c.typed]).filter(lambda x: x.k.notnull())
    dup = keys.group_by("k").aggregate(n=keys.count()).filter(lambda x: x.n > 1)
    n = one(dup.aggregate(rows=dup.n.sum()))["rows"]
    if not n:
        return []
    some = column(dup.select("k"), KEYS).tolist()
    shown = examples(column(table.t.filter(table.t[c.typed].isin(some)).select(c.typed)))
    return [Problem(table.name, c.column, "unique", int(n), shown)]


def _summary(tables: dict[str, Checked], cfg: Any, eligible: list) -> list[str]:
    """Accounts per arm, dates, tables and rows, what missing optional data disables."""
    accounts = tables["accounts"]
    row = accounts.row
    lines = [f"pilot {cfg.name!r}: valid (data contract v{cfg.contract}, randomization by {cfg.randomization})"]
    index = {a: i for i, a in enumerate(cfg.arm_labels)}
    arms = "; ".join(f"{a} ({role}) {int(row[f'arm{index[a]}']):,}" for role, a in cfg.arms.items())
    lines.append(f"accounts per arm: {arms}")
    if row.get("agents"):
        lines.append(f"agents: {row['agents']:,}")
    lines.append(
        f"assigned {row['first']:%Y-%m-%d} to {row['last']:%Y-%m-%d}; observed until {cfg.observed_until:%Y-%m-%d %H:%M} UTC"
    )
    lines.append("tables: " + "; ".join(f"{n} {t.rows:,} rows" for n, t in tables.items()))
    lines.append(eligibility_line(eligible, cfg))
    for name, table in TABLES.items():
        if name not in tables:
            lines.append(f"missing table {name}: disables {table.unlocks}")
            continue
        for col, spec in table.columns.items():
            if not spec.required and col not in tables[name].casts:
                lines.append(f"missing column {name}.{col}: disables {spec.unlocks}")
    return lines


@dataclass
class ValidationReport:
    """Everything validation found; ``errors`` empty means the pilot is usable.

    ``pilot`` is the pilot opened on the engine (None when not even pilot.yml
    or the source could be opened): the analysis reads the same tables.
    """

    pilot: Pilot | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary_lines(self) -> list[str]:
        """Accounts per arm, dates, tables and rows, eligibility, what missing optional data disables."""
        return list(self.summary)


def validate_opened(
    pilot: Pilot, problems: list[Problem], files: dict[str, Path] | None = None, folder: bool = True
) -> ValidationReport:
    """Run every rule on a pilot already opened on its engine.

    ``problems`` are those met opening it; ``files`` the table files read (named
    in a line when one turns out unreadable); ``folder`` whether the tables are
    files (else tables of a DuckDB file or a database).
    """
    cfg = pilot.config
    mapping = Mapping.of(cfg)
    files = files or {}
    read = list(problems)
    values: list[Problem] = []
    tables: dict[str, Checked] = {}
    for name, raw in pilot.raw.items():
        file = files[name].name if name in files else f"table {name}"
        table, r, v = _read_table(name, raw, mapping, file, cfg)
        read += r
        values += v
        if table is not None:
            tables[name] = table
    if "accounts" not in pilot.raw and not any(p.table in ("accounts", "pilot.yml") for p in read):
        wanted = " or ".join(f"accounts{s}" for s in SUFFIXES) if folder else "table accounts"
        read.append(Problem("accounts", "", f"required table not found ({wanted})"))
    errors = [p for p in read if p.severity == "error"] + values
    warnings = [p for p in read if p.severity == "warning"]
    cross_err, cross_warn = cross_problems(tables, cfg)
    eligible: list = []
    if not errors and not cross_err:
        typed = {n: t.typed for n, t in tables.items()}
        row = tables["accounts"].row
        if "el_n" in row:  # counted in the accounts table's own query (rules.own_aggs)
            eligible = eligibility_of(row, cfg, available(typed))
        else:
            eligible = eligibility(tables["accounts"].typed, cfg, available(typed))
        elig_err, elig_warn = eligibility_problems(eligible, cfg)
        cross_err, cross_warn = cross_err + elig_err, cross_warn + elig_warn
    errors, warnings = errors + cross_err, warnings + cross_warn
    pilot.problems = errors + warnings
    summary = _summary(tables, cfg, eligible) if not errors else []
    return ValidationReport(pilot, errors, warnings, summary)


def open_and_validate(path: str | Path, backend: str = "duckdb", loc: Location | None = None) -> ValidationReport:
    """Open the pilot at ``path`` on ``backend`` once and run every rule on it; never raises for bad data.

    ``loc`` is ``resolve(path)`` when the caller has it already (pilot.yml is then not read again).

    Raises
    ------
    EngineError : the engine itself cannot start (Spark without Java).
    """
    try:
        loc = resolve(path) if loc is None else loc
    except ConfigError as err:
        # The message of each problem, not its printed line (which starts with "ERROR").
        return ValidationReport(None, [Problem("pilot.yml", "", p.rule.removeprefix("pilot.yml: ")) for p in err.problems])
    except PilotError as err:
        return ValidationReport(None, err.problems)
    pilot, problems = open_location(loc, backend)
    if pilot is None:
        return ValidationReport(None, problems)
    return validate_opened(pilot, problems, loc.files, loc.kind == "folder")


#: Reports by the state of a pilot's files (at most ``_KEPT_MAX``, oldest forgotten first), without the opened pilot.
_KEPT: dict[tuple, ValidationReport] = {}
_KEPT_MAX = 64


def _location(path: str | Path) -> Location | None:
    """``resolve(path)``, or None when it fails (:func:`open_and_validate` then reports why)."""
    try:
        return resolve(path)
    except (WorkbenchError, OSError):
        return None


def _files_state(path: str | Path, backend: str, loc: Location | None) -> tuple | None:
    """Path, engine, and size and modification time of every input file; None for a server's tables."""
    if loc is None or loc.kind not in ("folder", "duckdb"):
        return None  # tables on a server can change under the same pilot.yml
    try:
        files = input_files(path, loc)
        return (str(Path(path).resolve()), backend, *(file_state(f) for f in files))
    except (WorkbenchError, OSError):
        return None


def validate_pilot(path: str | Path, backend: str = "duckdb") -> ValidationReport:
    """Run every rule on the pilot at ``path`` (opened on ``backend``: duckdb or pyspark); never raises for bad data.

    Every verb validates the pilot it is given. The report is kept while none
    of the pilot's files (pilot.yml and every table file) changes, by path, size
    and modification time in nanoseconds (how ``make`` and DVC tell a changed
    input), so that the verbs of one process (a notebook, ``checks`` after
    ``validate``, ``claims`` after ``analyze``) do not run the rules again on
    the same bytes: an invalid pilot's problems are printed again as they
    were, and a valid pilot is opened afresh on its engine (a few lazy views)
    with the report's problems attached. Tables on a server are always
    validated again (they can change while pilot.yml does not).
    """
    loc = _location(path)  # pilot.yml read once: the files' state before and after, the opening
    key = _files_state(path, backend, loc)
    kept = _KEPT.get(key) if key is not None else None
    if kept is not None:
        # the same files: the same opening problems as kept; an engine that no longer opens them validates again
        pilot = open_location(loc, backend)[0] if kept.ok else None
        if pilot is not None:
            pilot.problems = kept.errors + kept.warnings
        if pilot is not None or not kept.ok:
            return ValidationReport(pilot, list(kept.errors), list(kept.warnings), list(kept.summary))
    report = open_and_validate(path, backend, loc)
    if key is not None and _files_state(path, backend, loc) == key:  # unchanged while it was read (pilot.yml's stat too)
        _KEPT[key] = ValidationReport(None, report.errors, report.warnings, report.summary)
        while len(_KEPT) > _KEPT_MAX:
            del _KEPT[next(iter(_KEPT))]
    return report


def run_validate(path: str | Path, out=None, err=None, backend: str = "duckdb") -> int:
    """The ``workbench validate`` command: print the summary (0) or every problem (1)."""

    # Looked up at call time, so that a redirected stdout (tests, notebooks) is honoured.
    out, err = out or sys.stdout, err or sys.stderr

    try:
        report = validate_pilot(path, backend)
    except WorkbenchError as exc:  # the engine could not start: its own one line
        for p in exc.problems:
            print(p.line() if isinstance(p, Problem) else str(p), file=err)
        return 1
    except Exception as exc:  # our bug, not the user's data: still one line, no traceback
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(
            f"internal error while validating {path}: {exc.__class__.__name__}: {exc} (set WORKBENCH_DEBUG=1 for details)",
            file=err,
        )
        return 2
    if not report.ok:
        print(f"pilot {path}: {len(report.errors)} problem(s); the data was not changed", file=err)
        for p in report.errors + report.warnings:
            print(p.line(), file=err)
        return 1
    for line in report.summary_lines():
        print(line, file=out)
    for p in report.warnings:
        print(p.line(), file=out)
    return 0


def load_pilot(path: str | Path, backend: str = "duckdb") -> Pilot:
    """Open and fully validate a pilot; raise :class:`PilotError` listing every error.

    Warnings do not stop loading; they are kept in ``Pilot.problems``.
    """
    report = validate_pilot(path, backend)
    if report.errors:
        raise PilotError(report.errors)
    return report.pilot
