"""The data contract as data: every file, its columns, their types, enums and keys.

The tables in storage/models/contract.py are the source: every file's columns, their order,
kinds (text, date, datetime, number, integer), which are required, defaults, lengths and
keys are read from them. This module adds only what a table cannot say: the closed value
lists, numeric bounds, checks across columns, and which columns hold money (converted to
the reporting currency when a file has a `currency` column). The importer, the HTTP
endpoint, the connectors and the tests read it; docs/data-contract.md describes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import types as sa_types
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
    shape: str = ""
    """Text shapes: "owner" (an email, matched case-insensitively), "email" (lower-cased),
    "name" (surrounding spaces trimmed)."""


@dataclass(frozen=True)
class Rule:
    """What the table cannot say about one column (None: as the table says)."""

    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool | None = None
    default: str | float | None = None
    shape: str = ""


CURRENCY = "currency"
"""The optional column naming the currency of a row's money columns (ISO 4217)."""

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
    money: tuple[str, ...] = ()
    """Money columns: in the reporting currency once stored (see `currency`)."""
    column_names: tuple[str, ...] = field(init=False)
    read_names: tuple[str, ...] = field(init=False)
    """What readers take from a file: the columns, then `currency` when there is money."""

    def __post_init__(self) -> None:
        names = tuple(c.name for c in self.columns)
        object.__setattr__(self, "column_names", names)
        object.__setattr__(self, "read_names", names + ((CURRENCY,) if self.money else ()))

    @property
    def table_name(self) -> str:
        return str(self.table.__tablename__)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


_KINDS: dict[type, Kind] = {
    sa_types.DateTime: Kind.DATETIME,
    sa_types.Date: Kind.DATE,
    sa_types.Float: Kind.NUMBER,
    sa_types.Integer: Kind.INTEGER,
}


def _kind_of(sa_column: Any) -> Kind:
    for sa_type, kind in _KINDS.items():
        if isinstance(sa_column.type, sa_type):
            return kind
    return Kind.TEXT


def _columns_of(table: type[SQLModel], rules: Mapping[str, Rule]) -> tuple[Column, ...]:
    """Every column of `table`, in its order: name, kind, required, default and length
    from the table; choices, bounds and references from `rules`."""
    columns = []
    for sa_column in table.__table__.c:  # type: ignore[attr-defined]
        rule = rules.get(sa_column.name, Rule())
        default = sa_column.default.arg if sa_column.default is not None else None
        kind = Kind.ENUM if rule.choices else _kind_of(sa_column)
        columns.append(
            Column(
                sa_column.name,
                kind,
                required=rule.required
                if rule.required is not None
                else not sa_column.nullable and default is None,
                choices=rule.choices,
                default=rule.default if rule.default is not None else default,
                minimum=rule.minimum,
                maximum=rule.maximum,
                references_account=sa_column.name == "account_id" and table is not Account,
                max_length=getattr(sa_column.type, "length", None)
                if kind in (Kind.TEXT, Kind.ENUM)
                else None,
                shape=rule.shape,
            )
        )
    unknown = set(rules) - {c.name for c in columns}
    if unknown:
        raise ValueError(f"{table.__name__}: rules for unknown columns {sorted(unknown)}")
    return tuple(columns)


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
    rules: Mapping[str, Rule] | None = None,
    *,
    row_check: RowCheck | None = None,
    money: tuple[str, ...] = (),
) -> Entity:
    """The entity loading into `table`; its key is the table's primary key."""
    key = tuple(c.name for c in table.__table__.primary_key.columns)  # type: ignore[attr-defined]
    return Entity(name, table, _columns_of(table, rules or {}), key, row_check, money)


NAME = Rule(shape="name")

ENTITIES: dict[str, Entity] = {
    entity.name: entity
    for entity in (
        _entity(
            "accounts",
            Account,
            {"segment": Rule(choices=SEGMENTS), "name": NAME, "owner": Rule(shape="owner")},
        ),
        _entity(
            "contracts",
            Contract,
            {"seats": Rule(minimum=0)},
            row_check=_contract_dates,
            money=("arr",),
        ),
        _entity(
            "contacts",
            Contact,
            {"role": Rule(choices=CONTACT_ROLES), "name": NAME, "email": Rule(shape="email")},
        ),
        _entity("usage", UsageEvent),
        _entity(
            "tickets",
            Ticket,
            {
                "priority": Rule(choices=TICKET_PRIORITIES),
                "csat": Rule(minimum=1, maximum=5),
            },
        ),
        _entity(
            "surveys", SurveyResponse, {"kind": Rule(choices=SURVEY_KINDS)}, row_check=_survey_score
        ),
        _entity(
            "touchpoints",
            Touchpoint,
            {"kind": Rule(choices=TOUCHPOINT_KINDS), "status": Rule(choices=TOUCHPOINT_STATUSES)},
        ),
        _entity("invoices", Invoice, money=("amount",)),
        _entity(
            "lifecycle",
            LifecycleEvent,
            {"kind": Rule(choices=LIFECYCLE_KINDS)},
            money=("arr_change",),
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
