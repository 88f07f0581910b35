"""pilot.yml: the pilot's configuration, parsed and checked with pydantic.

A minimal pilot.yml::

    name: demo
    arms: {control: pressure, treatment: empathy}
    observed_until: 2026-06-30T00:00:00Z

Everything else has a documented default (see ``docs/contract.md``). Unknown
keys are errors at every level (windows, guardrails, priors, source, ...), so
a typo (``outcome_day:``) never silently falls back to a default; the error
names the closest known key.
"""

from __future__ import annotations

import difflib
import typing
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from workbench.contract.mapping import ENUMS
from workbench.contract.tables import TABLES
from workbench.defaults import THRESHOLDS
from workbench.errors import ConfigError

CONTRACT_VERSION = 1
MAX_YML_BYTES = 1 << 20  # a pilot.yml is a page of settings, not data
ALLOCATION_TOLERANCE = 1e-6  # shares written as 0.333333 still sum to one

METRICS = (
    "engagement",
    "ptp",
    "kept_ptp",
    "kept_rate",
    "complaints",
    "csat",
    "retention",
    "recovery",
    "handle_time",
    "contact_intensity",
    "nps",
)


def _did_you_mean(word: str, known: typing.Iterable[str]) -> str:
    """``did you mean 'x'?`` for the closest known word, else the list of known words."""
    known = list(known)
    close = difflib.get_close_matches(str(word), known, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"


def _metric(name: str) -> str:
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; {_did_you_mean(name, METRICS)}")
    return name


# A metric of the catalogue, as a value (primary_metric) or as a mapping key
# (guardrails, rope), so a misspelt name is reported where it stands.
Metric = Annotated[str, AfterValidator(_metric)]


class _Strict(BaseModel):
    # inf and nan are never a setting: a nan allocation or margin switches a gate off silently.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Prior(_Strict):
    # Priors are numbers only: strict refuses ``true`` (read as 1.0 otherwise)
    # and quoted numbers; inf and nan make no distribution.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Windows(_Strict):
    """Windows in days, all counted from each account's ``assigned_at``."""

    outcome_days: int = Field(60, gt=0)
    grace_days: int = Field(3, ge=0)
    max_due_days: int = Field(30, gt=0)
    retention_days: int = Field(180, gt=0)


class Guardrail(_Strict):
    """A guardrail fails when P(harm beyond ``margin``) > ``threshold``.

    ``margin`` is in the metric's own unit (e.g. complaints per account). It
    has no default here: pilot.yml fills in the metric's documented
    default (:data:`DEFAULT_GUARDRAILS`) when it is omitted, and a metric
    without one must be given a margin, because a margin of 0 fails a
    guardrail on noise alone whenever the effect is near zero.
    """

    margin: float = Field(ge=0)
    threshold: float = Field(THRESHOLDS.harm, gt=0, lt=1)  # the one default bar (workbench.defaults)


class Portfolio(_Strict):
    """For the money impact: accounts a year, the cost of one contact and the currency of both.

    ``currency`` is an ISO 4217 code (EUR, GBP, USD); empty (the default) means
    not stated, and the report then says amounts are in the pilot's own currency.
    """

    accounts: int = Field(100_000, gt=0)
    cost_per_contact: float = Field(0.0, ge=0)
    currency: str = Field("", pattern=r"^([A-Z]{3})?$")


class Source(_Strict):
    """Where the tables live.

    ``kind: folder`` (default) reads ``<table>.parquet`` or ``<table>.csv`` next
    to pilot.yml (or under ``path``); ``kind: duckdb`` reads the tables from a
    DuckDB file at ``path``; ``kind: ibis`` connects to ``url`` (any ibis
    backend) and reads the tables from ``schema``.
    """

    kind: Literal["folder", "duckdb", "ibis"] = "folder"
    path: str | None = None
    url: str | None = None
    schema_: str | None = Field(None, alias="schema")

    @model_validator(mode="after")
    def _needs(self) -> Source:
        if self.kind == "duckdb" and not self.path:
            raise ValueError("source.kind duckdb needs source.path (the .duckdb file)")
        if self.kind == "ibis" and not self.url:
            raise ValueError("source.kind ibis needs source.url (an ibis connection URL)")
        return self


# ---------------------------------------------------------------- priors
# The defaults below repeat workbench.models.conjugate.DEFAULT_PRIORS and
# HierarchicalBinary.DEFAULT_PRIORS (the models own them; tests/test_config.py
# checks they agree), so that reading pilot.yml never imports PyMC.

Positive = Annotated[float, Field(gt=0)]


class BinaryPrior(_Prior):
    """Beta(alpha, beta) on a share (binary metrics, retention at its horizon)."""

    alpha: Positive = 1.0
    beta: Positive = 1.0


class CountPrior(_Prior):
    """Gamma prior on a count's rate (complaints, contact intensity).

    Default: Gamma(prior_events, prior_events / pooled rate), worth
    ``prior_events`` events and free of the unit of exposure; ``shape`` and
    ``rate`` (both given) give an absolute Gamma(shape, rate) on events per
    account instead.
    """

    shape: Positive | None = None
    rate: Positive | None = None
    prior_events: Positive = 1.0


class OrdinalPrior(_Prior):
    """Dirichlet(concentration, ...) on the category shares (csat, nps)."""

    concentration: Positive = 1.0


class HazardPrior(_Prior):
    """Gamma(shape, rate_days) on the daily exit hazard (retention, survival view)."""

    shape: Positive = 1.0
    rate_days: Positive = 1000.0


class FamilyPriors(_Strict):
    """Priors of the exact (conjugate) models, one per outcome family.

    Ratio and continuous metrics (recovery, handle time, kept rate) have no
    prior to set: their posteriors are large-sample ones under a flat prior.
    """

    binary: BinaryPrior = BinaryPrior()
    count: CountPrior = CountPrior()
    ordinal: OrdinalPrior = OrdinalPrior()
    hazard: HazardPrior = HazardPrior()


class InterceptPrior(_Prior):
    """Normal(mu, sigma) on the logit of the control rate."""

    mu: float = 0.0
    sigma: Positive = 1.5


class ArmEffectPrior(_Prior):
    """Normal(mu, sigma) on a treatment's log-odds ratio."""

    mu: float = 0.0
    sigma: Positive = 1.0


class SegmentSdPrior(_Prior):
    """HalfNormal(sigma) on the between-segment sd of the logit."""

    sigma: Positive = 1.0


class InteractionSdPrior(_Prior):
    """HalfNormal(sigma) on the sd of segment-specific treatment deviations."""

    sigma: Positive = 0.25


class AgentSdPrior(_Prior):
    """HalfNormal(sigma) on the between-agent sd of the logit."""

    sigma: Positive = 0.5


class HierarchicalBinaryPriors(_Strict):
    """Priors of the hierarchical logistic model (binary metrics under agent randomization)."""

    intercept: InterceptPrior = InterceptPrior()
    arm_effect: ArmEffectPrior = ArmEffectPrior()
    segment_sd: SegmentSdPrior = SegmentSdPrior()
    interaction_sd: InteractionSdPrior = InteractionSdPrior()
    agent_sd: AgentSdPrior = AgentSdPrior()


class Priors(_Strict):
    """pilot.yml ``priors``: overrides of the models' documented priors.

    Every field has the model's default, so ``cfg.priors.families.binary.alpha``
    is the prior actually used. The engine takes the overrides only
    (:meth:`overrides`, merged over the models' own defaults); ``dict(priors)``
    gives the same, so ``Design(priors=dict(cfg.priors))`` stays right.
    """

    families: FamilyPriors = FamilyPriors()
    hierarchical_binary: HierarchicalBinaryPriors = HierarchicalBinaryPriors()

    def overrides(self) -> dict[str, dict]:
        """What pilot.yml set, as plain dicts: ``{"families": {"binary": {"alpha": 2.0}}}``."""
        return self.model_dump(exclude_unset=True)

    # The mapping protocol (what ``dict()`` uses) over the overrides: the
    # engine read ``priors`` as a plain dict before it was typed.
    def keys(self) -> typing.KeysView[str]:
        return self.overrides().keys()

    def __getitem__(self, key: str) -> dict:
        return self.overrides()[key]


# Default harm margins, in each metric's unit. Assumptions to be replaced by
# the team's own business minimums (pilot.yml ``guardrails``): one extra
# complaint per 1,000 accounts; half a point of liquidation rate; one extra
# outbound attempt per account in the window; one extra minute per reached
# contact. A margin of 0 would fail a guardrail on noise alone whenever the
# effect is near zero.
DEFAULT_GUARDRAILS = {
    "complaints": Guardrail(margin=0.001),
    "recovery": Guardrail(margin=0.005),
    "contact_intensity": Guardrail(margin=1.0),
    "handle_time": Guardrail(margin=60.0),
}


class PilotConfig(_Strict):
    """Parsed pilot.yml (data contract v1)."""

    contract: int = CONTRACT_VERSION
    name: str = Field(min_length=1)
    description: str = ""
    arms: dict[str, str]
    allocation: dict[str, float] | None = None
    randomization: Literal["account", "agent"] = "account"
    observed_until: datetime
    windows: Windows = Windows()
    primary_metric: Metric = "kept_ptp"
    guardrails: dict[Metric, Guardrail] = Field(default_factory=lambda: dict(DEFAULT_GUARDRAILS))
    rope: dict[Metric, float] = Field(default_factory=dict)
    priors: Priors = Priors()
    min_cell_size: int = Field(10, ge=1)
    portfolio: Portfolio = Portfolio()
    segments: list[str] | None = None
    claims: list[str] | str | None = None
    source: Source = Source()
    # How the team's export differs from the contract (workbench.contract.mapping).
    columns: dict[str, dict[str, str]] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    timestamp_format: str | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _columns(cls, v: Any) -> dict[str, dict[str, str]]:
        return _check_columns(v)

    @field_validator("values", mode="before")
    @classmethod
    def _values(cls, v: Any) -> dict[str, dict[str, str]]:
        return _check_values(v)

    @field_validator("timestamp_format")
    @classmethod
    def _timestamp_format(cls, v: str | None) -> str | None:
        return _check_timestamp_format(v)

    @field_validator("contract")
    @classmethod
    def _version(cls, v: int) -> int:
        if v != CONTRACT_VERSION:
            raise ValueError(f"this workbench reads contract {CONTRACT_VERSION}, not {v}")
        return v

    @field_validator("observed_until")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        # Naive timestamps are read as UTC, the rule for every table too.
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)

    @field_validator("arms")
    @classmethod
    def _arms(cls, v: dict[str, str]) -> dict[str, str]:
        if "control" not in v:
            raise ValueError("arms needs a 'control' label")
        if len(v) < 2:
            raise ValueError("arms needs at least one arm besides control (e.g. treatment)")
        labels = list(v.values())
        if len(set(labels)) != len(labels):
            raise ValueError("arm labels must be distinct")
        if any(not str(x).strip() for x in labels):
            raise ValueError("arm labels must be non-empty")
        return v

    @field_validator("guardrails", mode="before")
    @classmethod
    def _guardrail_forms(cls, v: Any) -> Any:
        """Both forms to one mapping, each omitted margin set to the metric's default.

        ``[complaints, recovery]`` is ``{complaints: {}, recovery: {}}``; an
        empty entry (``complaints:`` or ``complaints: {}``) takes the
        documented margin and threshold. Metric names and the entries' keys
        are checked afterwards, each where it stands.
        """
        if isinstance(v, list):
            names = [x for x in v if isinstance(x, str)]
            if len(names) != len(v):
                raise ValueError(
                    "a list of guardrails holds metric names only; give margins in the mapping form (complaints: {margin: 0.002})"
                )
            twice = sorted({x for x in names if names.count(x) > 1})
            if twice:
                raise ValueError(f"listed twice: {', '.join(twice)}")
            v = dict.fromkeys(names)
        if not isinstance(v, dict):
            raise ValueError("a list of metric names, or a mapping of metric names to {margin, threshold}")
        out = {}
        for name, g in v.items():
            g = {} if g is None else g
            default = DEFAULT_GUARDRAILS.get(name)
            if isinstance(g, dict) and default is not None:
                g = {**default.model_dump(), **g}
            out[name] = g
        return out

    @field_serializer("priors")
    def _priors_as_given(self, v: Priors) -> dict:
        # Written back (dump_config) as the overrides only, so a pilot.yml
        # never pins today's defaults as if someone had chosen them.
        return v.overrides()

    @model_validator(mode="after")
    def _allocation(self) -> PilotConfig:
        if self.allocation is not None:
            labels = set(self.arms.values())
            if set(self.allocation) != labels:
                raise ValueError(f"allocation must name exactly the arm labels {sorted(labels)} (got {sorted(self.allocation)})")
            if any(w <= 0 for w in self.allocation.values()):
                raise ValueError("allocation weights must be > 0")
            total = sum(self.allocation.values())
            if abs(total - 1) > ALLOCATION_TOLERANCE:
                raise ValueError(f"allocation shares must sum to 1 (they sum to {total:g})")
        return self

    @field_validator("claims")
    @classmethod
    def _claims(cls, v: list[str] | str | None) -> list[str] | str | None:
        if isinstance(v, str) and not v.strip():
            raise ValueError("a claims register file name, or a list of claim ids")
        if isinstance(v, list) and (bad := [x for x in v if not str(x).strip()]):
            raise ValueError(f"claim ids must be non-empty ({len(bad)} empty)")
        return v

    @property
    def control(self) -> str:
        """Label of the control arm."""
        return self.arms["control"]

    @property
    def treatments(self) -> list[str]:
        """Labels of the other arms, in declaration order."""
        return [lab for role, lab in self.arms.items() if role != "control"]

    @property
    def arm_labels(self) -> list[str]:
        """Control first, then the treatments."""
        return [self.control, *self.treatments]

    def plan_key(self) -> str:
        """pilot.yml as the engine's queries read it, for keying their compiled plans: every field
        but the pilot's ``name`` and ``description``, labels no query reads (tests/contract/test_compiled.py
        compiles the same SQL for two pilots differing in them). Pilots that differ only there share
        the plans of :mod:`workbench.contract.tablecounts` and :func:`workbench.contract.compiled.planned`."""
        return self.model_dump_json(exclude={"name", "description"})

    def allocation_shares(self) -> dict[str, float]:
        """Configured share of units per arm (equal when not configured), summing to 1."""
        w = self.allocation or dict.fromkeys(self.arm_labels, 1.0)
        total = sum(w.values())
        return {a: w[a] / total for a in self.arm_labels}


