"""Replay protection in the database, so it holds across processes and replicas.

`first_sighting` records a request's signature and says whether it is new. The insert is
`ON CONFLICT DO NOTHING` on the signature's primary key: of two replicas receiving the
same request at once, exactly one inserts the row and acts; the other is told it is a
replay. Rows past their expiry are deleted in the same transaction (an indexed range
delete), so the table holds only the last few minutes of requests.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from storage.models.requests import SeenRequest


def first_sighting(
    engine: Engine, signature: str, *, expires_at: dt.datetime, now: dt.datetime
) -> bool:
    """True the first time `signature` is seen (until `expires_at`); False for a replay.
    Datetimes are naive UTC."""
    table = SeenRequest.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(signature=signature, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["signature"])
        # RETURNING, not rowcount: psycopg's rowcount is not reliable for a skipped insert.
        .returning(table.c.signature)
    )
    with engine.begin() as connection:
        connection.execute(delete(SeenRequest).where(col(SeenRequest.expires_at) < now))
        return connection.execute(statement).first() is not None
