"""``workbench init DIR [--from FILE ...]``: a commented pilot.yml, table headers, the next commands.

Without ``--from`` the pilot.yml is the template: every key with its default
and meaning, the optional ones commented out. With ``--from`` (a CSV or
Parquet export, once per table) the file's columns and a sample of its rows
propose the table it holds, the renames (``columns:``), the value mappings
of enumerations (``values:``), the ``timestamp_format`` when the dates are
not ISO 8601 and the values say whether the day or the month comes first,
the arm labels and ``observed_until``. The exports are only read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import pandas as pd
import pyarrow.parquet as pq
import typer
import yaml

from workbench.cli.app import app, fail
from workbench.contract.config import Windows, parse_config
from workbench.contract.eligibility import horizon_days
from workbench.contract.hints import closest_column, norm, slash_format
from workbench.contract.mapping import ENUMS, is_grouped
from workbench.contract.source import SUFFIXES
from workbench.contract.tables import TABLES

SAMPLE = 5_000  # rows read from an export to propose its mapping

# Names CRM exports give contract columns (normalized: lower case, _ for the rest).
SYNONYMS = {
    "arm": ("group", "variant", "treatment_group", "test_group", "cohort", "strategy"),
    "assigned_at": ("assigned", "assigned_date", "assignment_date", "assignment_time", "start_date", "placed_at"),
    "balance": ("balance_due", "amount_due", "outstanding", "outstanding_balance", "current_balance"),
    "days_past_due": ("dpd", "days_delinquent", "days_overdue"),
    "prior_paid": ("paid_prior_90d", "prior_payments", "paid_90d"),
    "closed_at": ("closed_date", "close_date", "churned_at"),
    "agent_id": ("agent", "collector", "collector_id", "owner_id", "rep_id"),
    "at": ("timestamp", "contact_time", "contact_date", "date", "datetime", "created_at"),
    "channel": ("contact_type", "medium", "contact_channel"),
    "direction": ("inbound_outbound", "call_direction"),
    "reached": ("connected", "rpc", "right_party_contact", "contacted"),
    "handle_seconds": ("handle_time", "duration", "duration_seconds", "talk_time"),
    "empathy_score": ("qa_score", "quality_score"),
    "made_at": ("promise_date", "created_at"),
    "due_at": ("due_date", "promised_date"),
    "paid_at": ("payment_date", "paid_date", "posted_at"),
    "filed_at": ("complaint_date", "filed_date"),
    "answered_at": ("survey_date", "response_date"),
}

# Words exports use for the contract's enumerations.
WORDS = {
    "call": ("phone", "voice", "telephone", "dialer", "calls"),
    "sms": ("text", "txt", "text message", "texts"),
    "email": ("e-mail", "mail message", "emails"),
    "letter": ("mail", "post", "letters", "postal"),
    "chat": ("web chat", "webchat", "whatsapp", "messenger"),
    "portal": ("web", "online", "self-service", "self service", "website"),
    "outbound": ("out", "outgoing", "ob"),
    "inbound": ("in", "incoming", "ib"),
    "regulator": ("cfpb", "ombudsman", "external"),
    "internal": ("company", "direct"),
}
_CONTROL = re.compile(r"control|pressure|standard|bau|business.as.usual|champion", re.I)


@dataclass
class Proposal:
    """What one export looks like to the contract."""

    file: Path
    table: str
    renames: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    timestamp_format: str | None = None
    ambiguous: list[str] = field(default_factory=list)  # formats to choose from when unknown
    arms: list[str] = field(default_factory=list)
    last: pd.Timestamp | None = None
    first_assigned: pd.Timestamp | None = None
    missing: list[str] = field(default_factory=list)
    grouped: list[str] = field(default_factory=list)


def read_sample(path: Path) -> pd.DataFrame:
    """The first rows of an export, as text (CSV) or as stored (Parquet)."""
    try:
        if path.name.endswith((".parquet", ".pq")):
            first = next(pq.ParquetFile(path).iter_batches(batch_size=SAMPLE), None)  # not the whole export
            return first.to_pandas() if first is not None else pd.read_parquet(path)
        return pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""], nrows=SAMPLE)
    except FileNotFoundError:
        fail(f"ERROR {path} [--from]: file not found")
    except Exception as exc:
        fail(f"ERROR {path} [--from]: unreadable ({str(exc).splitlines()[0][:120] if str(exc) else exc.__class__.__name__})")
    raise AssertionError  # fail() raised


def _required(table: str) -> list[str]:
    """The required columns of a contract table, in contract order."""
    return [c for c, spec in TABLES[table].columns.items() if spec.required]


def _match(col: str, header: list[str], taken: set[str]) -> str | None:
    """The export column that holds contract column ``col``, if one looks like it."""
    free = [h for h in header if h not in taken]
    hit = closest_column(col, free)
    if hit is not None:
        return hit
    by_norm = {norm(h): h for h in free}
    return next((by_norm[s] for s in SYNONYMS.get(col, ()) if s in by_norm), None)


def guess_table(path: Path, header: list[str]) -> str:
    """The contract table an export holds: its file name, else the most required columns found."""
    stem = norm(path.name.split(".")[0])
    for name in TABLES:
        if name.rstrip("s") in stem:
            return name

    def score(name: str) -> tuple[int, int]:
        req = sum(_match(c, header, set()) is not None for c in _required(name))
        return req - len(_required(name)), req

    return max(TABLES, key=score)


def _word(value: str, enum: tuple[str, ...]) -> str | None:
    v = value.strip().lower()
    for target in enum:
        if v == target or v in WORDS.get(target, ()):
            return target
    return None


def propose(path: Path) -> Proposal:
    """Read the first rows of an export and propose how pilot.yml maps it onto the contract."""
    df = read_sample(path)
    header = [str(c) for c in df.columns]
    table = guess_table(path, header)
    prop = Proposal(path, table)
    taken: set[str] = set()
    found: dict[str, str] = {}
    for col in TABLES[table].columns:
        if col in header:
            found[col] = col
            taken.add(col)
    for col in TABLES[table].columns:
        if col in found:
            continue
        hit = _match(col, header, taken)
        if hit is not None:
            found[col], prop.renames[hit] = hit, col
            taken.add(hit)
    prop.missing = [c for c in _required(table) if c not in found]
    stamps: list[pd.Timestamp] = []
    for col, src in found.items():
        kind = TABLES[table].columns[col].kind
        s = df[src].dropna()
        if kind == "timestamp" and s.dtype == "string":
            iso = pd.to_datetime(s.str.strip(), utc=True, errors="coerce", format="ISO8601")
            if iso.notna().all():
                stamps.append(iso.max())
                if col == "assigned_at":
                    prop.first_assigned = iso.min()
                continue
            fmt, choices = slash_format(s)
            if fmt:
                prop.timestamp_format = fmt
                parsed = pd.to_datetime(s.str.strip(), utc=True, errors="coerce", format=fmt)
                stamps.append(parsed.max())
                if col == "assigned_at":
                    prop.first_assigned = parsed.min()
            elif choices:
                prop.ambiguous = choices
        elif kind == "timestamp" and len(s):
            stamps.append(pd.Timestamp(s.max()))
        elif kind in ("float", "int") and s.dtype == "string" and s.map(is_grouped).any():
            prop.grouped.append(src)
        elif (table, col) in ENUMS:
            enum = ENUMS[(table, col)]
            odd = sorted({v.strip() for v in s.astype(str) if v.strip().lower() not in enum})
            pairs = {v: w for v in odd if (w := _word(v, enum))}
            if pairs:
                prop.values[f"{table}.{col}"] = pairs
        elif col == "arm":
            prop.arms = sorted(str(v).strip() for v in pd.unique(s.astype(str)))[:10]
    stamps = [t if t.tzinfo else t.tz_localize("UTC") for t in stamps if not pd.isna(t)]
    prop.last = max(stamps) if stamps else None
    return prop


def _arms(labels: list[str]) -> dict[str, str]:
    if len(labels) < 2:
        return {"control": "pressure", "treatment": "empathy"}
    control = next((x for x in labels if _CONTROL.search(x)), labels[0])
    rest = [x for x in labels if x != control]
    return {"control": control, **{("treatment" if i == 0 else f"treatment_{i + 1}"): x for i, x in enumerate(rest)}}


def _flow(data: object) -> str:
    """One YAML value on one line (quoted where YAML needs it)."""
    text = yaml.safe_dump(data, default_flow_style=True, sort_keys=False, width=1000).strip()
    return text.removesuffix("...").strip()


def pilot_yml(name: str, props: list[Proposal]) -> str:
    """The commented pilot.yml: every key with its default and meaning; the proposals filled in."""
    arms = _arms(next((p.arms for p in props if p.arms), []))
    lasts = [p.last for p in props if p.last is not None]
    obs = (max(lasts).normalize() + pd.Timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z") if lasts else "2026-06-30T00:00:00Z"
    columns = {p.table: p.renames for p in props if p.renames}
    values = {k: v for p in props for k, v in p.values.items()}
    fmt = next((p.timestamp_format for p in props if p.timestamp_format), None)
    choices = next((p.ambiguous for p in props if p.ambiguous), [])
    first = next((p.first_assigned for p in props if p.first_assigned is not None), None)
    wait = ""
    if first is not None and lasts:
        days = horizon_days("kept_ptp", Windows())  # the primary metric, with the default windows
        need = first + pd.Timedelta(days=days)
        if need > max(lasts):
            wait = (
                f"\n# With the default windows kept_ptp needs {days} days after assigned_at: the first account is\n"
                f"# eligible on {need:%Y-%m-%d}. Wait, shorten windows, or choose another primary_metric.\n"
            )
    arm_lines = "\n".join(f"  {role}: {_flow(label)}" for role, label in arms.items())
    out = f"""# pilot.yml: the pilot's settings (data contract v1; every key is in docs/contract.md).
