"""Playbook runs, their materialised steps, and outcomes.

Datetime columns are naive UTC, declared `DateTime()` explicitly (SQLModel would otherwise
use its timezone-aware `UTCDateTime`, which rejects naive values).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, text
from sqlmodel import Field, SQLModel

from storage.enums import OutcomeKind, RunStatus, StepStatus

RUN_STATUSES = tuple(RunStatus)
STEP_STATUSES = tuple(StepStatus)
OUTCOME_KINDS = tuple(OutcomeKind)


class PlaybookRun(SQLModel, table=True):
    __tablename__ = "playbook_runs"
    __table_args__ = (
        Index("ix_playbook_runs_account_playbook", "account_id", "playbook"),
        # At most one active run of a playbook per account, even under concurrent starts.
        Index(
            "uq_playbook_runs_one_active",
            "account_id",
            "playbook",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=128)
    playbook: str = Field(max_length=128)
    status: str = Field(default="active", max_length=16, index=True)
    started_at: dt.datetime = Field(sa_type=DateTime())
    started_by: str = Field(max_length=128)
    source: str = Field(default="scheduler", max_length=16)  # slack, cli, scheduler
    trigger_reason: str | None = None
    anchor_date: dt.date | None = None  # the date step offsets count from
    owner: str | None = Field(default=None, max_length=256)
    band_at_start: str | None = Field(default=None, max_length=16)
    arr_at_start: float | None = None
    snoozed_until: dt.datetime | None = Field(default=None, sa_type=DateTime())
    closed_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    version: int = 0  # optimistic-concurrency counter


class PlaybookStep(SQLModel, table=True):
    __tablename__ = "playbook_steps"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(index=True)
    position: int
    title: str
    kind: str = Field(max_length=16)
    owner_role: str = Field(max_length=32)
    owner: str | None = Field(default=None, max_length=256)
    instructions: str | None = None
    message: str | None = None
    due_at: dt.datetime = Field(index=True, sa_type=DateTime())
    status: str = Field(default="open", max_length=16)
    done_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    done_by: str | None = Field(default=None, max_length=128)
    note: str | None = None
    escalation_tier: int = 0
    escalated_at: dt.datetime | None = Field(default=None, sa_type=DateTime())


class Outcome(SQLModel, table=True):
    __tablename__ = "outcomes"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, index=True)
    account_id: str = Field(max_length=128, index=True)
    kind: str = Field(max_length=32)
    arr_change: float | None = None
    note: str | None = None
    by: str = Field(max_length=128)
    source: str = Field(default="slack", max_length=16)
    created_at: dt.datetime = Field(sa_type=DateTime())
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
