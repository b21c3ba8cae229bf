"""What csbot prepares for people: message drafts held for review, QBR drafts and logs,
voice-of-the-customer routing, and the log of calls to a writing model.

Nothing here is ever sent to a customer by csbot: a draft is marked sent by the person
who sent it. Datetimes are naive UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

DRAFT_STATUSES = ("draft", "sent", "discarded")


class MessageDraft(SQLModel, table=True):
    """An email a playbook step proposes; edited, reviewed and marked sent by a person."""

    __tablename__ = "message_drafts"
    __table_args__ = (UniqueConstraint("step_id", name="uq_message_drafts_step"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=128, index=True)
    run_id: int | None = Field(default=None, index=True)
    step_id: int | None = None
    purpose: str = Field(max_length=32)  # follow_up, check_in, qbr_follow_up, …
    recipient_contact_id: str | None = Field(default=None, max_length=128)
    subject: str = Field(max_length=256)
    body: str
    template_body: str  # the template's text, kept when a writer or a person rewrites it
    written_by: str = Field(default="template", max_length=32)  # template or the model name
    status: str = Field(default="draft", max_length=16, index=True)
    created_at: dt.datetime = Field(sa_type=DateTime())
    updated_at: dt.datetime = Field(sa_type=DateTime())
    edited_by: str | None = Field(default=None, max_length=128)
    reviewed_by: str | None = Field(default=None, max_length=128)
    reviewed_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    sent_by: str | None = Field(default=None, max_length=128)
    sent_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    touchpoint_id: str | None = Field(default=None, max_length=128)


class QbrDraft(SQLModel, table=True):
    """A QBR draft in Markdown for one account and meeting date; regenerating replaces it."""

    __tablename__ = "qbr_drafts"
    __table_args__ = (UniqueConstraint("account_id", "qbr_date", name="uq_qbr_drafts_meeting"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=128, index=True)
    qbr_date: dt.date
    source: str = Field(max_length=32)  # touchpoint, playbook_step, on_demand
    markdown: str
    figures: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: dt.datetime = Field(sa_type=DateTime())
    created_by: str = Field(max_length=128)


class QbrLog(SQLModel, table=True):
    """What a QBR decided: outcomes, and action items that became playbook steps."""

    __tablename__ = "qbr_logs"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=128, index=True)
    held_on: dt.date
    outcomes: str
    actions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    run_id: int | None = None
    touchpoint_id: str | None = Field(default=None, max_length=128)
    logged_by: str = Field(max_length=128)
    logged_at: dt.datetime = Field(sa_type=DateTime())


class VocThemeOwner(SQLModel, table=True):
    """Routes voice-of-the-customer themes: a theme whose top terms include `term` goes to
    `owner` (a person's email or Slack id)."""

    __tablename__ = "voc_theme_owners"

    term: str = Field(primary_key=True, max_length=64)
    owner: str = Field(max_length=256)
    set_by: str = Field(max_length=128)
    set_at: dt.datetime = Field(sa_type=DateTime())


class WriterCall(SQLModel, table=True):
    """One call to the writing model: who it was for and what it cost, never its content."""

    __tablename__ = "writer_calls"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_type=DateTime(), index=True)
    account_id: str = Field(max_length=128)
    purpose: str = Field(max_length=32)
    model: str = Field(max_length=128)
    status: str = Field(max_length=16)  # ok, fallback
    error: str | None = Field(default=None, max_length=256)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    duration_ms: int | None = None
