"""The modals csbot opens (step note, log outcome, start playbook, assign) and how their
submitted values are read back. Block and action ids of inputs live here, next to the
modal that uses them; callback ids are in `bot.slack.ids.CallbackId`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.delivery.limits import MAX_VIEW_BLOCKS
from bot.slack.blocks import mrkdwn
from bot.slack.format import escape
from bot.slack.ids import CallbackId
from bot.slack.middleware import ModalMetadata
from storage.enums import StepStatus
from storage.models.playbook_runs import OUTCOME_KINDS

NOTE = ("note", "note-input")
OUTCOME = ("outcome", "outcome-input")
ARR = ("arr", "arr-input")
PLAYBOOK = ("playbook", "playbook-input")
ASSIGNEE = ("assignee", "assignee-input")


def _view(
    callback_id: CallbackId, title: str, submit: str, blocks: list[Any], meta: ModalMetadata
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=title[:24],
        submit=submit,
        close="Cancel",
        blocks=blocks[:MAX_VIEW_BLOCKS],
        private_metadata=meta.encode(),
    )
    return view.to_dict()


def step_note_modal(step_title: str, status: str, meta: ModalMetadata) -> dict[str, Any]:
    verb = "Done" if status == StepStatus.DONE else "Skip"
    blocks = [
        SectionBlock(text=mrkdwn(f"{verb}: *{escape(step_title)}*")),
        InputBlock(
            block_id=NOTE[0],
            label="Note",
            optional=status == StepStatus.DONE,
            element=PlainTextInputElement(action_id=NOTE[1], multiline=True, max_length=2000),
        ),
    ]
    return _view(CallbackId.STEP_NOTE, f"{verb} step", verb, blocks, meta)


def outcome_modal(account_name: str, playbook: str, meta: ModalMetadata) -> dict[str, Any]:
    blocks = [
        SectionBlock(text=mrkdwn(f"Outcome of *{escape(playbook)}* on *{escape(account_name)}*")),
        InputBlock(
            block_id=OUTCOME[0],
            label="Outcome",
            element=StaticSelectElement(
                action_id=OUTCOME[1],
                options=[Option(text=kind.replace("_", " "), value=kind) for kind in OUTCOME_KINDS],
            ),
        ),
        InputBlock(
            block_id=ARR[0],
            label="ARR change ($, negative for a loss)",
            optional=True,
            element=PlainTextInputElement(action_id=ARR[1], placeholder="e.g. 12000 or -5000"),
        ),
        InputBlock(
            block_id=NOTE[0],
            label="Note",
            optional=True,
            element=PlainTextInputElement(action_id=NOTE[1], multiline=True, max_length=2000),
        ),
    ]
    return _view(CallbackId.LOG_OUTCOME, "Log outcome", "Log", blocks, meta)


def start_modal(account_name: str, names: Sequence[str], meta: ModalMetadata) -> dict[str, Any]:
    blocks = [
        InputBlock(
            block_id=PLAYBOOK[0],
            label=f"Playbook for {account_name}"[:2000],
            element=StaticSelectElement(
                action_id=PLAYBOOK[1],
                options=[Option(text=name[:75], value=name) for name in names[:100]],
            ),
        )
    ]
    return _view(CallbackId.START_PLAYBOOK, "Start playbook", "Start", blocks, meta)


def assign_modal(account_name: str, meta: ModalMetadata) -> dict[str, Any]:
    blocks = [
        InputBlock(
            block_id=ASSIGNEE[0],
            label=f"Assign {account_name}'s open playbook to"[:2000],
            element=UserSelectElement(action_id=ASSIGNEE[1]),
        )
    ]
    return _view(CallbackId.ASSIGN, "Assign", "Assign", blocks, meta)


def submitted(body: dict[str, Any], field: tuple[str, str]) -> Any:
    """The submitted value of one input: text, selected option value or selected user."""
    state = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    element = (state.get(field[0]) or {}).get(field[1]) or {}
    if "selected_option" in element:
        return (element.get("selected_option") or {}).get("value")
    if "selected_user" in element:
        return element.get("selected_user")
    return element.get("value")


def parse_arr(text: str | None) -> float | None:
    """The ARR change typed in the modal: '12000', '-5,000', '$7.5k'; ValueError otherwise."""
    if text is None or not text.strip():
        return None
    cleaned = text.strip().replace(",", "").replace("$", "").replace(" ", "")
    factor = 1.0
    if cleaned[-1:].lower() == "k":
        cleaned, factor = cleaned[:-1], 1_000.0
    elif cleaned[-1:].lower() == "m":
        cleaned, factor = cleaned[:-1], 1_000_000.0
    value = float(cleaned) * factor  # raises ValueError on anything else
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value
