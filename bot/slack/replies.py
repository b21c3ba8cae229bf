"""Answering after an interaction: update the message in place, note it in the thread,
and turn any error into one ephemeral sentence.

The message a button sat on is re-rendered from database state: a playbook-run message
entirely; a digest, alert or card keeps its layout and gets the account's "who did what,
when" line rebuilt from the database under that account's buttons.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, or_, select

from bot.ids import ButtonValue
from bot.slack import book, render, screens
from bot.slack.errors import describe_error
from bot.slack.middleware import Origin
from storage.models import OutboxMessage, PlaybookRun

logger = logging.getLogger(__name__)

Respond = Callable[..., Any]


def ts_to_datetime(ts: str | None) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(float(ts or 0), dt.UTC).replace(tzinfo=None)
    except (TypeError, ValueError):
        return dt.datetime(1970, 1, 1)


def with_activity(
    blocks: tuple[dict[str, Any], ...], account_id: str, activity_block: dict[str, Any]
) -> list[dict[str, Any]]:
    """`blocks` with the account's activity line replaced, or put after the block holding
    its buttons (after the last block when none is found)."""
    marker = activity_block["block_id"]
    kept = [block for block in blocks if block.get("block_id") != marker]
    position = len(kept)
    for index, block in enumerate(kept):
        if account_id and account_id in str(block.get("elements") or block.get("accessory") or ""):
            position = index + 1
    return [*kept[:position], activity_block, *kept[position:]][: render.MAX_MESSAGE_BLOCKS]


def posted_blocks(session: Session, origin: Origin) -> tuple[dict[str, Any], ...]:
    """The blocks of the clicked message: from the click itself, else (after a modal) from
    the outbox row that posted it."""
    if origin.blocks:
        return origin.blocks
    if not (origin.channel and origin.ts):
        return ()
    row = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.ts == origin.ts,
            or_(
                OutboxMessage.posted_channel == origin.channel,
                OutboxMessage.channel == origin.channel,
            ),
        )
    ).first()
    return tuple((row.payload or {}).get("blocks") or ()) if row else ()


def current_message(
    session: Session,
    origin: Origin,
    value: ButtonValue,
    *,
    library: Mapping[str, Any],
    now: dt.datetime,
) -> dict[str, Any] | None:
    """The message at `origin` re-rendered from the database, or None if nothing to show.
    ("my-steps" lists depend on who asked: `Interaction.refresh` renders those.)"""
    if origin.screen == "step" and value.step_id:
        return screens.step_message(session, value.step_id, library, now)
    if value.run_id and (origin.screen == "run" or (origin.screen is None and not origin.channel)):
        run = session.get(PlaybookRun, value.run_id)
        return screens.run_message(session, run, library, now) if run else None
    blocks = posted_blocks(session, origin)
    if value.account_id and blocks and origin.screen is None:
        activity = book.account_activity(session, value.account_id, ts_to_datetime(origin.ts))
        if not activity:
            return None
        block = render.activity_block(value.account_id, activity).to_dict()
        text = next(
            (b.get("text", {}).get("text") for b in blocks if b.get("type") == "section"),
            None,
        )
        return {
            "text": (text or "csbot")[:3000],
            "blocks": with_activity(blocks, value.account_id, block),
        }
    return None


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


def refresh_origin(
    session: Session,
    client: WebClient,
    origin: Origin,
    value: ButtonValue,
    *,
    library: Mapping[str, Any],
    now: dt.datetime,
    respond: Respond | None = None,
) -> None:
    """Update the message the click came from so it shows the current state."""
    if origin.home:
        return  # the App Home is re-published by its own handler
    message = current_message(session, origin, value, library=library, now=now)
    if message is not None:
        publish(client, origin, message, respond)


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
