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
2. value rules per table (:data:`VALUE_RULES`, as data): unique ids, not null,
   ranges (amounts > 0, balance >= 0, handle time >= 0, csat 1-5, nps 0-10),
   known channel, direction and complaint kind;
3. cross-table rules: every ``account_id`` exists in accounts, one arm per
   account, arms match pilot.yml both ways, ``due_at >= made_at``, agent
   randomization keeps each agent in one arm; then eligibility per metric.

Warnings (events outside the observed window, unknown segments, accounts
assigned after ``observed_until``) are listed but do not fail validation.

Examples are the first offending values in the order of the table as the
engine scans it. Where a rule needs a join (duplicates, orphans, two arms),
the offending keys are found first (at most :data:`KEYS`) and their rows then
read in table order.
"""

from __future__ import annotations

import itertools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from workbench.contract.casts import TIMESTAMP_RULE, Cast, cast_table, typed_table
from workbench.contract.config import ConfigError
from workbench.contract.eligibility import available, eligibility, eligibility_line, eligibility_problems, utc_naive
from workbench.contract.engine import Pilot, open_location
from workbench.contract.hints import missing_column_rule, shown_values, timestamp_hint, unmatched_renames
from workbench.contract.mapping import ENUMS, Mapping
from workbench.contract.source import EXAMPLES, MAX_CELL_CHARS, SUFFIXES, PilotError, Problem, examples, first_line, resolve
from workbench.contract.tables import CHANNELS, COMPLAINT_KINDS, DIRECTIONS, TABLES
from workbench.errors import WorkbenchError

# Value rules per column: (the rule as the user reads it, operator, bound(s)); nulls pass.
VALUE_RULES: dict[str, dict[str, list[tuple[str, str, Any]]]] = {
    "accounts": {
        "balance": [(">= 0", "ge", 0)],
        "days_past_due": [(">= 0", "ge", 0)],
        "prior_paid": [(">= 0", "ge", 0)],
    },
    "contacts": {
        "channel": [("one of " + ", ".join(CHANNELS), "isin", CHANNELS)],
        "direction": [("one of " + ", ".join(DIRECTIONS), "isin", DIRECTIONS)],
        "handle_seconds": [(">= 0", "ge", 0)],
        "empathy_score": [("between 0 and 100", "between", (0, 100))],
    },
    "promises": {"amount": [("> 0", "gt", 0)]},
    "payments": {"amount": [("> 0", "gt", 0)]},
    "complaints": {"kind": [("one of " + ", ".join(COMPLAINT_KINDS), "isin", COMPLAINT_KINDS)]},
    "surveys": {
        "csat": [("an integer 1-5", "between", (1, 5))],
        "nps": [("an integer 0-10", "between", (0, 10))],
    },
}

ROWS = 2000  # rows read to find the first distinct example values of one line
KEYS = 1000  # offending keys read back when a rule needs a join to find its rows
HINT_ROWS = 5000  # unparsed timestamps read to tell day-first from month-first


def broken(col: Any, op: str, arg: Any) -> Any:
    """The rows of a typed column that break one value rule (nulls never do)."""
    ok = {
        "ge": lambda: col >= arg,
        "gt": lambda: col > arg,
        "between": lambda: col.between(*arg),
        "isin": lambda: col.isin(list(arg)),
    }[op]()
    return (col.notnull() & ~ok).fill_null(False)


def _fix(name: str, col: str, rule: str) -> str:
    """The rule, and for an enumeration how to map the export's own words onto it."""
    if (name, col) in ENUMS and rule.startswith("one of"):
        return f"{rule} (any case); map others in pilot.yml values: {name}.{col}"
    return rule


def _count(mask: Any) -> Any:
    """Rows where ``mask`` holds (a mask that is a constant, such as "never" for typed numbers, counts none)."""
    if isinstance(mask, ibis.expr.types.Scalar):
        return ibis.literal(0)
    return ibis.ifelse(mask, 1, 0).sum()


def _one(t: Any) -> dict:
    """The one row of an aggregate query, as a dict."""
    return t.to_pyarrow().to_pylist()[0]


def _column(t: Any, limit: int = ROWS) -> pd.Series:
    """The first ``limit`` values of a one-column table, in scan order, as a pandas Series."""
    return t.limit(limit).to_pyarrow().to_pandas().iloc[:, 0]


