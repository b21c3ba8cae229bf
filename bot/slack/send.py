"""The one way the Slack app sends: every message is stamped, written to the outbox with
its kind and what it shows, and delivered by the sender (`bot.delivery`).

Scheduled messages (`queue`) wait for the `deliver` job; answers to a person (`send`) are
delivered at once through the same outbox steps, so every message Slack shows has a row
with its channel, ts and kind. Stamping writes the row's key into every `ButtonValue` the
blocks carry, so a click names the message it came from and that message can be
re-rendered from the database by the renderer registered for its kind.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from slack_sdk import WebClient
from sqlmodel import Session

from bot.delivery import budget
from bot.delivery.errors import SlackDeliveryError
from bot.delivery.outbox import enqueue
from bot.delivery.sender import deliver_now
from bot.settings import Settings
from bot.slack.ids import ButtonValue
from storage.clock import Clock
from storage.enums import MessageKind, OutboxStatus
from storage.models import OutboxMessage

MAX_VALUE = 2000  # a button's or option's value
MAX_BLOCK_ID = 255


@dataclass(frozen=True)
class Where:
    """Where a message goes: a channel (or a user id: their DM), maybe a thread; or it
    replaces the message at `update_ts`; or only `ephemeral_user` sees it; or it answers
    through an interaction's `response_url` (replacing the original or not)."""

    channel: str
    thread_ts: str | None = None
    update_ts: str | None = None
    ephemeral_user: str | None = None
    response_url: str | None = None
    replace_original: bool = False

    def fields(self) -> dict[str, Any]:
        found = {
            "thread_ts": self.thread_ts,
            "update_ts": self.update_ts,
            "ephemeral_user": self.ephemeral_user,
            "response_url": self.response_url,
            "replace_original": self.replace_original or None,
        }
        return {key: value for key, value in found.items() if value}


def new_key(kind: MessageKind) -> str:
    """A fresh idempotency key for a one-off message (an answer, an update, a note)."""
    return f"{kind}:{uuid.uuid4().hex[:20]}"


def _stamped(text: Any, key: str, limit: int) -> Any:
    if not isinstance(text, str) or not text.startswith("{"):
        return text
    try:
        value = ButtonValue.decode(text)
    except (ValueError, ValidationError):
        return text
    stamped = value.model_copy(update={"message": key}).model_dump_json(exclude_none=True)
    return stamped if len(stamped) <= limit else text


def stamp(blocks: Any, key: str) -> Any:
    """`blocks` with every `ButtonValue` (button and option values, the block id of an
    actions block) naming message `key`."""
    if isinstance(blocks, list):
        return [stamp(item, key) for item in blocks]
    if not isinstance(blocks, dict):
        return blocks
    out = {name: stamp(item, key) for name, item in blocks.items()}
    if "value" in out:
        out["value"] = _stamped(out["value"], key, MAX_VALUE)
    if out.get("type") == "actions" and "block_id" in out:
        out["block_id"] = _stamped(out["block_id"], key, MAX_BLOCK_ID)
    return out


def queue(
    session: Session,
    *,
    kind: MessageKind,
    key: str,
    channel: str,
    message: Mapping[str, Any],
    clock: Clock,
    subject: Mapping[str, Any] | None = None,
    account_id: str | None = None,
    not_before: dt.datetime | None = None,
    **where: Any,
) -> OutboxMessage:
    """Write `message` to the outbox under `key` (stamped, with the `subject` its renderer
    needs); the caller commits and the sender delivers it."""
    payload: dict[str, Any] = {
        "text": message["text"],
        "blocks": stamp(message.get("blocks") or [], key),
    }
    payload.update({name: value for name, value in where.items() if value})
    if subject:
        payload["subject"] = json.loads(json.dumps(subject, default=str))
    return enqueue(
        session,
        key=key,
        kind=kind,
        channel=channel,
        payload=payload,
        clock=clock,
        account_id=account_id,
        not_before=not_before,
    )


def queue_budgeted(
    session: Session,
    *,
    kind: MessageKind,
    recipient: str,
    key: str,
    channel: str,
    message: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    clock: Clock,
    settings: Settings,
    subject: Mapping[str, Any] | list[Mapping[str, Any]] | None = None,
    urgent: bool = False,
    account_id: str | None = None,
    items: Any = (),
    day: dt.date | None = None,
) -> list[OutboxMessage]:
    """A scheduled message to a person or channel: the noise budget
    (`bot.delivery.budget`) decides whether it goes, waits for the end of quiet hours or
    is held for the digest; each part it lets through is queued like `queue` does (stamped,
    with its kind and the subject its renderer needs: one for all parts, or one a part).
    The caller commits."""
    subjects = subject if isinstance(subject, list) else None
    done: list[OutboxMessage] = []

    def queue_part(
        *, key: str, channel: str, payload: Mapping[str, Any], not_before: dt.datetime | None
    ) -> OutboxMessage:
        extra = {name: value for name, value in payload.items() if name not in ("text", "blocks")}
        row = queue(
            session,
            kind=kind,
            key=key,
            channel=channel,
            message=payload,
            clock=clock,
            subject=subjects[len(done)] if subjects is not None else subject,  # type: ignore[arg-type]
            account_id=account_id,
            not_before=not_before,
            **extra,
        )
        done.append(row)
        return row

    return budget.send(
        session,
        recipient=recipient,
        kind=budget.Kind(kind.value),
        key=key,
        channel=channel,
        payload=dict(message) if isinstance(message, Mapping) else [dict(m) for m in message],
        clock=clock,
        settings=settings,
        urgent=urgent,
        account_id=account_id,
        items=items,
        day=day,
        queue_part=queue_part,
    )


def send(
    session: Session,
    client: WebClient,
    clock: Clock,
    *,
    kind: MessageKind,
    where: Where,
    message: Mapping[str, Any],
    subject: Mapping[str, Any] | None = None,
    account_id: str | None = None,
) -> OutboxMessage:
    """Queue `message` and deliver it now (a person is waiting). Commits the session.
    Raises `SlackDeliveryError` when Slack refused it for good; a message that could not
    go yet (rate limited, Slack down) stays queued for the `deliver` job."""
    row = queue(
        session,
        kind=kind,
        key=new_key(kind),
        channel=where.channel,
        message=message,
        clock=clock,
        subject=subject,
        account_id=account_id,
        **where.fields(),
    )
    session.commit()
    assert row.id is not None
    stats = deliver_now(session.get_bind(), client, clock, row.id)  # type: ignore[arg-type]
    session.refresh(row)
    if row.status == OutboxStatus.FAILED:
        code = next(iter(stats.errors), None) or (row.last_error or "failed")
        raise SlackDeliveryError(code, row.last_error)
    return row
