"""The row of account actions shared by the digest, alerts and the account card, drawn
from the account's state: no Snooze while a snooze is in force, no Not a risk once given,
and a line saying so and who did what since the message was posted.

Start playbook (suggested plays first, then the rest of the library), Assign (a user
picker), Snooze (1, 7 or 30 days), Not a risk, Details. Every element's `action_id` comes
from `bot.slack.ids.ActionId`; buttons and options carry a `ButtonValue`. A users_select has no
value of its own, so the actions block's `block_id` is the account's `ButtonValue` too:
handlers read `ButtonValue.decode(action["value"] or selected_option["value"] or block_id)`.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    Option,
    OptionGroup,
    PlainTextObject,
    StaticSelectElement,
    UserSelectElement,
)

from bot.accounts.model import PlaybookChoice
from bot.accounts.service import AccountState, Activity
from bot.slack import blocks as render
from bot.slack import format as fmt
from bot.slack.format import escape, playbook_title, truncate
from bot.slack.ids import ActionId, ButtonValue

MAX_OPTIONS = 100
OPTION_TEXT = 75


def _option(text: str, value: ButtonValue) -> Option:
    return Option(text=PlainTextObject(text=truncate(text, OPTION_TEXT)), value=value.encode())


def playbook_select(
    account_id: str,
    suggested: Sequence[str],
    library: Sequence[PlaybookChoice],
    *,
    as_of: str | None = None,
) -> StaticSelectElement | None:
    """A select of playbooks to start: "Suggested" first, then "All playbooks"; None when
    there is nothing to offer."""
    titles = {choice.name: choice.title for choice in library}
    first = [name for name in suggested if name][:MAX_OPTIONS]
    rest = [choice.name for choice in library if choice.name not in first][:MAX_OPTIONS]

    def options(names: Sequence[str]) -> list[Option]:
        return [
            _option(playbook_title(name, titles), ButtonValue(account_id=account_id, option=name))
            for name in names
        ]

    placeholder = PlainTextObject(text="Start playbook")
    if first and rest:
        return StaticSelectElement(
            action_id=ActionId.START_PLAYBOOK,
            placeholder=placeholder,
            option_groups=[
                OptionGroup(label="Suggested", options=options(first)),
                OptionGroup(label="All playbooks", options=options(rest)),
            ],
        )
    names = first or rest
    if not names:
        return None
    return StaticSelectElement(
        action_id=ActionId.START_PLAYBOOK, placeholder=placeholder, options=options(names)
    )


def account_actions(
    account_id: str,
    *,
    suggested: Sequence[str] = (),
    library: Sequence[PlaybookChoice] = (),
    as_of: str | None = None,
    details: bool = True,
    not_a_risk: bool = True,
    state: AccountState | None = None,
) -> ActionsBlock:
    """The actions block for one account (its `block_id` is the account's ButtonValue)."""
    state = state or AccountState()
    value = ButtonValue(account_id=account_id, as_of=as_of)
    elements: list = []
    select = playbook_select(account_id, suggested, library, as_of=as_of)
    if select is not None:
        elements.append(select)
    elements.append(
        UserSelectElement(
            action_id=ActionId.ASSIGN_ACCOUNT, placeholder=PlainTextObject(text="Assign")
        )
    )
    if state.snoozed_until is None:
        elements.append(render.snooze_select(ActionId.SNOOZE, ButtonValue(account_id=account_id)))
    if not_a_risk and state.not_a_risk_by is None:
        elements.append(
            ButtonElement(
                text="Not a risk",
                action_id=ActionId.NOT_A_RISK,
                value=value.encode(),
                confirm=ConfirmObject(
                    title="Not a risk?",
                    text="This account leaves your digest for 30 days and the churn model "
                    "learns from your answer.",
                    confirm="Not a risk",
                    deny="Cancel",
                ),
            )
        )
    if details:
        elements.append(
            ButtonElement(text="Details", action_id=ActionId.DETAILS, value=value.encode())
        )
    return ActionsBlock(block_id=value.encode(), elements=elements)


def activity_line(item: Activity) -> str:
    """ "<@U1> snoozed until Dec 11 (Dec 04 14:44 UTC)": who, what, then when, in brackets so
    the time is never read as part of what was done."""
    whom = f" {fmt.who(item.whom)}" if item.whom else ""
    return f"{fmt.who(item.by)} {escape(item.text)}{whom} ({fmt.when(item.at)})"


def state_text(state: AccountState | None) -> str | None:
    """The account's state line in mrkdwn ("💤 Snoozed until Jun 08 by <@U1> · …"), or
    None when there is nothing to say."""
    if state is None:
        return None
    parts = []
    if state.snoozed_until is not None:
        parts.append(
            f"💤 Snoozed until {fmt.when(state.snoozed_until.date())} by {fmt.who(state.snoozed_by)}"
        )
    if state.not_a_risk_by is not None:
        parts.append(f"✔️ Not a risk ({fmt.who(state.not_a_risk_by)})")
    parts += [activity_line(item) for item in state.activity[-5:]]
    return truncate(" · ".join(parts), 2000) if parts else None