def _as_view(t: Any, name: str) -> Any:
    """The same table behind a temporary view of the engine's session: the casts are compiled once,
    not again in every query that reads them (ibis compiles an expression of a few hundred nodes in
    about 0.1 s, and validation sends a dozen queries per table). Nothing is written to the source."""
    try:
        con = t.get_backend()
        view = f"wb_cast_{name}_{next(_VIEWS)}"
        result = con.raw_sql(f"CREATE OR REPLACE TEMPORARY VIEW {view} AS {con.compile(t)}")
        if con.name == "duckdb":
            result.fetchall()  # DuckDB 2 keeps the connection busy until a result is fetched
        elif hasattr(result, "close"):
            result.close()  # a DB-API cursor (PostgreSQL)
        return con.table(view)
    except Exception:  # a backend without temporary views: the expression itself still runs
        return t


_VIEWS = itertools.count()


@dataclass
class _Table:
    """One table on the engine: as read, renamed, its casts and its typed columns."""

    name: str
    raw: Any
    t: Any
    casts: dict[str, Cast]
    typed: Any
    rows: int = 0
    row: dict = field(default_factory=dict)  # the table's one aggregate query: every count of its own rules

    def label(self) -> str | None:
        """The column that names a row: the table's key, else account_id, else none (row numbers)."""
        spec = TABLES[self.name]
        return next((c for c in (spec.key, "account_id") if c and c in self.casts), None)

    def labels(self, mask: Any) -> tuple[str, ...]:
        """Example labels (ids, or ``row N``) of the first rows in ``mask``, a mask on :attr:`typed`."""
        col = self.label()
        if col is not None:
            return examples(_column(self.typed.filter(mask).select(col)))
        return _row_numbers(self.typed, mask)


def _row_numbers(t: Any, mask: Any) -> tuple[str, ...]:
    """``row N`` (1-based, in scan order) of the first rows in ``mask``; none if the engine cannot number rows."""
    try:
        n = _column(t.mutate(_row=ibis.row_number(), _hit=mask).filter(lambda x: x._hit).select("_row"), EXAMPLES)
    except Exception:  # Spark numbers rows only over an ordering; the count is still right
        return ()
    return tuple(f"row {int(i) + 1}" for i in n)


def _own_masks(name: str, col: Any, has: set[str], cfg: Any) -> dict[str, Any]:
    """The rules that read one table alone, beyond its columns' own: masks named for the query.

    ``col(c)`` is the typed column ``c`` (in the table being counted, or in its typed
    view when examples are fetched): one definition serves both.
    """
    masks: dict[str, Any] = {}
    if name == "accounts":
        if "arm" in has:
            masks["undeclared"] = col("arm").notnull() & ~col("arm").isin(list(cfg.arm_labels))
            for i, arm in enumerate(cfg.arm_labels):
                masks[f"arm{i}"] = col("arm") == arm
        if {"closed_at", "assigned_at"} <= has:
            masks["closed"] = col("closed_at").notnull() & (col("closed_at") < col("assigned_at"))
        if "assigned_at" in has:
            masks["late"] = col("assigned_at") > _observed(cfg)
        if cfg.segments is not None and "segment" in has:
            masks["segment"] = col("segment").notnull() & ~col("segment").isin(list(cfg.segments))
    if name == "promises" and {"made_at", "due_at"} <= has:
        masks["due"] = col("due_at") < col("made_at")
    if name == "surveys" and "csat" in has:
        masks["empty"] = col("csat").isnull() & (col("nps").isnull() if "nps" in has else True)
    return {k: m.fill_null(False) for k, m in masks.items()}


def _observed(cfg: Any) -> Any:
    return ibis.literal(utc_naive(cfg.observed_until).to_pydatetime())


