"""Validate a pilot against data contract v1 and say what is wrong, all of it.

Three layers, each reporting every broken rule rather than the first:

1. reading and typing (:mod:`workbench.contract.source`): files, required columns,
   numbers, integers, booleans, parseable UTC timestamps;
2. value rules per table, declared as pandera schemas: unique ids, not null,
   ranges (amounts > 0, balance >= 0, handle time >= 0, csat 1-5, nps 0-10),
   known channel, direction and complaint kind;
3. cross-table rules: every ``account_id`` exists in accounts, one arm per
   account, arms match pilot.yml both ways, ``due_at >= made_at``, agent
   randomization keeps each agent in one arm.

Warnings (events outside the observed window, unknown segments, accounts
assigned after ``observed_until``) are listed but do not fail validation.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera.errors import SchemaErrors

from workbench.contract.eligibility import available, eligibility_line, eligibility_problems
from workbench.contract.hints import shown_values
from workbench.contract.mapping import ENUMS
from workbench.contract.source import Pilot, PilotError, Problem, examples, read_pilot, row_labels
from workbench.contract.tables import CHANNELS, COMPLAINT_KINDS, DIRECTIONS, TABLES

# Value rules per column: (pandera check, the rule as the user reads it).
_RULES: dict[str, dict[str, list[pa.Check]]] = {
    "accounts": {
        "balance": [pa.Check.ge(0, error=">= 0")],
        "days_past_due": [pa.Check.ge(0, error=">= 0")],
        "prior_paid": [pa.Check.ge(0, error=">= 0")],
    },
    "contacts": {
        "channel": [pa.Check.isin(CHANNELS, error="one of " + ", ".join(CHANNELS))],
        "direction": [pa.Check.isin(DIRECTIONS, error="one of " + ", ".join(DIRECTIONS))],
        "handle_seconds": [pa.Check.ge(0, error=">= 0")],
        "empathy_score": [pa.Check.in_range(0, 100, error="between 0 and 100")],
    },
    "promises": {"amount": [pa.Check.gt(0, error="> 0")]},
    "payments": {"amount": [pa.Check.gt(0, error="> 0")]},
    "complaints": {"kind": [pa.Check.isin(COMPLAINT_KINDS, error="one of " + ", ".join(COMPLAINT_KINDS))]},
    "surveys": {
        "csat": [pa.Check.in_range(1, 5, error="an integer 1-5")],
        "nps": [pa.Check.in_range(0, 10, error="an integer 0-10")],
    },
}

_PANDERA_RULE = {"not_nullable": "not null", "field_uniqueness": "unique"}


def schema(name: str) -> pa.DataFrameSchema:
    """The pandera schema of one contract table (types are checked when loading)."""
    table = TABLES[name]
    cols = {}
    for col, spec in table.columns.items():
        cols[col] = pa.Column(
            None,
            checks=_RULES.get(name, {}).get(col, []),
            nullable=spec.nullable,
            unique=col == table.key,
            required=False,  # a missing required column is reported by the loader
            coerce=False,
        )
    return pa.DataFrameSchema(cols, strict=False, name=name)


def isin(s: pd.Series, values: pd.Series) -> pd.Series:
    """``s.isin(values)`` through Arrow's hash kernel: pandas' isin on Arrow strings loops in Python
    (3.6 s of 18 s validating 200k accounts)."""

    try:
        hit = pc.is_in(pyarrow.array(s.array), value_set=pyarrow.array(pd.Series(values).array))
    except (pa.ArrowException, TypeError, ValueError):
        return s.isin(values)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index).fillna(False).astype(bool)


def _value_problems(name: str, df: pd.DataFrame, unparsed: dict[tuple[str, str], pd.Index]) -> list[Problem]:
    try:
        schema(name).validate(df, lazy=True)
        return []
    except SchemaErrors as err:
        fc = err.failure_cases
    fc = fc[fc["column"].notna() & fc["index"].notna()]
    out = []
    for (col, check), grp in fc.groupby(["column", "check"], sort=False):
        rule = _PANDERA_RULE.get(check, check)
        mask = pd.Series(False, index=df.index)
        rows = pd.to_numeric(grp["index"], errors="coerce").dropna().astype("int64").unique()
        mask.loc[df.index.intersection(rows)] = True
        if rule == "not null" and (name, col) in unparsed:
            # Values that failed to parse were reported as such and then nulled.
            mask.loc[unparsed[(name, col)]] = False
        if not mask.any():
            continue
        out.append(Problem(name, col, _fix(name, col, rule), int(mask.sum()), _shown(name, col, rule, df, mask)))
    return out


def _shown(name: str, col: str, rule: str, df: pd.DataFrame, mask: pd.Series) -> tuple[str, ...]:
    """The offending values of a value rule (enumerations, numbers); ids for unique and not null."""
    if rule in _PANDERA_RULE.values():
        return examples(row_labels(df, TABLES[name], mask))
    return shown_values(df.loc[mask, col])


def _fix(name: str, col: str, rule: str) -> str:
    """The rule, and for an enumeration how to map the export's own words onto it."""
    if (name, col) in ENUMS and rule.startswith("one of"):
        return f"{rule} (any case); map others in pilot.yml values: {name}.{col}"
    return rule


