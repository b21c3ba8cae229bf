"""Answering a person after an interaction, always through the outbox (`bot.slack.send`):
the answer only they see, the note in the account's thread, and any error turned into one
ephemeral sentence."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from sqlmodel import Session, col, select

from bot.delivery.errors import SlackDeliveryError
from bot.slack import blocks as render
from bot.slack.errors import describe_error
from bot.slack.middleware import Origin
from bot.slack.send import Where, send
from storage.enums import MessageKind
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.slack.deps import SlackDeps

logger = logging.getLogger(__name__)

# The kinds of scheduled messages about one account: its thread hangs under the latest.
THREAD_KINDS = (MessageKind.ALERT, MessageKind.ESCALATION, MessageKind.DIGEST)


def user_of(body: Mapping[str, Any]) -> str:
    return (body.get("user") or {}).get("id") or body.get("user_id") or "unknown"


def answer_where(body: Mapping[str, Any], response_url: str | None = None) -> Where:
    """Where an answer only the person sees goes: the interaction's response_url, else an
    ephemeral message in the channel, else their DM."""
    user = user_of(body)
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    url = response_url or body.get("response_url")
    if url:
        return Where(channel=channel or user, response_url=url)
    if channel:
        return Where(channel=channel, ephemeral_user=user)
    return Where(channel=user)


def answer(
    deps: SlackDeps,
    session: Session,
    client: WebClient,
    where: Where,
    message: dict[str, Any],
    *,
    kind: MessageKind = MessageKind.REPLY,
    subject: Mapping[str, Any] | None = None,
) -> None:
    """Send `message` to `where` now (through the outbox)."""
    send(session, client, deps.clock, kind=kind, where=where, message=message, subject=subject)


def tell(
    deps: SlackDeps,
    body: Mapping[str, Any],
    client: WebClient,
    text: str,
    *,
    response_url: str | None = None,
) -> None:
    """Say `text` to the person who acted, only to them."""
    where = answer_where(body, response_url)
    try:
        with deps.session() as session:
            answer(deps, session, client, where, render.notice(text))
    except SlackDeliveryError as error:
        logger.warning("could not tell %s: %s", user_of(body), error.code)


def account_thread(
    session: Session, origin: Origin, account_id: str | None
) -> tuple[str, str] | None:
    """(channel, thread ts) of the account's thread: the clicked message's thread, else the
    latest alert, escalation or digest about the account that was posted."""
    if origin.updatable and origin.channel and origin.ts:
        return origin.channel, origin.thread_ts or origin.ts
    if not account_id:
        return None
    posted = session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.account_id == account_id,
            col(OutboxMessage.kind).in_(THREAD_KINDS),
            col(OutboxMessage.ts).is_not(None),
        )
        .order_by(col(OutboxMessage.sent_at).desc())
    ).first()
    if posted and posted.ts:
        return posted.posted_channel or posted.channel, posted.ts
    return None


def record_in_thread(
    deps: SlackDeps,
    session: Session,
    client: WebClient,
    origin: Origin,
    account_id: str | None,
    actor: str,
    text: str,
) -> None:
    """Post "<@U> did X" in the account's thread, when it has one."""
    thread = account_thread(session, origin, account_id)
    if thread is None:
        return
    where = Where(channel=thread[0], thread_ts=thread[1])
    try:
        answer(deps, session, client, where, render.thread_note(actor, text), kind=MessageKind.NOTE)
    except SlackDeliveryError as error:
        logger.warning("thread note failed: %s", error.code)


def report_error(
    deps: SlackDeps, error: BaseException, body: Mapping[str, Any], client: WebClient
) -> None:
    tell(deps, body, client, describe_error(error))


def guarded(deps: SlackDeps, function: Callable[..., None]) -> Callable[..., None]:
    """Wrap a listener so a typed error becomes an ephemeral sentence (bolt does not route
    lazy listeners' errors to `@app.error`)."""

    def run(body: dict[str, Any], client: WebClient, context: Any, ack: Any = None) -> None:
        try:
            function(body=body, client=client, context=context)
        except Exception as error:  # noqa: BLE001 - every error ends as a message
            report_error(deps, error, body, client)

    run.__name__ = function.__name__
    run.__qualname__ = function.__qualname__
    return run
