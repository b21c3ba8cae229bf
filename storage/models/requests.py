"""Signatures of Slack requests already acted on, so a replayed request is not acted on twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


class SeenRequest(SQLModel, table=True):
    """One signed request csbot accepted. Slack's signature covers the request timestamp,
    and a timestamp more than five minutes off is refused anyway, so a row is needed only
    until `expires_at` (the timestamp plus that window); older rows are purged."""

    __tablename__ = "seen_requests"

    signature: str = Field(primary_key=True, max_length=128)
    expires_at: dt.datetime = Field(sa_type=DateTime(), index=True)