def _cross_problems(pilot: Pilot) -> tuple[list[Problem], list[Problem]]:
    cfg, t = pilot.config, pilot.tables
    errors: list[Problem] = []
    warnings: list[Problem] = []
    acc = t.get("accounts")
    if acc is None:
        return errors, warnings
    if acc.empty:
        errors.append(Problem("accounts", "", "at least one account (the table is empty)"))
        return errors, warnings
    spec = TABLES["accounts"]
    if {"account_id", "arm"} <= set(acc.columns):
        arms_per = acc.dropna(subset=["account_id", "arm"]).groupby("account_id")["arm"].nunique()
        multi = arms_per[arms_per > 1].index
        if len(multi):
            m = acc["account_id"].isin(multi)
            errors.append(
                Problem("accounts", "arm", "an account in one arm only", int(m.sum()), examples(acc.loc[m, "account_id"]))
            )
        declared = cfg.arm_labels
        undeclared = acc["arm"].notna() & ~acc["arm"].isin(declared)
        if undeclared.any():
            labels = ", ".join(map(repr, pd.unique(acc.loc[undeclared, "arm"])[:5]))
            errors.append(
                Problem(
                    "accounts",
                    "arm",
                    f"declared in pilot.yml arms (found {labels})",
                    int(undeclared.sum()),
                    examples(row_labels(acc, spec, undeclared)),
                )
            )
        for arm in declared:
            if not (acc["arm"] == arm).any():
                errors.append(Problem("accounts", "arm", f"declared arm {arm!r} has accounts (it has none)"))
    if cfg.randomization == "agent":
        if "agent_id" not in acc.columns:
            errors.append(Problem("accounts", "agent_id", "required when randomization is agent"))
        elif "arm" in acc.columns:
            per = acc.dropna(subset=["agent_id", "arm"]).groupby("agent_id")["arm"].nunique()
            multi = per[per > 1].index
            if len(multi):
                m = acc["agent_id"].isin(multi)
                errors.append(
                    Problem(
                        "accounts",
                        "agent_id",
                        "an agent in one arm only (randomization is agent)",
                        int(m.sum()),
                        examples(pd.Series(multi)),
                    )
                )
    if {"closed_at", "assigned_at"} <= set(acc.columns):
        m = acc["closed_at"].notna() & (acc["closed_at"] < acc["assigned_at"])
        if m.any():
            errors.append(
                Problem("accounts", "closed_at", "closed_at >= assigned_at", int(m.sum()), examples(row_labels(acc, spec, m)))
            )
    if "assigned_at" in acc.columns:
        late = acc["assigned_at"] > pd.Timestamp(cfg.observed_until)
        if late.any():
            warnings.append(
                Problem(
                    "accounts",
                    "assigned_at",
                    "assigned after observed_until (no observed time; excluded)",
                    int(late.sum()),
                    examples(row_labels(acc, spec, late)),
                    "warning",
                )
            )
    if cfg.segments is not None and "segment" in acc.columns:
        unknown = acc["segment"].notna() & ~acc["segment"].isin(cfg.segments)
        if unknown.any():
            warnings.append(
                Problem(
                    "accounts",
                    "segment",
                    "a segment listed in pilot.yml segments",
                    int(unknown.sum()),
                    examples(acc.loc[unknown, "segment"]),
                    "warning",
                )
            )
    p = t.get("promises")
    if p is not None and {"made_at", "due_at"} <= set(p.columns):
        m = p["due_at"] < p["made_at"]
        m = m.fillna(False).astype(bool)
        if m.any():
            errors.append(
                Problem("promises", "due_at", "due_at >= made_at", int(m.sum()), examples(row_labels(p, TABLES["promises"], m)))
            )
    ids = acc["account_id"].dropna() if "account_id" in acc.columns else None
    assigned = (
        acc.dropna(subset=["account_id"]).drop_duplicates("account_id").set_index("account_id")["assigned_at"]
        if "assigned_at" in acc.columns and ids is not None
        else None
    )
    for name, df in t.items():
        if name == "accounts" or "account_id" not in df.columns or ids is None:
            continue
        table = TABLES[name]
        orphan = df["account_id"].notna() & ~isin(df["account_id"], ids)
        if orphan.any():
            errors.append(
                Problem(name, "account_id", "exists in accounts", int(orphan.sum()), examples(df.loc[orphan, "account_id"]))
            )
        tcol = table.time
        if tcol in df.columns and assigned is not None:
            at = df[tcol]
            start = pd.Series(assigned.reindex(df["account_id"].to_numpy()).array, index=df.index)
            before = (at < start).fillna(False).astype(bool)
            after = (at > pd.Timestamp(cfg.observed_until)).fillna(False).astype(bool)
            for mask, rule in (
                (before, f"{tcol} before the account's assigned_at (ignored by metrics)"),
                (after, f"{tcol} after observed_until (ignored by metrics)"),
            ):
                if mask.any():
                    warnings.append(Problem(name, tcol, rule, int(mask.sum()), examples(row_labels(df, table, mask)), "warning"))
    s = t.get("surveys")
    if s is not None and "csat" in s.columns:
        nps = s["nps"] if "nps" in s.columns else pd.Series(pd.NA, index=s.index)
        empty = s["csat"].isna() & nps.isna()
        if empty.any():
            warnings.append(
                Problem(
                    "surveys",
                    "csat",
                    "a csat or nps answer (row has neither; ignored)",
                    int(empty.sum()),
                    examples(row_labels(s, TABLES["surveys"], empty)),
                    "warning",
                )
            )
    return errors, warnings