# Written by `workbench init`. A commented key takes the default shown.

name: {_flow(name)}{" " * max(1, 30 - len(_flow(name)))}# shown on every report
# description: ""                   # one line on what was tested
arms:                               # role: the label in accounts.arm (control first)
{arm_lines}
# allocation: {_flow(dict.fromkeys(arms.values(), 1))}   # planned weight per arm (default equal): the sample-ratio check
randomization: account              # account | agent (each agent's accounts all in one arm)
observed_until: {obs}   # the data cut-off (UTC); events after it are ignored
# windows:                          # days, counted from each account's assigned_at
#   outcome_days: 60                # the outcome window
#   grace_days: 3                   # payments up to due_at + grace_days keep a promise
#   max_due_days: 30                # a promise due later is judged at made_at + max_due_days
#   retention_days: 180             # still a customer this long after assignment
primary_metric: kept_ptp            # gets the headline verdict (docs/metrics.md){wait}
# guardrails:                       # judged for harm only; margin in the metric's unit
#   complaints: {{margin: 0.001}}     # one extra complaint per 1,000 accounts
#   recovery: {{margin: 0.005}}       # half a point of liquidation rate
#   contact_intensity: {{margin: 1.0}}  # one extra outbound attempt per account
#   handle_time: {{margin: 60.0}}     # one extra minute per reached contact
# rope: {{kept_ptp: 0.005}}           # per metric: differences this small count as no change
# priors: {{}}                        # overrides of the models' priors (docs/contract.md, Priors)
# min_cell_size: 10                 # smaller cells are suppressed in reports
# portfolio: {{accounts: 100000, cost_per_contact: 0.0}}   # for the money impact
# segments: [job_loss, medical]     # expected accounts.segment labels (others: a warning)
# claims: null                      # a claims register file, or a list of claim ids
# source: {{kind: folder}}            # folder (default) | duckdb (path) | ibis (url, schema)

