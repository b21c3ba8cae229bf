"""After a click: the message it came from, re-rendered from the database by the renderer
registered for its stored kind, and put in place through the outbox.

Every message csbot sends is an outbox row with its kind and the subject its renderer needs
(a run id, an account id, a stored digest); its buttons carry the row's key
(`bot.slack.send.stamp`). So after a click the handler writes to the database, and this
module finds the row, renders the whole message again from current state — buttons
included (Snooze gone once snoozed, Not a risk once marked) — and replaces it.
"""

from __future__ import annotations

import datetime as dt
import logging

from slack_sdk import WebClient
from sqlmodel import Session, col, or_, select

from bot.delivery.errors import SlackDeliveryError
from bot.delivery.outbox import get_by_key
from bot.slack.deps import RenderContext, SlackDeps
from bot.slack.ids import ButtonValue
from bot.slack.middleware import Origin
from bot.slack.send import Where, send
from storage.enums import MessageKind
from storage.models import OutboxMessage

logger = logging.getLogger(__name__)


def ts_to_datetime(ts: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(float(ts or ""), dt.UTC).replace(tzinfo=None)
    except (TypeError, ValueError):
        return None


def stored_message(session: Session, value: ButtonValue, origin: Origin) -> OutboxMessage | None:
    """The outbox row of the clicked message: by the key its buttons carry, else by where
    Slack says the message is."""
    if value.message:
        row = get_by_key(session, value.message)
        if row is not None:
            return row
    if not (origin.channel and origin.ts):
        return None
    return session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.ts == origin.ts,
            or_(
                OutboxMessage.posted_channel == origin.channel,
                OutboxMessage.channel == origin.channel,
            ),
        )
        .order_by(col(OutboxMessage.id))
    ).first()


def replacing(origin: Origin, user: str, row: OutboxMessage) -> Where | None:
    """Where the re-rendered message goes: over the clicked message (chat.update, or the
    response_url of an ephemeral one), else over the message the row posted."""
    if origin.updatable and origin.channel and origin.ts:
        return Where(channel=origin.channel, update_ts=origin.ts)
    if origin.response_url:
        return Where(
            channel=origin.channel or user, response_url=origin.response_url, replace_original=True
        )
    if row.ts and not (row.payload.get("ephemeral_user") or row.payload.get("response_url")):
        return Where(channel=row.posted_channel or row.channel, update_ts=row.ts)
    return None


def refresh(
    deps: SlackDeps,
    session: Session,
    client: WebClient,
    origin: Origin,
    value: ButtonValue,
    user: str,
) -> None:
    """Show the current state on the message the click came from (or the App Home)."""
    if origin.home:
        if deps.home is not None:
            deps.home(deps, client, user)
        return
    row = stored_message(session, value, origin)
    if row is None:
        return
    renderer = deps.renderers.get(MessageKind(row.kind))
    where = replacing(origin, user, row)
    if renderer is None or where is None:
        return
    since = ts_to_datetime(origin.ts) or row.created_at
    context = RenderContext(library=deps.library, now=deps.clock.now(), since=since)
    subject = dict(row.payload.get("subject") or {})
    message = renderer(session, subject, context)
    if message is None:
        return
    try:
        send(session, client, deps.clock, kind=MessageKind(row.kind), where=where,
             message=message, subject=subject)  # fmt: skip
    except SlackDeliveryError as error:
        logger.warning("re-render of %s failed: %s", row.idempotency_key, error.code)
