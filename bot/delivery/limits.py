"""Slack's Block Kit limits, checked before anything is sent.

`slack_sdk.models` validates text lengths and element counts when a block is serialised,
but not the number of blocks in a message (50) or a view (100), nor that block ids are
unique. `validate_message` re-parses every block with `Block.parse`, serialises it (which
runs slack_sdk's validators) and checks the rest; tests call it on every message kind and
the sender may call it before posting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000  # Slack truncates longer `text`
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
VIEW_TYPES = ("home", "modal")


class MessageLimitError(ValueError):
    """A payload Slack would reject; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _check_block(index: int, raw: Mapping[str, Any], problems: list[str]) -> None:
    where = f"block {index} ({raw.get('type', '?')})"
    try:
        block = Block.parse(dict(raw))
    except (TypeError, ValueError, SlackObjectFormationError) as error:
        problems.append(f"{where}: does not parse: {error}")
        return
    if block is None or getattr(block, "type", None) != raw.get("type"):
        problems.append(f"{where}: unknown block type")
        return
    try:
        block.to_dict()
    except SlackObjectFormationError as error:
        problems.append(f"{where}: {error}")
    for number, field in enumerate(raw.get("fields") or []):
        if len(field.get("text", "")) > MAX_SECTION_FIELD_TEXT:
            problems.append(f"{where}: field {number} over {MAX_SECTION_FIELD_TEXT} characters")
    action_ids = [e.get("action_id") for e in raw.get("elements") or [] if e.get("action_id")]
    if raw.get("accessory", {}).get("action_id"):
        action_ids.append(raw["accessory"]["action_id"])
    if len(action_ids) != len(set(action_ids)):
        problems.append(f"{where}: repeated action_id")


def validate_message(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """Check a message (`{"text", "blocks"}`) or a view (`{"type": "home"|"modal", …}`)
    against Slack's limits; return it unchanged, or raise `MessageLimitError`."""
    problems: list[str] = []
    blocks = list(payload.get("blocks") or [])
    is_view = payload.get("type") in VIEW_TYPES
    if is_view:
        limit = MAX_VIEW_BLOCKS
        try:
            View(**dict(payload)).to_dict()
        except (TypeError, SlackObjectFormationError) as error:
            problems.append(f"view: {error}")
    else:
        limit = MAX_MESSAGE_BLOCKS
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            problems.append(
                "message has no fallback `text` (notifications and screen readers use it)"
            )
        elif len(text) > MAX_MESSAGE_TEXT:
            problems.append(f"text over {MAX_MESSAGE_TEXT} characters")
    if not blocks and is_view:
        problems.append("view has no blocks")
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks, over Slack's limit of {limit}")
    block_ids = [b.get("block_id") for b in blocks if b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        problems.append("repeated block_id")
    for index, raw in enumerate(blocks):
        _check_block(index, raw, problems)
    if problems:
        raise MessageLimitError(problems)
    return payload