# ---------------------------------------------------------------- mapping
# pilot.yml ``columns``, ``values`` and ``timestamp_format`` (applied by
# workbench.contract.mapping). YAML reads Yes/No/On/Off as booleans and 1 as a
# number: keys and values are taken as text so that a mapping of them works.


def _text(x: object) -> str:
    if isinstance(x, bool):
        raise ValueError(f"{x!r} was read as a boolean by YAML: quote it ('Yes', 'No')")
    if not isinstance(x, str | int | float):
        raise ValueError(f"a mapping of text to text, not {type(x).__name__}")
    return str(x)


def _check_columns(v: Any) -> dict[str, dict[str, str]]:
    """``{table: {export name: contract column}}`` with tables and contract columns checked."""
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ValueError("a mapping of tables to {export column: contract column}, e.g. {accounts: {Account ID: account_id}}")
    out = {}
    for table, pairs in v.items():
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}; {_did_you_mean(table, TABLES)}")
        if not isinstance(pairs, dict):
            raise ValueError(f"{table}: a mapping of export column to contract column, e.g. {{Account ID: account_id}}")
        known = list(TABLES[table].columns)
        renamed = {}
        for src, dst in pairs.items():
            dst = _text(dst)
            if dst not in known:
                raise ValueError(f"{table}: {dst!r} is not a column of {table}; {_did_you_mean(dst, known)}")
            renamed[_text(src)] = dst
        twice = sorted({d for d in renamed.values() if list(renamed.values()).count(d) > 1})
        if twice:
            raise ValueError(f"{table}: two export columns renamed to {', '.join(twice)}")
        out[table] = renamed
    return out


