"""The data contract as data: every file, its columns, their types, enums and keys.

This module is the single place the contract is defined. The importer, the HTTP endpoint,
the connectors and the tests read it; docs/data-contract.md describes the same table.
Column lengths come from the SQLModel tables so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import SQLModel

from storage.models.contract import (
    CONTACT_ROLES,
    LIFECYCLE_KINDS,
    SEGMENTS,
    SURVEY_KINDS,
    TICKET_PRIORITIES,
    TOUCHPOINT_KINDS,
    TOUCHPOINT_STATUSES,
    Account,
    Contact,
    Contract,
    Invoice,
    LifecycleEvent,
    SurveyResponse,
    Ticket,
    Touchpoint,
    UsageEvent,
)


class Kind(StrEnum):
    """How a column's text is parsed and stored."""

    TEXT = "text"
    ENUM = "enum"
    DATETIME = "datetime"
    DATE = "date"
    NUMBER = "number"
    INTEGER = "integer"


@dataclass(frozen=True)
class Column:
    """One contract column. `default` is stored when the value is empty."""

    name: str
    kind: Kind = Kind.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | float | None = None
    minimum: float | None = None
    maximum: float | None = None
    references_account: bool = False
    max_length: int | None = None


RowCheck = Callable[[Mapping[str, object]], "tuple[str, str] | None"]
"""A check across columns of one converted row: returns (column, problem) or None."""


@dataclass(frozen=True)
class Entity:
    """One contract file (`NAME.csv` / `NAME.jsonl`) and the table it loads into."""

    name: str
    table: type[SQLModel]
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    row_check: RowCheck | None = None
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))

    @property
    def table_name(self) -> str:
        return str(self.table.__tablename__)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _with_lengths(table: type[SQLModel], columns: tuple[Column, ...]) -> tuple[Column, ...]:
    """Copy each text column's length limit from the table definition."""
    sa_columns = table.__table__.c  # type: ignore[attr-defined]
    out = []
    for column in columns:
        length = getattr(sa_columns[column.name].type, "length", None)
        out.append(
            Column(**{**column.__dict__, "max_length": length})
            if column.kind in (Kind.TEXT, Kind.ENUM)
            else column
        )
    return tuple(out)


def _contract_dates(row: Mapping[str, object]) -> tuple[str, str] | None:
    start, end = row["start_date"], row["end_date"]
    if isinstance(start, str) and isinstance(end, str) and end < start:
        return "end_date", f"before start_date ({end} < {start})"
    return None


SURVEY_SCORE_RANGES = {"nps": (0.0, 10.0), "csat": (1.0, 5.0), "ces": (1.0, 7.0)}


def _survey_score(row: Mapping[str, object]) -> tuple[str, str] | None:
    kind, score = row["kind"], row["score"]
    low, high = SURVEY_SCORE_RANGES.get(str(kind), (float("-inf"), float("inf")))
    if isinstance(score, float) and not low <= score <= high:
        return "score", f"a {kind} score must be between {low:g} and {high:g} (got {score:g})"
    return None


def _entity(
    name: str,
    table: type[SQLModel],
    key: tuple[str, ...],
    *columns: Column,
    row_check: RowCheck | None = None,
) -> Entity:
    return Entity(name, table, _with_lengths(table, columns), key, row_check)


ACCOUNT = Column("account_id", required=True, references_account=True)

ENTITIES: dict[str, Entity] = {
    entity.name: entity
    for entity in (
        _entity(
            "accounts",
            Account,
            ("account_id",),
            Column("account_id", required=True),
            Column("name", required=True),
            Column("segment", Kind.ENUM, choices=SEGMENTS),
            Column("industry"),
            Column("owner"),
            Column("created_at", Kind.DATETIME),
            Column("plan"),
        ),
        _entity(
            "contracts",
            Contract,
            ("contract_id",),
            Column("contract_id", required=True),
            ACCOUNT,
            Column("start_date", Kind.DATE, required=True),
            Column("end_date", Kind.DATE, required=True),
            Column("arr", Kind.NUMBER, required=True),
            Column("seats", Kind.INTEGER, minimum=0),
            Column("plan"),
            row_check=_contract_dates,
        ),
        _entity(
            "contacts",
            Contact,
            ("contact_id",),
            Column("contact_id", required=True),
            ACCOUNT,
            Column("name"),
            Column("email"),
            Column("role", Kind.ENUM, choices=CONTACT_ROLES),
            Column("left_at", Kind.DATETIME),
        ),
        _entity(
            "usage",
            UsageEvent,
            ("account_id", "contact_id", "timestamp", "event"),
            ACCOUNT,
            Column("contact_id", default=""),
            Column("timestamp", Kind.DATETIME, required=True),
            Column("event", required=True),
            Column("quantity", Kind.NUMBER, default=1.0),
        ),
        _entity(
            "tickets",
            Ticket,
            ("ticket_id",),
            Column("ticket_id", required=True),
            ACCOUNT,
            Column("contact_id"),
            Column("opened_at", Kind.DATETIME, required=True),
            Column("closed_at", Kind.DATETIME),
            Column("priority", Kind.ENUM, choices=TICKET_PRIORITIES),
            Column("subject"),
            Column("body"),
            Column("csat", Kind.INTEGER, minimum=1, maximum=5),
        ),
        _entity(
            "surveys",
            SurveyResponse,
            ("response_id",),
            Column("response_id", required=True),
            ACCOUNT,
            Column("contact_id"),
            Column("submitted_at", Kind.DATETIME, required=True),
            Column("kind", Kind.ENUM, required=True, choices=SURVEY_KINDS),
            Column("score", Kind.NUMBER, required=True),
            Column("comment"),
            row_check=_survey_score,
        ),
        _entity(
            "touchpoints",
            Touchpoint,
            ("touchpoint_id",),
            Column("touchpoint_id", required=True),
            ACCOUNT,
            Column("contact_id"),
            Column("occurred_at", Kind.DATETIME, required=True),
            Column("kind", Kind.ENUM, required=True, choices=TOUCHPOINT_KINDS),
            Column("status", Kind.ENUM, choices=TOUCHPOINT_STATUSES, default="held"),
        ),
        _entity(
            "invoices",
            Invoice,
            ("invoice_id",),
            Column("invoice_id", required=True),
            ACCOUNT,
            Column("issued_at", Kind.DATETIME),
            Column("due_at", Kind.DATETIME, required=True),
            Column("paid_at", Kind.DATETIME),
            Column("amount", Kind.NUMBER, required=True),
        ),
        _entity(
            "lifecycle",
            LifecycleEvent,
            ("account_id", "occurred_at", "kind", "detail"),
            ACCOUNT,
            Column("occurred_at", Kind.DATETIME, required=True),
            Column("kind", Kind.ENUM, required=True, choices=LIFECYCLE_KINDS),
            Column("arr_change", Kind.NUMBER),
            Column("detail", default=""),
        ),
    )
}
"""Every contract file, in dependency order: accounts first (the others reference it)."""

REQUIRED_FILES = ("accounts",)
FORMATS = ("csv", "jsonl")


def entity_named(name: str) -> Entity:
    """The entity called `name`; KeyError naming the known ones otherwise."""
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(f"unknown entity {name!r} (expected one of {', '.join(ENTITIES)})") from None
