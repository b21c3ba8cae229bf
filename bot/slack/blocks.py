"""Block Kit pieces every domain's layouts share: a payload, mrkdwn text, a button, the
snooze menu, a notice, a note in an account's thread.

Every payload is built from `slack_sdk.models` objects, which check Slack's text limits
when serialised, and `payload()` checks the block count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.delivery.limits import MAX_MESSAGE_BLOCKS
from bot.slack.format import truncate, who
from bot.slack.ids import ActionId, ButtonValue

SNOOZE_DAYS = (1, 7, 30)


def payload(
    text: str, blocks: Sequence[Block | dict[str, Any]], limit: int = MAX_MESSAGE_BLOCKS
) -> dict[str, Any]:
    """`{"text", "blocks"}` with every block serialised (and so validated) by slack_sdk."""
    rendered = [block.to_dict() if isinstance(block, Block) else block for block in blocks]
    if len(rendered) > limit:
        raise ValueError(f"{len(rendered)} blocks is over Slack's limit of {limit}")
    return {"text": text[:3000], "blocks": rendered}


def mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(text, 3000))


def button(
    text: str, action_id: ActionId, value: ButtonValue, style: str | None = None
) -> ButtonElement:
    return ButtonElement(
        text=truncate(text, 75), action_id=action_id, value=value.encode(), style=style
    )


# -- help ------------------------------------------------------------------------------------


def notice(text: str) -> dict[str, Any]:
    return payload(text, [SectionBlock(text=mrkdwn(text))])


# -- accounts ----------------------------------------------------------------------------------


def snooze_select(action_id: ActionId, value: ButtonValue) -> StaticSelectElement:
    """Snooze for 1, 7 or 30 days: an account's (digest, alert, card) or a run's."""
    return StaticSelectElement(
        action_id=action_id,
        placeholder="Snooze",
        options=[
            Option(
                text=f"{days} day{'s' if days > 1 else ''}",
                value=value.model_copy(update={"option": str(days)}).encode(),
            )
            for days in SNOOZE_DAYS
        ],
    )


def thread_note(actor: str, text: str) -> dict[str, Any]:
    """The line recorded in an account's thread after an action."""
    return notice(f"{who(actor)} {text}")
