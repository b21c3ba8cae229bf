"""One entry's controls, small enough for a phone: one primary button, an overflow menu,
and "useful / not useful".

The overflow (`ActionId.ACCOUNT_MENU`, Slack allows five options) holds Start playbook,
Assign, Snooze, Not a risk and Details; the primary button starts the first suggested
playbook, or opens Details when there is none. The votes carry the rule that produced the
entry (`kind|rule`, e.g. `digest|critical`, `alert|band:critical`) so usefulness is stored
per rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    Option,
    OverflowMenuElement,
    PlainTextObject,
)

from bot.accounts.service import AccountState
from bot.slack.format import playbook_title, truncate
from bot.slack.ids import ActionId, ButtonValue

MENU_CHOICES = (
    ("start", "Start playbook…"),
    ("assign", "Assign…"),
    ("snooze", "Snooze with a reason…"),
    ("not_a_risk", "Not a risk"),
    ("details", "Details"),
)
BUTTON_TEXT = 75


def account_menu(
    account_id: str, *, as_of: str | None = None, state: AccountState | None = None
) -> OverflowMenuElement:
    """The overflow, drawn from the account's state: no Snooze while a snooze is in force,
    no Not a risk once given."""
    state = state or AccountState()
    gone = {"snooze"} if state.snoozed_until is not None else set()
    if state.not_a_risk_by is not None:
        gone.add("not_a_risk")
    return OverflowMenuElement(
        action_id=ActionId.ACCOUNT_MENU,
        options=[
            Option(
                text=PlainTextObject(text=label),
                value=ButtonValue(account_id=account_id, option=choice, as_of=as_of).encode(),
            )
            for choice, label in MENU_CHOICES
            if choice not in gone
        ],
    )


def primary_button(
    account_id: str,
    suggested: Sequence[str] = (),
    titles: Mapping[str, str] | None = None,
    *,
    as_of: str | None = None,
) -> ButtonElement:
    if suggested:
        name = suggested[0]
        return ButtonElement(
            text=truncate(f"Start {playbook_title(name, dict(titles or {}))}", BUTTON_TEXT),
            action_id=ActionId.START_PLAYBOOK,
            value=ButtonValue(account_id=account_id, option=name, as_of=as_of).encode(),
            style="primary",
        )
    return ButtonElement(
        text="Details",
        action_id=ActionId.DETAILS,
        value=ButtonValue(account_id=account_id, as_of=as_of).encode(),
        style="primary",
    )


def vote_value(account_id: str, kind: str, rule: str, as_of: str | None) -> str:
    return ButtonValue(account_id=account_id, option=f"{kind}|{rule}", as_of=as_of).encode()


def vote_buttons(
    account_id: str, *, kind: str, rule: str, as_of: str | None
) -> list[ButtonElement]:
    value = vote_value(account_id, kind, rule, as_of)
    return [
        ButtonElement(text="👍 Useful", action_id=ActionId.VOTE_USEFUL, value=value),
        ButtonElement(text="👎 Not useful", action_id=ActionId.VOTE_NOT_USEFUL, value=value),
    ]


def entry_actions(
    account_id: str,
    *,
    kind: str,
    rule: str,
    as_of: str | None,
    suggested: Sequence[str] = (),
    titles: Mapping[str, str] | None = None,
    block_id: str | None = None,
) -> ActionsBlock:
    """The one actions row under an entry: primary button, then 👍 / 👎."""
    return ActionsBlock(
        block_id=block_id or f"entry-{account_id}",
        elements=[
            primary_button(account_id, suggested, titles, as_of=as_of),
            *vote_buttons(account_id, kind=kind, rule=rule, as_of=as_of),
        ],
    )
