"""pilot.yml: the pilot's configuration, parsed and checked with pydantic.

A minimal pilot.yml::

    name: demo
    arms: {control: pressure, treatment: empathy}
    observed_until: 2026-06-30T00:00:00Z

Everything else has a documented default (see ``docs/contract.md``). Unknown
keys are errors, so a typo (``outcome_day:``) never silently falls back to a
default.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workbench.errors import ConfigError

CONTRACT_VERSION = 1

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Windows(_Strict):
    """Windows in days, all counted from each account's ``assigned_at``."""

    outcome_days: int = Field(60, gt=0)
    grace_days: int = Field(3, ge=0)
    max_due_days: int = Field(30, gt=0)
    retention_days: int = Field(180, gt=0)


class Guardrail(_Strict):
    """A guardrail fails when P(harm beyond ``margin``) > ``threshold``.

    ``margin`` is in the metric's own unit (e.g. complaints per account).
    """

    margin: float = Field(0.0, ge=0)
    threshold: float = Field(0.05, gt=0, lt=1)


class Portfolio(_Strict):
    """For the money impact: accounts a year and the cost of one contact."""

    accounts: int = Field(100_000, gt=0)
    cost_per_contact: float = Field(0.0, ge=0)


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
    primary_metric: str = "kept_ptp"
    guardrails: dict[str, Guardrail] = Field(default_factory=lambda: dict(DEFAULT_GUARDRAILS))
    rope: dict[str, float] = Field(default_factory=dict)
    priors: dict[str, dict] = Field(default_factory=dict)
    min_cell_size: int = Field(10, ge=1)
    portfolio: Portfolio = Portfolio()
    segments: list[str] | None = None
    claims: list[str] | str | None = None
    source: Source = Source()

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

    @field_validator("primary_metric")
    @classmethod
    def _primary(cls, v: str) -> str:
        if v not in METRICS:
            raise ValueError(f"unknown metric {v!r}; known: {', '.join(METRICS)}")
        return v

    @field_validator("guardrails", "rope")
    @classmethod
    def _known_metrics(cls, v: dict) -> dict:
        bad = [k for k in v if k not in METRICS]
        if bad:
            raise ValueError(f"unknown metric(s) {', '.join(map(repr, bad))}; known: {', '.join(METRICS)}")
        return v

    @model_validator(mode="after")
    def _allocation(self) -> PilotConfig:
        if self.allocation is not None:
            labels = set(self.arms.values())
            if set(self.allocation) != labels:
                raise ValueError(f"allocation must name exactly the arm labels {sorted(labels)}")
            if any(w <= 0 for w in self.allocation.values()):
                raise ValueError("allocation weights must be > 0")
        return self

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

    def allocation_shares(self) -> dict[str, float]:
        """Configured share of units per arm (equal when not configured), summing to 1."""
        w = self.allocation or {a: 1.0 for a in self.arm_labels}
        total = sum(w.values())
        return {a: w[a] / total for a in self.arm_labels}


def _format_errors(err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"pilot.yml: {loc}: {msg}")
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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"pilot.yml: (file): not found at {path}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"pilot.yml: (file): unreadable ({exc.__class__.__name__}: {exc})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ConfigError([f"pilot.yml: (file): not valid YAML{at}"]) from None
    return parse_config(data)


def dump_config(cfg: PilotConfig) -> str:
    """The configuration as YAML text (what the simulator writes)."""
    data = cfg.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False)
