"""Data contract v1: the tables, their columns and their rules, as data.

The column names are a public interface (see ``docs/contract.md``).
``TABLES[name].columns`` maps each column to a :class:`Column` spec; the
loaders, validators, simulator and metric definitions all read from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CHANNELS = ("call", "sms", "email", "letter", "chat", "portal")
DIRECTIONS = ("outbound", "inbound")
COMPLAINT_KINDS = ("internal", "regulator")
# A boolean column's words (any case, trimmed); anything else is not a boolean.
TRUE_WORDS = ("true", "t", "1", "yes", "y")
FALSE_WORDS = ("false", "f", "0", "no", "n")


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    ``kind`` is one of ``string``, ``timestamp``, ``float``, ``int``, ``bool``.
    ``unlocks`` says what a missing optional column disables.
    """

    kind: str
    required: bool = True
    nullable: bool = False
    unlocks: str = ""


@dataclass(frozen=True)
class Table:
    """One table of the contract; ``key`` is its unique id column (if any)."""

    name: str
    columns: dict[str, Column]
    key: str | None
    required: bool = True
    unlocks: str = ""
    time: str | None = None  # the event-time column, for the window checks
    optional: tuple[str, ...] = field(default=())


TABLES: dict[str, Table] = {
    "accounts": Table(
        "accounts",
        {
            "account_id": Column("string"),
            "arm": Column("string"),
            "assigned_at": Column("timestamp"),
            "balance": Column("float"),
            "segment": Column("string", False, True, "segment effects and segment balance"),
            "agent_id": Column("string", False, True, "agent clustering, agent randomization and contamination checks"),
            "days_past_due": Column("int", False, True, "days-past-due balance check and adjustment"),
            "prior_paid": Column("float", False, True, "pre-period covariate adjustment (CUPED)"),
            "closed_at": Column("timestamp", False, True, "retention"),
        },
        key="account_id",
    ),
    "contacts": Table(
        "contacts",
        {
            "contact_id": Column("string"),
            "account_id": Column("string"),
            "at": Column("timestamp"),
            "channel": Column("string"),
            "direction": Column("string"),
            "reached": Column("bool"),
            "agent_id": Column("string", False, True, "contamination check on contacts"),
            "handle_seconds": Column("float", False, True, "handle_time"),
            "empathy_score": Column("float", False, True, "manipulation check (was empathy delivered?)"),
        },
        key="contact_id",
        required=False,
        unlocks="engagement, contact_intensity, handle_time, contact-frequency check",
        time="at",
    ),
    "promises": Table(
        "promises",
        {
            "promise_id": Column("string"),
            "account_id": Column("string"),
            "made_at": Column("timestamp"),
            "due_at": Column("timestamp"),
            "amount": Column("float"),
        },
        key="promise_id",
        required=False,
        unlocks="ptp, kept_ptp, kept_rate",
        time="made_at",
    ),
    "payments": Table(
        "payments",
        {
            "payment_id": Column("string"),
            "account_id": Column("string"),
            "paid_at": Column("timestamp"),
            "amount": Column("float"),
        },
        key="payment_id",
        required=False,
        unlocks="kept_ptp, kept_rate, recovery",
        time="paid_at",
    ),
    "complaints": Table(
        "complaints",
        {
            "complaint_id": Column("string"),
            "account_id": Column("string"),
            "filed_at": Column("timestamp"),
            "kind": Column("string", False, True, "complaints by kind (internal or regulator)"),
        },
        key="complaint_id",
        required=False,
        unlocks="complaints",
        time="filed_at",
    ),
    "surveys": Table(
        "surveys",
        {
            "account_id": Column("string"),
            "answered_at": Column("timestamp"),
            "csat": Column("int", True, True),
            "nps": Column("int", False, True, "nps"),
        },
        key=None,
        required=False,
        unlocks="csat, nps, survey response rate",
        time="answered_at",
    ),
}

TABLE_ORDER = tuple(TABLES)
