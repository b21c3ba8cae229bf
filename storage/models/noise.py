"""What keeps csbot quiet: each person's delivery preferences, the ledger of every message
csbot sent or held back, and people's "useful / not useful" votes.

- `person_prefs`: one row per Slack user (scope, delivery, digest time and days, quiet
  hours, away-until with a cover). No row means the defaults.
- `delivery_ledger`: one row per message the noise budget decided on (sent, deferred to
  the end of quiet hours, or held for the digest / App Home), keyed like the outbox, with
  the accounts and rules the message is about: the budget counts a person's day from it,
  and `csbot alerts report` reads volume per rule from it.
- `usefulness_votes`: a person's verdict on one digest entry or alert, with the rule that
  produced it.

Datetimes are naive UTC; `day` is the recipient's local date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.enums import Delivery, Scope

SCOPES = tuple(Scope)
DELIVERIES = tuple(Delivery)
DECISIONS = ("sent", "deferred", "held")


class PersonPrefs(SQLModel, table=True):
    """One person's own controls, set from the App Home or `/cs settings`."""

    __tablename__ = "person_prefs"

    user_id: str = Field(primary_key=True, max_length=32)
    email: str | None = Field(default=None, max_length=256, index=True)
    scope: str = Field(default="mine", max_length=8)
    delivery: str = Field(default="critical", max_length=16)
    digest_time: str | None = Field(default=None, max_length=5)  # "HH:MM" local; None: default
    digest_days: str = Field(default="mon,tue,wed,thu,fri", max_length=32)
    quiet_start: str | None = Field(default=None, max_length=5)  # "HH:MM" local
    quiet_end: str | None = Field(default=None, max_length=5)
    away_until: dt.date | None = None
    cover: str | None = Field(default=None, max_length=256)  # the cover's email
    updated_at: dt.datetime = Field(sa_type=DateTime())


class DeliveryLedger(SQLModel, table=True):
    """One decision of the noise budget about one message to one recipient."""

    __tablename__ = "delivery_ledger"
    __table_args__ = (Index("ix_delivery_ledger_recipient_day", "recipient", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=256, unique=True)  # the outbox key it was (or would be) sent under
    recipient: str = Field(max_length=256)  # a person's email, or a channel id
    day: dt.date
    kind: str = Field(max_length=32)  # digest, alert, reminders, leaders
    decision: str = Field(max_length=16)  # sent, deferred, held
    reason: str | None = Field(default=None, max_length=64)
    account_id: str | None = Field(default=None, max_length=128)
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: dt.datetime = Field(sa_type=DateTime())
    released_at: dt.datetime | None = Field(default=None, sa_type=DateTime())


class UsefulnessVote(SQLModel, table=True):
    """ "Useful" or "not useful" on one digest entry or alert, with the rule behind it."""

    __tablename__ = "usefulness_votes"
    __table_args__ = (
        UniqueConstraint("kind", "rule", "account_id", "as_of", "by", name="uq_usefulness_vote"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # digest, alert
    rule: str = Field(max_length=64)  # e.g. "critical", "falling_fast", "band:critical"
    account_id: str = Field(max_length=128, index=True)
    csm: str | None = Field(default=None, max_length=256)  # the account's owner then
    by: str = Field(max_length=128)
    useful: bool
    as_of: dt.date
    created_at: dt.datetime = Field(sa_type=DateTime())