@dataclass
class ValidationReport:
    """Everything validation found; ``errors`` empty means the pilot is usable."""

    pilot: Pilot | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary_lines(self) -> list[str]:
        """Accounts per arm, dates, tables and rows, what missing optional data disables."""
        p = self.pilot
        cfg, t = p.config, p.tables
        acc = t["accounts"]
        lines = [f"pilot {cfg.name!r}: valid (data contract v{cfg.contract}, randomization by {cfg.randomization})"]
        counts = acc.drop_duplicates("account_id")["arm"].value_counts()
        arms = "; ".join(f"{a} ({role}) {int(counts.get(a, 0)):,}" for role, a in cfg.arms.items())
        lines.append(f"accounts per arm: {arms}")
        if "agent_id" in acc.columns and acc["agent_id"].notna().any():
            lines.append(f"agents: {acc['agent_id'].nunique():,}")
        lines.append(
            f"assigned {acc['assigned_at'].min():%Y-%m-%d} to {acc['assigned_at'].max():%Y-%m-%d}; "
            f"observed until {cfg.observed_until:%Y-%m-%d %H:%M} UTC"
        )
        lines.append("tables: " + "; ".join(f"{n} {len(df):,} rows" for n, df in t.items()))
        lines.append(eligibility_line(acc, cfg, available(t)))
        for name, table in TABLES.items():
            if name not in t:
                lines.append(f"missing table {name}: disables {table.unlocks}")
                continue
            for col, spec in table.columns.items():
                if not spec.required and col not in t[name].columns:
                    lines.append(f"missing column {name}.{col}: disables {spec.unlocks}")
        return lines


def validate_pilot(path: str | Path) -> ValidationReport:
    """Run every rule on the pilot at ``path``; never raises for bad data."""
    try:
        pilot = read_pilot(path)
    except PilotError as err:
        return ValidationReport(None, errors=err.problems)
    errors = [p for p in pilot.problems if p.severity == "error"]
    warnings = [p for p in pilot.problems if p.severity == "warning"]
    for name, df in pilot.tables.items():
        errors += _value_problems(name, df, pilot.unparsed)
    cross_err, cross_warn = _cross_problems(pilot)
    if not errors and not cross_err:
        elig_err, elig_warn = eligibility_problems(pilot.tables["accounts"], pilot.config, available(pilot.tables))
        cross_err, cross_warn = cross_err + elig_err, cross_warn + elig_warn
    pilot.problems = errors + cross_err + warnings + cross_warn
    return ValidationReport(pilot, errors + cross_err, warnings + cross_warn)


def run_validate(path: str | Path, out=None, err=None) -> int:
    """The ``workbench validate`` command: print the summary (0) or every problem (1)."""

    # Looked up at call time, so that a redirected stdout (tests, notebooks) is honoured.
    out, err = out or sys.stdout, err or sys.stderr

    try:
        report = validate_pilot(path)
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


def load_pilot(path: str | Path) -> Pilot:
    """Load and fully validate a pilot; raise :class:`PilotError` listing every error.

    Warnings do not stop loading; they are kept in ``Pilot.problems``.
    """
    report = validate_pilot(path)
    if report.errors:
        raise PilotError(report.errors)
    return report.pilot