def _check_values(v: Any) -> dict[str, dict[str, str]]:
    """``{table.column: {export value: contract value}}`` on string columns; enumeration targets checked."""
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ValueError("a mapping of table.column to {export value: contract value}, e.g. {contacts.channel: {Phone: call}}")
    strings = [f"{t}.{c}" for t, tab in TABLES.items() for c, spec in tab.columns.items() if spec.kind == "string"]
    out = {}
    for key, pairs in v.items():
        if key not in strings:
            raise ValueError(f"{key!r} is not a text column of the contract (table.column); {_did_you_mean(key, strings)}")
        if not isinstance(pairs, dict):
            raise ValueError(f"{key}: a mapping of export value to contract value, e.g. {{Phone: call}}")
        table, _, col = key.partition(".")
        enum = ENUMS.get((table, col))
        mapped = {}
        for src, dst in pairs.items():
            dst = _text(dst)
            if enum is not None and dst.lower() not in enum:
                close = difflib.get_close_matches(dst.lower(), enum, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"{key}: {dst!r} is not one of {', '.join(enum)}{hint}")
            mapped[_text(src)] = dst.lower() if enum is not None else dst
        out[key] = mapped
    return out


def _check_timestamp_format(v: str | None) -> str | None:
    """A strptime format that can read back what it writes (e.g. ``%m/%d/%Y %H:%M``)."""
    if v is None:
        return v
    probe = datetime(2026, 3, 15, 14, 22, 5)
    try:
        back = datetime.strptime(probe.strftime(v), v)
    except ValueError as exc:
        raise ValueError(f"not a strptime format ({exc}); e.g. '%m/%d/%Y %H:%M' (month first)") from None
    if "%" not in v or back.date() != probe.date():
        raise ValueError(f"{v!r} does not read a whole date; e.g. '%m/%d/%Y %H:%M' (month first) or '%d/%m/%Y %H:%M'")
    return v


