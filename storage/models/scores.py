"""What scoring produces: one score row per account per as-of date, alerts, snoozes, feedback."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.enums import Band, StakeholderBand

BANDS = tuple(Band)
STAKEHOLDER_BANDS = tuple(StakeholderBand)


class AccountScore(SQLModel, table=True):
    """The scores of one account as of one date; re-scoring the same date replaces the row.

    `reasons` is a list of {signal, value, baseline, direction, impact, text}; `signals`
    holds the raw signal vector the score was computed from (for the model and for audits).
    """

    __tablename__ = "account_scores"
    __table_args__ = (Index("ix_account_scores_as_of", "as_of"),)

    account_id: str = Field(primary_key=True, max_length=128)
    as_of: dt.date = Field(primary_key=True)
    health: float
    band: str = Field(max_length=16)
    health_delta_7d: float | None = None
    health_delta_30d: float | None = None
    direction: str = Field(default="steady", max_length=16)
    churn_risk: float | None = None
    model_version: str | None = Field(default=None, max_length=64)
    expansion: float = 0.0
    stakeholder_band: str = Field(default=StakeholderBand.HEALTHY, max_length=16)
    renewal_date: dt.date | None = None
    arr: float = 0.0
    limited_history: bool = False
    attention: float = 0.0  # ARR-weighted risk plus trajectory (scoring.trend), for ranking
    scored_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    churn_reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    expansion_reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    stakeholders: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    signals: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Alert(SQLModel, table=True):
    """One alert per (account, kind, state): not repeated until the state changes."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("account_id", "kind", "state", name="uq_alert_state"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=128, index=True)
    kind: str = Field(max_length=32)  # band, risk, stakeholder, expansion
    state: str = Field(max_length=64)  # e.g. "critical", "risk>=0.6"
    as_of: dt.date
    created_at: dt.datetime = Field(sa_type=DateTime())
    cleared_at: dt.datetime | None = Field(default=None, sa_type=DateTime())
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Snooze(SQLModel, table=True):
    __tablename__ = "snoozes"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=128, index=True)
    until: dt.datetime = Field(sa_type=DateTime())
    by: str = Field(max_length=128)
    created_at: dt.datetime = Field(sa_type=DateTime())
    reason: str | None = None


class Feedback(SQLModel, table=True):
    """Labels people give in Slack ("not a risk", "saved", "churned"), used by the next training."""

    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=128, index=True)
    as_of: dt.date
    label: str = Field(max_length=32)
    by: str = Field(max_length=128)
    source: str = Field(default="slack", max_length=16)
    created_at: dt.datetime = Field(sa_type=DateTime())
    note: str | None = None
