"""Delivery to Slack: the outbox, the email → Slack user cache, scheduler leases and job runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index
from sqlmodel import Field, SQLModel

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class OutboxMessage(SQLModel, table=True):
    """A message to Slack, written before it is sent; `idempotency_key` makes it unique.

    Datetimes are naive UTC (`DateTime()` declared explicitly: SQLModel's default
    `UTCDateTime` rejects naive values). Keys look like `digest:<user>:<date>` or `alert:<account>:<kind>:<state>`.
    `status` is pending → sending (an attempt is in flight) → sent | failed.
    `outcome_unknown` is set while an attempt may have reached Slack without us recording
    its answer (a crash, a timeout, a 5xx); the sender then looks for the message in the
    channel's history (by its metadata key) before posting again.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=256, unique=True)
    kind: str = Field(max_length=32)
    channel: str = Field(max_length=64)
    account_id: str | None = Field(default=None, max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    outcome_unknown: bool = False
    next_attempt_at: dt.datetime = Field(sa_type=DateTime())
    claimed_until: dt.datetime | None = Field(default=None, sa_type=DateTime())
    claimed_by: str | None = Field(default=None, max_length=128)
    last_error: str | None = None
    created_at: dt.datetime = Field(sa_type=DateTime())
    sent_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    posted_channel: str | None = Field(default=None, max_length=64)
    ts: str | None = Field(default=None, max_length=32)


class SlackUser(SQLModel, table=True):
    """An account owner's email mapped to a Slack user (lookup cache or explicit mapping)."""

    __tablename__ = "slack_users"

    email: str = Field(primary_key=True, max_length=256)
    user_id: str | None = Field(default=None, max_length=32, index=True)
    tz: str | None = Field(default=None, max_length=64)
    source: str = Field(default="lookup", max_length=16)  # lookup, mapping, missing
    fetched_at: dt.datetime = Field(sa_type=DateTime())


class JobLease(SQLModel, table=True):
    """Which replica may run a scheduled job, until when."""

    __tablename__ = "job_leases"

    name: str = Field(primary_key=True, max_length=128)
    holder: str = Field(max_length=128)
    expires_at: dt.datetime = Field(sa_type=DateTime())


class JobRun(SQLModel, table=True):
    """One run of a scheduled job. `slot` names the scheduled occurrence it served (for
    example `2026-06-01` for a nightly job), so a replica that takes over after the holder
    died knows whether that occurrence already finished."""

    __tablename__ = "job_runs"

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=128, index=True)
    slot: str | None = Field(default=None, max_length=64)
    started_at: dt.datetime = Field(sa_type=DateTime())
    finished_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    status: str = Field(default="running", max_length=16)
    holder: str | None = Field(default=None, max_length=128)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