# Keys that are not misspellings but a wrong place or a wrong idea, keyed by
# where they stand (the parent's location) and the key: difflib cannot guess these.
_HINTS = {
    ("priors",): {
        **{f: f"family priors go under priors.families (priors.families.{f})" for f in FamilyPriors.model_fields},
        **{
            n: f"model priors go under priors.hierarchical_binary (priors.hierarchical_binary.{n})"
            for n in HierarchicalBinaryPriors.model_fields
        },
    },
    ("priors", "families"): {
        **dict.fromkeys(
            ("ratio", "continuous"),
            "ratio and continuous metrics have no prior to set (large-sample posteriors under a flat prior)",
        ),
        **dict.fromkeys(("survival", "retention", "time-to-event"), "the retention prior is 'hazard' (on the daily exit hazard)"),
    },
}


def _keys(model: type[BaseModel]) -> dict[str, Any]:
    """A model's pilot.yml keys (aliases where set) and their annotations."""
    return {f.alias or name: f.annotation for name, f in model.model_fields.items()}


def _known_keys(parent: tuple) -> list[str] | None:
    """The keys allowed at ``parent`` (a location in pilot.yml), or None when unknown.

    Walks the models from :class:`PilotConfig`; a mapping of models
    (``guardrails``) consumes one location step for its key.
    """
    model: Any = PilotConfig
    steps = list(parent)
    while steps:
        ann = _keys(model).get(steps.pop(0)) if isinstance(model, type) else None
        if typing.get_origin(ann) is dict:
            ann = typing.get_args(ann)[1]
            if not steps:
                return None  # the location is the mapping itself: its keys are metrics
            steps.pop(0)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return list(_keys(model))