def _own_aggs(name: str, t: Any, casts: dict[str, Cast], cfg: Any) -> dict[str, Any]:
    """Counts of :func:`_own_masks`, and the distinct counts that show whether a key repeats or an
    account (or agent) has two arms: the join that finds them runs only when they say so."""

    def col(c: str) -> Any:
        return t[casts[c].typed]

    has = set(casts)
    aggs = {k: _count(m) for k, m in _own_masks(name, col, has, cfg).items()}
    key = TABLES[name].key
    if key in has:
        aggs["keys"] = _count(col(key).notnull())
        aggs["distinct_keys"] = col(key).nunique()
    if name == "accounts":
        for by in ("account_id", "agent_id"):
            if {by, "arm"} <= has:
                both = col(by).notnull() & col("arm").notnull()
                aggs[f"{by}_n"] = ibis.ifelse(both, col(by), ibis.null("string")).nunique()
                aggs[f"{by}_arm_n"] = ibis.ifelse(both, col(by) + "\x1f" + col("arm"), ibis.null("string")).nunique()
        if "assigned_at" in has:
            aggs["first"] = col("assigned_at").min()
            aggs["last"] = col("assigned_at").max()
        if "agent_id" in has:
            aggs["agents"] = col("agent_id").nunique()
    return aggs


