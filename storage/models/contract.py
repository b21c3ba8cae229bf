"""Tables for the data-import contract (docs/data-contract.md).

One table per contract file, columns named as in the contract. Datetimes are naive UTC.
There are no foreign-key constraints: the importer checks references itself, so bulk
loads stay fast and files may be re-imported in any order after the accounts.
Usage and lifecycle rows have natural composite keys so re-importing replaces them.
Datetime columns are declared `DateTime()` (timezone-naive) explicitly: SQLModel would
otherwise map `datetime` to its timezone-aware `UTCDateTime`, which rejects naive values.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

SEGMENTS = ("enterprise", "mid_market", "smb")
CONTACT_ROLES = ("admin", "champion", "decision_maker", "executive_sponsor", "finance", "end_user")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
SURVEY_KINDS = ("nps", "csat", "ces")
TOUCHPOINT_KINDS = ("email_in", "email_out", "call", "meeting", "qbr")
TOUCHPOINT_STATUSES = ("held", "missed", "cancelled")
LIFECYCLE_KINDS = ("churned", "renewed", "expanded", "contracted", "milestone")


class Account(SQLModel, table=True):
    __tablename__ = "accounts"

    account_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=256)
    segment: str | None = Field(default=None, max_length=32)
    industry: str | None = Field(default=None, max_length=128)
    owner: str | None = Field(default=None, max_length=256, index=True)
    created_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    plan: str | None = Field(default=None, max_length=128)


class Contract(SQLModel, table=True):
    __tablename__ = "contracts"

    contract_id: str = Field(primary_key=True, max_length=128)
    account_id: str = Field(max_length=128, index=True)
    start_date: dt.date
    end_date: dt.date
    arr: float
    seats: int | None = None
    plan: str | None = Field(default=None, max_length=128)


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"

    contact_id: str = Field(primary_key=True, max_length=128)
    account_id: str = Field(max_length=128, index=True)
    name: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=256)
    role: str | None = Field(default=None, max_length=32)
    left_at: dt.datetime | None = Field(default=None, sa_type=DateTime())


class UsageEvent(SQLModel, table=True):
    """One product-usage row; an account-level row has contact_id ''.

    The key is ordered (timestamp, account_id, contact_id, event) and, on SQLite, the table
    is WITHOUT ROWID, clustered on it: one B-tree, and new (later) events append at its end,
    so bulk imports run near the speed of a bare table; scoring's time-window scans
    (`timestamp` between … GROUP BY account_id) are range scans of that same key.
    """

    __tablename__ = "usage"
    __table_args__ = (
        PrimaryKeyConstraint("timestamp", "account_id", "contact_id", "event"),
        {"sqlite_with_rowid": False},
    )

    account_id: str = Field(primary_key=True, max_length=128)
    contact_id: str = Field(default="", primary_key=True, max_length=128)
    timestamp: dt.datetime = Field(primary_key=True, sa_type=DateTime())
    event: str = Field(primary_key=True, max_length=128)
    quantity: float = 1.0


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_account_opened", "account_id", "opened_at"),)

    ticket_id: str = Field(primary_key=True, max_length=128)
    account_id: str = Field(max_length=128)
    contact_id: str | None = Field(default=None, max_length=128)
    opened_at: dt.datetime = Field(sa_type=DateTime())
    closed_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    priority: str | None = Field(default=None, max_length=16)
    subject: str | None = None
    body: str | None = None
    csat: int | None = None


class SurveyResponse(SQLModel, table=True):
    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_account_submitted", "account_id", "submitted_at"),)

    response_id: str = Field(primary_key=True, max_length=128)
    account_id: str = Field(max_length=128)
    contact_id: str | None = Field(default=None, max_length=128)
    submitted_at: dt.datetime = Field(sa_type=DateTime())
    kind: str = Field(max_length=16)
    score: float
    comment: str | None = None


class Touchpoint(SQLModel, table=True):
    __tablename__ = "touchpoints"
    __table_args__ = (Index("ix_touchpoints_account_occurred", "account_id", "occurred_at"),)

    touchpoint_id: str = Field(primary_key=True, max_length=128)
    account_id: str = Field(max_length=128)
    contact_id: str | None = Field(default=None, max_length=128)
    occurred_at: dt.datetime = Field(sa_type=DateTime())
    kind: str = Field(max_length=16)
    status: str = Field(default="held", max_length=16)


class Invoice(SQLModel, table=True):
    __tablename__ = "invoices"

    invoice_id: str = Field(primary_key=True, max_length=128)
    account_id: str = Field(max_length=128, index=True)
    issued_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    due_at: dt.datetime = Field(sa_type=DateTime())
    paid_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    amount: float


class LifecycleEvent(SQLModel, table=True):
    """Keyed by (account_id, occurred_at, kind, detail); detail '' when none was given."""

    __tablename__ = "lifecycle"

    account_id: str = Field(primary_key=True, max_length=128)
    occurred_at: dt.datetime = Field(primary_key=True, sa_type=DateTime())
    kind: str = Field(primary_key=True, max_length=16)
    arr_change: float | None = None
    detail: str = Field(default="", primary_key=True, max_length=512)