# How your export differs from the contract: applied on read, the files are never changed.
"""
    if columns:
        out += "columns:                            # your column -> the contract's\n"
        out += "".join(f"  {t}: {_flow(m)}\n" for t, m in columns.items())
    else:
        out += "# columns:                          # your column -> the contract's\n#   accounts: {Account ID: account_id}\n"
    if values:
        out += "values:                             # your value -> the contract's (enumerations match any case)\n"
        out += "".join(f"  {k}: {_flow(m)}\n" for k, m in values.items())
    else:
        out += "# values:                           # your value -> the contract's (enumerations match any case)\n"
        out += "#   contacts.channel: {Phone: call}\n"
    if fmt:
        out += f"timestamp_format: {_flow(fmt)}      # how your timestamps are written (strptime codes)\n"
    elif choices:
        out += "# Your dates do not say whether the day or the month comes first: keep the right one.\n"
        out += "".join(f"# timestamp_format: {_flow(c)}\n" for c in choices)
    else:
        out += '# timestamp_format: "%m/%d/%Y %H:%M"  # when timestamps are not ISO 8601 (strptime codes)\n'
    return out


def write_headers(folder: Path) -> None:
    """One CSV header per table in ``folder``, required columns first."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in TABLES.items():
        cols = _required(name) + [c for c in table.columns if c not in _required(name)]
        (folder / f"{name}.csv").write_text(",".join(cols) + "\n", encoding="utf-8")


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="folder of the new pilot (created)")],
    source: Annotated[
        list[Path] | None, typer.Option("--from", help="a CSV or Parquet export (once per table): propose its mapping")
    ] = None,
    name: Annotated[str | None, typer.Option(help="the pilot's name (default: the folder's)")] = None,
    force: Annotated[bool, typer.Option(help="overwrite an existing pilot.yml")] = False,
) -> None:
    """Start a pilot: a commented pilot.yml, one CSV header per table, and the next three commands."""
    yml = folder / "pilot.yml"
    if yml.exists() and not force:
        fail(f"ERROR {yml} [init]: already exists; edit it, or pass --force to write a new one")
    props = [propose(p) for p in source or []]
    tables = [p.table for p in props]
    twice = sorted({t for t in tables if tables.count(t) > 1})
    if twice:
        fail(f"ERROR --from [one file per table]: several exports look like {', '.join(twice)}; give one per table")
    text = pilot_yml(name or folder.resolve().name, props)
    parse_config(yaml.safe_load(text))  # what init writes must validate as it stands
    folder.mkdir(parents=True, exist_ok=True)
    yml.write_text(text, encoding="utf-8")
    write_headers(folder / "headers")
    typer.echo(f"wrote {yml} and one header per table in {folder / 'headers'}")
    for p in props:
        mapped = f"{len(p.renames)} column(s) renamed" + (
            f", {sum(map(len, p.values.values()))} value(s) mapped" if p.values else ""
        )
        typer.echo(f"{p.file.name}: looks like table {p.table} ({mapped})")
        if p.missing:
            typer.echo(f"  not found in {p.file.name}: {', '.join(p.missing)}: add them under columns: {p.table} in pilot.yml")
        if p.ambiguous:
            typer.echo(f"  dates in {p.file.name} could be day or month first: choose timestamp_format in pilot.yml")
    typer.echo("next:")
    if props:
        for p in props:
            suffix = (
                ".parquet"
                if p.file.name.endswith((".parquet", ".pq"))
                else next((s for s in reversed(SUFFIXES) if p.file.name.endswith(s)), ".csv")
            )
            typer.echo(f"  cp '{p.file}' '{folder / (p.table + suffix)}'")
    else:
        typer.echo(f"  1. put each table in {folder} as <table>.csv or <table>.parquet (columns: {folder / 'headers'})")
    typer.echo(f"  {'' if props else '2. '}workbench validate {folder}")
    typer.echo(f"  {'' if props else '3. '}workbench run {folder}   (or: workbench analyze {folder})")
