"""After a click: the message it came from, re-rendered from database state.

A playbook-run message and a step's reminder are rendered whole by `bot.plays.service`; a
digest, alert or card keeps its layout and gets the account's "who did what, when" line
rebuilt from the database under that account's buttons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session, or_, select

from bot.accounts import messages as account_messages
from bot.accounts import service as book
from bot.plays import service as plays
from bot.slack import blocks as render
from bot.slack.ids import ButtonValue
from bot.slack.middleware import Origin
from bot.slack.replies import Respond, publish, ts_to_datetime
from storage.models import OutboxMessage, PlaybookRun


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
        return plays.step_message(session, value.step_id, library, now)
    if value.run_id and (origin.screen == "run" or (origin.screen is None and not origin.channel)):
        run = session.get(PlaybookRun, value.run_id)
        return plays.run_message(session, run, library, now) if run else None
    blocks = posted_blocks(session, origin)
    if value.account_id and blocks and origin.screen is None:
        activity = book.account_activity(session, value.account_id, ts_to_datetime(origin.ts))
        if not activity:
            return None
        block = account_messages.activity_block(value.account_id, activity).to_dict()
        text = next(
            (b.get("text", {}).get("text") for b in blocks if b.get("type") == "section"),
            None,
        )
        return {
            "text": (text or "csbot")[:3000],
            "blocks": with_activity(blocks, value.account_id, block),
        }
    return None


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