def _read_table(name: str, raw: Any, mapping: Mapping, file: str, cfg: Any) -> tuple[_Table | None, list[Problem], list[Problem]]:
    """Cast one table and count everything it breaks on its own, in one aggregate query.

    Returns the table (None when the engine cannot read it), its reading problems
    (long cells, renames, missing columns, values that do not parse) and its value
    problems (not null, unique, ranges, enumerations), in the order they are printed.
    """
    found = [str(c) for c in raw.columns]
    read: list[Problem] = []
    t, casts = cast_table(name, raw, mapping)
    t = _as_view(t, name)
    spec = TABLES[name]
    aggs: dict[str, Any] = {"_rows": t.count()}
    texts = [c for c in found if raw[c].type().is_string()]
    ren = mapping.renames(name, found)
    for i, c in enumerate(texts):  # on the renamed table: one query reads every count
        aggs[f"long{i}"] = _count((t[ren.get(c, c)].length() > MAX_CELL_CHARS).fill_null(False))
    for col, c in casts.items():
        for j, (_, mask) in enumerate(c.failures):
            aggs[f"f_{col}_{j}"] = _count(t[mask])
        if not spec.columns[col].nullable:
            aggs[f"null_{col}"] = _count(~t[c.present])
        for j, (_, op, arg) in enumerate(VALUE_RULES.get(name, {}).get(col, [])):
            aggs[f"v_{col}_{j}"] = _count(broken(t[c.typed], op, arg))
    aggs |= _own_aggs(name, t, casts, cfg)
    try:
        row = _one(t.aggregate(**aggs))
    except Exception as exc:  # the engine reads lazily: a broken row surfaces here, not when the file was opened
        return None, [Problem(name, "", f"unreadable file {file}: {first_line(exc)}")], []
    for i, c in enumerate(texts):
        if n := row[f"long{i}"]:
            read.append(
                Problem(
                    name, c, f"at most {MAX_CELL_CHARS:,} characters", int(n), _row_numbers(raw, raw[c].length() > MAX_CELL_CHARS)
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
            bad = _column(t.filter(t[mask]).select(c.raw), HINT_ROWS if rule == TIMESTAMP_RULE and c.text else ROWS)
            if rule == "a finite number":
                shown = examples(bad.astype("string"))
            else:
                shown = shown_values(bad)
            if rule == TIMESTAMP_RULE and c.text:
                rule += "; " + timestamp_hint(bad, None)  # which timestamp_format, when the values tell
            read.append(Problem(name, col, rule, int(n), shown))
    table = _Table(name, raw, t, casts, typed_table(t, casts), int(row["_rows"]), row)
    values: list[Problem] = []
    for col, c in casts.items():
        if n := row.get(f"null_{col}"):
            values.append(Problem(name, col, "not null", int(n), table.labels(~table.typed[f"_{c.present}"])))
        if col == spec.key and row["keys"] != row["distinct_keys"]:
            values += _unique(table, c)
        for j, (rule, op, arg) in enumerate(VALUE_RULES.get(name, {}).get(col, [])):
            if n := row[f"v_{col}_{j}"]:
                mask = broken(t[c.typed], op, arg)
                values.append(Problem(name, col, _fix(name, col, rule), int(n), shown_values(_typed_values(t, c, mask))))
    return table, read, values


def _typed_values(t: Any, c: Cast, mask: Any) -> pd.Series:
    """Offending typed values, with the pandas dtype that formats them as the contract reads them."""
    s = _column(t.filter(mask).select(c.typed))
    dtype = {"float": "Float64", "int": "Int64", "string": "string", "bool": "boolean"}.get(c.kind)
    return s.astype(dtype) if dtype else s


def _unique(table: _Table, c: Cast) -> list[Problem]:
    """Rows whose key another row has too (nulls are not duplicates)."""
    keys = table.t.select(k=table.t[c.typed]).filter(lambda x: x.k.notnull())
    dup = keys.group_by("k").aggregate(n=keys.count()).filter(lambda x: x.n > 1)
    n = _one(dup.aggregate(rows=dup.n.sum()))["rows"]
    if not n:
        return []
    some = _column(dup.select("k"), KEYS).tolist()
    shown = examples(_column(table.t.filter(table.t[c.typed].isin(some)).select(c.typed)))
    return [Problem(table.name, c.column, "unique", int(n), shown)]


def _cross_problems(tables: dict[str, _Table], cfg: Any) -> tuple[list[Problem], list[Problem]]:
    errors: list[Problem] = []
    warnings: list[Problem] = []
    accounts = tables.get("accounts")
    if accounts is None:
        return errors, warnings
    if accounts.rows == 0:
        errors.append(Problem("accounts", "", "at least one account (the table is empty)"))
        return errors, warnings
    acc, cols, row = accounts.typed, set(accounts.casts), accounts.row
    masks = _own_masks("accounts", lambda c: acc[c], cols, cfg)
    if {"account_id", "arm"} <= cols:
        if row["account_id_n"] != row["account_id_arm_n"]:
            errors += _two_arms(accounts, "account_id", "an account in one arm only")
        if n := row["undeclared"]:
            labels = ", ".join(map(repr, pd.unique(_column(acc.filter(masks["undeclared"]).select("arm"), 10 * ROWS))[:5]))
            errors.append(
                Problem(
                    "accounts",
                    "arm",
                    f"declared in pilot.yml arms (found {labels})",
                    int(n),
                    accounts.labels(masks["undeclared"]),
                )
            )
        for i, arm in enumerate(cfg.arm_labels):
            if not row[f"arm{i}"]:
                errors.append(Problem("accounts", "arm", f"declared arm {arm!r} has accounts (it has none)"))
    if cfg.randomization == "agent":
        if "agent_id" not in cols:
            errors.append(Problem("accounts", "agent_id", "required when randomization is agent"))
        elif "arm" in cols and row["agent_id_n"] != row["agent_id_arm_n"]:
            errors += _two_arms(accounts, "agent_id", "an agent in one arm only (randomization is agent)")
    if n := row.get("closed"):
        errors.append(Problem("accounts", "closed_at", "closed_at >= assigned_at", int(n), accounts.labels(masks["closed"])))
    if n := row.get("late"):
        rule = "assigned after observed_until (no observed time; excluded)"
        warnings.append(Problem("accounts", "assigned_at", rule, int(n), accounts.labels(masks["late"]), "warning"))
    if n := row.get("segment"):
        shown = examples(_column(acc.filter(masks["segment"]).select("segment")))
        warnings.append(Problem("accounts", "segment", "a segment listed in pilot.yml segments", int(n), shown, "warning"))
    p = tables.get("promises")
    if p is not None and (n := p.row.get("due")):
        late = _own_masks("promises", lambda c: p.typed[c], set(p.casts), cfg)["due"]
        errors.append(Problem("promises", "due_at", "due_at >= made_at", int(n), p.labels(late)))
    if "account_id" in cols:
        for name, table in tables.items():
            if name != "accounts" and "account_id" in table.casts:
                e, w = _account_rules(table, accounts, _observed(cfg))
                errors, warnings = errors + e, warnings + w
    s = tables.get("surveys")
    if s is not None and (n := s.row.get("empty")):
        empty = _own_masks("surveys", lambda c: s.typed[c], set(s.casts), cfg)["empty"]
        rule = "a csat or nps answer (row has neither; ignored)"
        warnings.append(Problem("surveys", "csat", rule, int(n), s.labels(empty), "warning"))
    return errors, warnings


def _two_arms(accounts: _Table, by: str, rule: str) -> list[Problem]:
    """Rows whose account (or agent) appears in two arms or more."""
    acc = accounts.typed
    pairs = acc.filter(acc[by].notnull() & acc.arm.notnull())
    multi = pairs.group_by(by).aggregate(k=pairs.arm.nunique()).filter(lambda x: x.k > 1)
    n = acc.filter(acc[by].isin(multi[by])).count().to_pyarrow().as_py()
    if not n:
        return []
    if by == "agent_id":  # the agents, sorted
        shown = examples(_column(multi.select(by).order_by(by), EXAMPLES))
    else:
        some = _column(multi.select(by), KEYS).tolist()
        shown = examples(_column(acc.filter(acc[by].isin(some)).select(by)))
    return [Problem("accounts", "arm" if by == "account_id" else by, rule, int(n), shown)]


def _account_rules(table: _Table, accounts: _Table, obs: Any) -> tuple[list[Problem], list[Problem]]:
    """An event table against accounts, in one query: ids that exist, times inside the account's window.

    The account's start is its earliest ``assigned_at`` (an account listed twice is an error of its own).
    """
    errors: list[Problem] = []
    warnings: list[Problem] = []
    name, t = table.name, table.typed
    tcol = TABLES[name].time
    timed = tcol in table.casts and "assigned_at" in accounts.casts
    acc = accounts.typed
    known = acc.filter(acc.account_id.notnull())
    start = known.group_by("account_id").aggregate(_start=known.assigned_at.min() if timed else ibis.literal(1).max())
    j = t.left_join(start.rename(_id="account_id"), t.account_id == start.account_id)
    orphan = (j.account_id.notnull() & j._id.isnull()).fill_null(False)
    aggs = {"orphan": _count(orphan)}
    if timed:
        aggs["before"] = _count((j[tcol] < j._start).fill_null(False))
        aggs["after"] = _count((j[tcol] > obs).fill_null(False))
    row = _one(j.aggregate(**aggs))
    if n := row["orphan"]:
        some = _column(j.filter(orphan).select("account_id").distinct(), KEYS).tolist()
        shown = examples(_column(t.filter(t.account_id.isin(some)).select("account_id")))
        errors.append(Problem(name, "account_id", "exists in accounts", int(n), shown))
    if not timed:
        return errors, warnings
    if n := row["before"]:
        label = table.label()
        some = _column(j.filter((j[tcol] < j._start).fill_null(False)).select(label), KEYS).tolist()
        shown = examples(_column(t.filter(t[label].isin(some)).select(label)))
        rule = f"{tcol} before the account's assigned_at (ignored by metrics)"
        warnings.append(Problem(name, tcol, rule, int(n), shown, "warning"))
    if n := row["after"]:
        rule = f"{tcol} after observed_until (ignored by metrics)"
        warnings.append(Problem(name, tcol, rule, int(n), table.labels((t[tcol] > obs).fill_null(False)), "warning"))
    return errors, warnings


def _summary(tables: dict[str, _Table], cfg: Any, eligible: list) -> list[str]:
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
    tables: dict[str, _Table] = {}
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
    cross_err, cross_warn = _cross_problems(tables, cfg)
    eligible: list = []
    if not errors and not cross_err:
        typed = {n: t.typed for n, t in tables.items()}
        eligible = eligibility(tables["accounts"].typed, cfg, available(typed))
        elig_err, elig_warn = eligibility_problems(eligible, cfg)
        cross_err, cross_warn = cross_err + elig_err, cross_warn + elig_warn
    errors, warnings = errors + cross_err, warnings + cross_warn
    pilot.problems = errors + warnings
    summary = _summary(tables, cfg, eligible) if not errors else []
    return ValidationReport(pilot, errors, warnings, summary)


def open_and_validate(path: str | Path, backend: str = "duckdb") -> ValidationReport:
    """Open the pilot at ``path`` on ``backend`` once and run every rule on it; never raises for bad data.

    Raises
    ------
    EngineError : the engine itself cannot start (Spark without Java).
    """
    try:
        loc = resolve(path)
    except ConfigError as err:
        # The message of each problem, not its printed line (which starts with "ERROR").
        return ValidationReport(None, [Problem("pilot.yml", "", p.rule.removeprefix("pilot.yml: ")) for p in err.problems])
    except PilotError as err:
        return ValidationReport(None, err.problems)
    pilot, problems = open_location(loc, backend)
    if pilot is None:
        return ValidationReport(None, problems)
    return validate_opened(pilot, problems, loc.files, loc.kind == "folder")


def validate_pilot(path: str | Path, backend: str = "duckdb") -> ValidationReport:
    """Run every rule on the pilot at ``path`` (opened on ``backend``: duckdb or pyspark); never raises for bad data."""
    return open_and_validate(path, backend)


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
