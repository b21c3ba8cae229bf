"""Answering after an interaction: replace the message in place, note it in the account's
thread, and turn any error into one ephemeral sentence."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, select

from bot.slack import blocks as render
from bot.slack.errors import describe_error
from bot.slack.middleware import Origin
from storage.models import OutboxMessage

logger = logging.getLogger(__name__)

Respond = Callable[..., Any]


def ts_to_datetime(ts: str | None) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(float(ts or 0), dt.UTC).replace(tzinfo=None)
    except (TypeError, ValueError):
        return dt.datetime(1970, 1, 1)


def publish(
    client: WebClient, origin: Origin, message: dict[str, Any], respond: Respond | None
) -> None:
    """Replace the message at `origin` with `message` (chat.update or the response_url)."""
    if origin.updatable and origin.channel and origin.ts:
        try:
            client.chat_update(channel=origin.channel, ts=origin.ts, **message)
        except SlackApiError as error:
            logger.warning("chat.update failed: %s", error.response.get("error"))
    elif origin.response_url and respond is not None:
        respond(replace_original=True, **message)


def account_thread(
    session: Session, origin: Origin, account_id: str | None
) -> tuple[str, str] | None:
    """(channel, thread ts) of the account's thread: the clicked message's thread, else the
    latest digest or alert about the account that was posted."""
    if origin.updatable and origin.channel and origin.ts:
        return origin.channel, origin.thread_ts or origin.ts
    if not account_id:
        return None
    posted = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.account_id == account_id, col(OutboxMessage.ts).is_not(None))
        .order_by(col(OutboxMessage.sent_at).desc())
    ).first()
    if posted and posted.ts:
        return posted.posted_channel or posted.channel, posted.ts
    return None


def record_in_thread(
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
    try:
        client.chat_postMessage(
            channel=thread[0], thread_ts=thread[1], **render.thread_note(actor, text)
        )
    except SlackApiError as error:
        logger.warning("thread note failed: %s", error.response.get("error"))


def tell(body: dict[str, Any], client: WebClient, respond: Respond | None, text: str) -> None:
    """Say `text` to the person who acted, only to them."""
    message = render.notice(text)
    if body.get("response_url") and respond is not None:
        respond(response_type="ephemeral", replace_original=False, **message)
        return
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    try:
        if channel and user:
            client.chat_postEphemeral(channel=channel, user=user, **message)
        elif user:
            client.chat_postMessage(channel=user, **message)
    except SlackApiError as error:
        logger.warning("could not tell %s: %s", user, error.response.get("error"))


def report_error(
    error: BaseException, body: dict[str, Any], client: WebClient, respond: Respond | None
) -> None:
    tell(body, client, respond, describe_error(error))


def guarded(function: Callable[..., None]) -> Callable[..., None]:
    """Wrap a listener so a typed error becomes an ephemeral sentence (bolt does not route
    lazy listeners' errors to `@app.error`)."""

    def run(
        body: dict[str, Any], client: WebClient, respond: Respond, context: Any, ack: Any = None
    ) -> None:
        try:
            function(body=body, client=client, respond=respond, context=context)
        except Exception as error:  # noqa: BLE001 - every error ends as a message
            report_error(error, body, client, respond)

    run.__name__ = function.__name__
    run.__qualname__ = function.__qualname__
    return run