def _message(e: dict) -> tuple[tuple, str] | None:
    """One pydantic error as (location, message) in pilot.yml terms; None to leave it out."""
    loc = tuple(p for p in e["loc"] if p != "[key]")  # a bad mapping key: point at the key itself
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        parent, key = loc[:-1], str(loc[-1])
        hint = _HINTS.get(parent, {}).get(key)
        known = _known_keys(parent)
        msg = f"unknown key; {hint or (_did_you_mean(key, known) if known else msg)}"
    elif e["type"] == "missing" and loc[:1] == ("guardrails",) and loc[-1:] == ("margin",):
        if loc[1] not in METRICS:
            return None  # the unknown metric is the problem, reported on its own line
        msg = (
            f"required: {loc[1]} has no default margin; give the smallest harm that matters, "
            "in the metric's unit (a margin of 0 fails on noise alone)"
        )
    return loc, msg + _got(e)


def _got(e: dict) -> str:
    """`` (got -5)``: the offending value of a scalar setting, so the line shows what to change."""
    x = e.get("input")
    if e["type"] in ("missing", "extra_forbidden") or not isinstance(x, str | int | float | bool) or isinstance(x, dict):
        return ""
    text = repr(x)
    return f" (got {text if len(text) <= 40 else text[:39] + '…'})" if f"{x!r}" not in e["msg"] else ""


