"""Bolt middleware: drop Slack's retries, and parse what a click or modal carries.

- Slack re-sends an event when it did not see our 200 in 3 s (`X-Slack-Retry-Num`); we
  already have the first copy, so a retry is acknowledged and not acted on again.
- A button's value (or a select option's, or an actions block's `block_id` for
  `users_select`, which has no value) and a modal's `private_metadata` hold a
  `ButtonValue`; it is parsed once here into `context["button"]`, with where the click
  came from in `context["origin"]`. Handlers never re-parse JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from slack_bolt import BoltContext, BoltRequest, BoltResponse

from bot.slack.ids import ButtonValue

logger = logging.getLogger(__name__)


class ModalMetadata(ButtonValue):
    """A modal's `private_metadata`: the button's record plus the message it was opened from."""

    channel: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    home: bool | None = None

    def encode(self) -> str:
        text = self.model_dump_json(exclude_none=True)
        if len(text) > 3000:
            raise ValueError("private_metadata over Slack's 3000-character limit")
        return text


@dataclass(frozen=True)
class Origin:
    """Where an interaction came from, so the reply can update that message in place."""

    channel: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    ephemeral: bool = False
    home: bool = False
    response_url: str | None = None

    @property
    def updatable(self) -> bool:
        return bool(self.channel and self.ts and not self.ephemeral)


def ignore_retries(request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
    """Acknowledge a retried delivery without handling it a second time."""
    retry = request.headers.get("x-slack-retry-num")
    if retry:
        reason = (request.headers.get("x-slack-retry-reason") or ["?"])[0]
        logger.info("ignoring Slack retry %s (%s)", retry[0], reason)
        return BoltResponse(status=200, body="")
    return next()


def _decode(text: str | None, model: type[ButtonValue] = ButtonValue) -> ButtonValue | None:
    if not text or not text.startswith("{"):
        return None
    try:
        return model.decode(text)
    except (ValueError, ValidationError):
        return None


def parse_button(body: dict[str, Any]) -> tuple[ButtonValue, Origin]:
    """The ButtonValue and Origin of a block_actions or view_submission payload (pure)."""
    kind = body.get("type")
    if kind == "view_submission" or kind == "view_closed":
        meta = _decode((body.get("view") or {}).get("private_metadata"), ModalMetadata)
        if isinstance(meta, ModalMetadata):
            origin = Origin(
                channel=meta.channel,
                ts=meta.ts,
                thread_ts=meta.thread_ts,
                ephemeral=bool(meta.response_url),
                home=bool(meta.home),
                response_url=meta.response_url,
            )
            return meta, origin
        return meta or ButtonValue(), Origin()
    if kind != "block_actions":
        return ButtonValue(), Origin()
    action = (body.get("actions") or [{}])[0]
    value = (
        _decode(action.get("value"))
        or _decode((action.get("selected_option") or {}).get("value"))
        or _decode(action.get("block_id"))
        or ButtonValue()
    )
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    origin = Origin(
        channel=channel,
        ts=container.get("message_ts") or message.get("ts"),
        thread_ts=message.get("thread_ts"),
        ephemeral=bool(container.get("is_ephemeral")),
        home=container.get("type") == "view" and (body.get("view") or {}).get("type") == "home",
        response_url=body.get("response_url"),
    )
    return value, origin


def attach_button(
    body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
) -> BoltResponse:
    context["button"], context["origin"] = parse_button(body)
    return next()
