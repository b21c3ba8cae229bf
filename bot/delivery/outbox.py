"""The outbox: every message to Slack is written here first, under an idempotency key.

`enqueue` is race-safe: two processes queueing the same key at once (two replicas, a
retried job, `csbot digest --post` run twice) end with one row, because the insert is
`ON CONFLICT DO NOTHING` on the key's unique constraint and the existing row is returned.
The sender (`bot.delivery.sender`) then delivers each row once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.delivery.limits import MAX_MESSAGE_BLOCKS
from storage.clock import Clock
from storage.enums import OutboxStatus
from storage.models.delivery import OutboxMessage


class OutboxError(ValueError):
    """A message that cannot be queued (no text, too many blocks, no channel)."""


def _check(key: str, channel: str, payload: dict[str, Any]) -> None:
    if not key:
        raise OutboxError("outbox message needs an idempotency key")
    if not channel:
        raise OutboxError(f"outbox message {key!r} has no channel")
    if not isinstance(payload.get("text"), str) or not payload["text"]:
        raise OutboxError(
            f"outbox message {key!r}: payload needs a non-empty 'text' (the notification fallback)"
        )
    blocks = payload.get("blocks", [])
    if not isinstance(blocks, list):
        raise OutboxError(f"outbox message {key!r}: payload 'blocks' must be a list")
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        raise OutboxError(
            f"outbox message {key!r} has {len(blocks)} blocks; Slack allows {MAX_MESSAGE_BLOCKS}"
        )


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    channel: str,
    payload: dict[str, Any],
    clock: Clock,
    account_id: str | None = None,
    not_before: dt.datetime | None = None,
) -> OutboxMessage:
    """Queue a message; return the existing row if `key` was queued before (never a duplicate).

    `payload` is `{"text": str, "blocks": list}` plus optional `thread_ts`, or `update_ts`
    (edit that message with chat.update) or `update_key` (edit the message another outbox
    row posted). The caller commits.
    """
    _check(key, channel, payload)
    now = clock.now()
    values = {
        "idempotency_key": key,
        "kind": kind,
        "channel": channel,
        "account_id": account_id,
        "payload": payload,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "outcome_unknown": False,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).values(**values)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(**values)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise OutboxError(f"unsupported database dialect {dialect!r}")
    session.execute(statement.on_conflict_do_nothing(index_elements=["idempotency_key"]))
    row = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()
    session.refresh(row)
    return row


def get_by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()


def list_messages(
    session: Session, *, status: str | None = None, limit: int = 50
) -> list[OutboxMessage]:
    """Newest first, optionally only one status."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.exec(query))


def retry_failed(session: Session, *, clock: Clock, ids: list[int] | None = None) -> int:
    """Put failed messages back to pending (attempts reset, due now); return how many.

    The caller commits. The sender treats them like new messages.
    """
    statement = (
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.FAILED)
        .values(
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=clock.now(),
            claimed_by=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    if ids:
        statement = statement.where(col(OutboxMessage.id).in_(ids))
    return session.execute(statement).rowcount or 0  # type: ignore[attr-defined]