def _format_errors(err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        said = _message(e)
        if said is None:
            continue
        loc, msg = said
        where = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"pilot.yml: {where}: {msg}")
    return lines


def parse_config(data: object) -> PilotConfig:
    """Validate an already-parsed YAML mapping; raise :class:`ConfigError`."""
    if not isinstance(data, dict):
        raise ConfigError(["pilot.yml: (top level): must be a mapping of keys to values"])
    try:
        return PilotConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_errors(err)) from None


def load_config(path: str | Path) -> PilotConfig:
    """Read and validate ``pilot.yml``; every problem raises :class:`ConfigError`."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO would block the read forever
        raise ConfigError([f"pilot.yml: (file): not a regular file; refused ({path.name})"])
    if path.is_file() and path.stat().st_size > MAX_YML_BYTES:
        raise ConfigError([f"pilot.yml: (file): larger than {MAX_YML_BYTES:,} bytes; refused"])
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"pilot.yml: (file): not found at {path}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"pilot.yml: (file): unreadable ({exc.__class__.__name__}: {exc})"]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except _RepeatedKey as exc:
        raise ConfigError([f"pilot.yml: {exc.args[0]}: key repeated at line {exc.args[1]} (keep one)"]) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ConfigError([f"pilot.yml: (file): not valid YAML{at}"]) from None
    cfg = parse_config(data)
    check_claims_file(cfg, path.parent)
    return cfg


class _RepeatedKey(Exception):
    """A mapping key given twice: (dotted location, line)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a repeated key (it would keep the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise _RepeatedKey(str(key), key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def check_claims_file(cfg: PilotConfig, folder: Path) -> None:
    """``claims:`` naming a register file: it must exist beside pilot.yml (or at its absolute path)."""
    if isinstance(cfg.claims, str):
        file = folder / cfg.claims
        if not file.is_file():
            raise ConfigError([f"pilot.yml: claims: claims register file not found: {cfg.claims}"])
    elif cfg.claims is not None:
        # The shipped register's ids, read as data (the claims layer sits below the contract).
        shipped = yaml.safe_load(resources.files("workbench").joinpath("data/claims.yml").read_text(encoding="utf-8"))
        items = shipped.get("claims", []) if isinstance(shipped, dict) else shipped
        known = {str(c.get("id")) for c in items if isinstance(c, dict)}
        unknown = [c for c in cfg.claims if c not in known]
        if unknown:
            raise ConfigError(
                # the register is long: a did-you-mean, or where the ids are listed (one short line)
                [
                    f"pilot.yml: claims: unknown claim id(s): {', '.join(unknown)} "
                    + (
                        f"({_did_you_mean(unknown[0], known)})"
                        if difflib.get_close_matches(unknown[0], list(known), n=1, cutoff=0.6)
                        else f"(known: {len(known)} shipped claims; `workbench claims` and docs/claims.md list their ids)"
                    )
                ]
            )


def dump_config(cfg: PilotConfig) -> str:
    """The configuration as YAML text (what the simulator writes)."""
    data = cfg.model_dump(mode="json", by_alias=True, exclude_none=True)
    for key in ("columns", "values"):  # no mapping: not written (a pilot in the contract's own terms)
        if not data.get(key):
            data.pop(key, None)
    return yaml.safe_dump(data, sort_keys=False)
