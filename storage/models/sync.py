"""What `csbot sync` remembers between runs: where each source's objects were read up to,
and which record of another system is which account or contact.

- `SyncCursor`: per (source, object), the API's own cursor or the last modification time
  read; the next sync asks only for what changed since.
- `SyncLink`: per (source, kind, external id), the csbot account (and contact) it is, e.g.
  ("zendesk", "organization", "360001") → account "5123", or ("crm", "domain", "acme.com").
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


class SyncCursor(SQLModel, table=True):
    __tablename__ = "sync_cursors"

    source: str = Field(primary_key=True, max_length=32)
    object: str = Field(primary_key=True, max_length=64)
    cursor: str = Field(max_length=512)
    synced_at: dt.datetime = Field(sa_type=DateTime())
    records: int = 0


class SyncLink(SQLModel, table=True):
    __tablename__ = "sync_links"

    source: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=32)
    external_id: str = Field(primary_key=True, max_length=256)
    account_id: str = Field(max_length=128, index=True)
    contact_id: str | None = Field(default=None, max_length=128)
