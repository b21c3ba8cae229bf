"""The two preparation modals — Log QBR (outcomes and up to three action items, each with
an owner and a due date) and Edit draft — and how their submissions are read back.
Parsing is pure and returns field errors keyed by block id, for the modal's ack.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.blocks import mrkdwn
from bot.slack.format import escape, truncate
from bot.slack.ids import CallbackId
from bot.slack.middleware import ModalMetadata

ACTION_ROWS = 3
HELD_ON = ("held-on", "held-on-input")
OUTCOMES = ("outcomes", "outcomes-input")
SUBJECT = ("subject", "subject-input")
BODY = ("body", "body-input")


def action_fields(n: int) -> tuple[tuple[str, str], tuple[str, str], tuple[str, str]]:
    """(title, owner, due) input ids of action item `n` (1-based)."""
    return (
        (f"action-{n}-title", "title-input"),
        (f"action-{n}-owner", "owner-input"),
        (f"action-{n}-due", "due-input"),
    )


def _view(callback_id: CallbackId, title: str, submit: str, blocks: list[Any],
          meta: ModalMetadata) -> dict[str, Any]:  # fmt: skip
    return View(type="modal", callback_id=callback_id, title=title[:24], submit=submit,
                close="Cancel", blocks=blocks, private_metadata=meta.encode()).to_dict()  # fmt: skip


def log_qbr_modal(account_name: str, meeting: dt.date, meta: ModalMetadata) -> dict[str, Any]:
    blocks: list[Any] = [
        SectionBlock(text=mrkdwn(f"QBR with *{escape(account_name)}*")),
        InputBlock(block_id=HELD_ON[0], label="Held on",
                   element=DatePickerElement(action_id=HELD_ON[1],
                                             initial_date=meeting.isoformat())),
        InputBlock(block_id=OUTCOMES[0], label="Outcomes",
                   element=PlainTextInputElement(action_id=OUTCOMES[1], multiline=True,
                                                 max_length=3000)),
    ]  # fmt: skip
    for n in range(1, ACTION_ROWS + 1):
        title, owner, due = action_fields(n)
        blocks += [
            InputBlock(block_id=title[0], label=f"Action item {n}", optional=True,
                       element=PlainTextInputElement(action_id=title[1], max_length=200)),
            InputBlock(block_id=owner[0], label=f"Owner of item {n}", optional=True,
                       element=UserSelectElement(action_id=owner[1])),
            InputBlock(block_id=due[0], label=f"Due date of item {n}", optional=True,
                       element=DatePickerElement(action_id=due[1])),
        ]  # fmt: skip
    return _view(CallbackId.QBR_LOG, "Log QBR", "Log", blocks, meta)


def edit_draft_modal(account_name: str, subject: str, body: str,
                     meta: ModalMetadata) -> dict[str, Any]:  # fmt: skip
    blocks = [
        SectionBlock(text=mrkdwn(f"Draft to *{escape(account_name)}* — csbot never sends it.")),
        InputBlock(block_id=SUBJECT[0], label="Subject",
                   element=PlainTextInputElement(action_id=SUBJECT[1], max_length=256,
                                                 initial_value=truncate(subject, 256))),
        InputBlock(block_id=BODY[0], label="Email",
                   element=PlainTextInputElement(action_id=BODY[1], multiline=True,
                                                 max_length=3000,
                                                 initial_value=truncate(body, 3000))),
    ]  # fmt: skip
    return _view(CallbackId.DRAFT_EDIT, "Edit draft", "Save", blocks, meta)


def submitted(body: dict[str, Any], field: tuple[str, str]) -> Any:
    """The value of one input: text, chosen user or picked date."""
    state = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    element = (state.get(field[0]) or {}).get(field[1]) or {}
    for name in ("selected_user", "selected_date"):
        if name in element:
            return element.get(name)
    return element.get("value")


@dataclass(frozen=True)
class QbrSubmission:
    held_on: dt.date
    outcomes: str
    actions: list[tuple[str, str, dt.date]]  # (title, Slack user id, due)


def _date(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return None


def parse_qbr(body: dict[str, Any]) -> tuple[QbrSubmission | None, dict[str, str]]:
    """The Log QBR submission, or the errors to show: an action item needs its owner and
    due date, outcomes cannot be blank."""
    errors: dict[str, str] = {}
    held_on = _date(submitted(body, HELD_ON))
    if held_on is None:
        errors[HELD_ON[0]] = "Pick the date the QBR was held"
    outcomes = str(submitted(body, OUTCOMES) or "").strip()
    if not outcomes:
        errors[OUTCOMES[0]] = "Say what the QBR decided"
    actions = []
    for n in range(1, ACTION_ROWS + 1):
        title_f, owner_f, due_f = action_fields(n)
        title = str(submitted(body, title_f) or "").strip()
        owner = submitted(body, owner_f)
        due = _date(submitted(body, due_f)) if submitted(body, due_f) else None
        if not title:
            if owner or due:
                errors[title_f[0]] = "Name the action item, or clear its owner and date"
            continue
        if not owner:
            errors[owner_f[0]] = "Every action item needs an owner"
        if due is None:
            errors[due_f[0]] = "Every action item needs a due date"
        if owner and due is not None:
            actions.append((title, str(owner), due))
    if errors or held_on is None:
        return None, errors
    return QbrSubmission(held_on, outcomes, actions), {}


def parse_edit(body: dict[str, Any]) -> tuple[tuple[str, str] | None, dict[str, str]]:
    subject = str(submitted(body, SUBJECT) or "").strip()
    text = str(submitted(body, BODY) or "")
    if not text.strip():
        return None, {BODY[0]: "A draft cannot be empty"}
    return (subject, text), {}
