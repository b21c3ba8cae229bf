"""An account's own buttons: Snooze, Not a risk, Details.

Snooze and Not a risk write through `bot.accounts.service` (audited); the message is then
re-rendered from the database, so its buttons show the new state.
"""

from __future__ import annotations

import datetime as dt

from slack_bolt import App

from bot.accounts import service
from bot.accounts.cards import account_card
from bot.slack import format as fmt
from bot.slack.deps import SlackDeps
from bot.slack.format import escape
from bot.slack.ids import ActionId
from bot.slack.interaction import SOURCE, Interaction, on
from storage.enums import MessageKind


def register(app: App, deps: SlackDeps) -> None:
    @on(app, deps, ActionId.SNOOZE)
    def account_snooze(it: Interaction) -> None:
        account = it.account()
        it.check_account(account)
        days = int(it.value.option or 7)
        with it.deps.one_at_a_time(account.account_id):
            snoozed = service.snooze_account(it.session, account, days=days, by=it.user,
                                             source=SOURCE, clock=it.deps.clock)  # fmt: skip
            if snoozed is None:
                current = service.active_snooze(it.session, account.account_id, it.now)
                until = fmt.when(current.until) if current else "later"
                by = fmt.who(current.by) if current else "someone"
                return it.stale(f"{escape(account.name)} is already snoozed until {until} by {by}.")
            it.session.commit()
        it.refresh()
        it.record(f"snoozed {escape(account.name)} for {days} days")
        return None

    @on(app, deps, ActionId.NOT_A_RISK)
    def account_not_a_risk(it: Interaction) -> None:
        account = it.account()
        it.check_account(account)
        as_of = dt.date.fromisoformat(it.value.as_of) if it.value.as_of else it.now.date()
        with it.deps.one_at_a_time(account.account_id):
            marked = service.mark_not_a_risk(it.session, account, as_of=as_of, by=it.user,
                                             source=SOURCE, clock=it.deps.clock)  # fmt: skip
            if marked is None:
                given = service.not_a_risk_since(it.session, account.account_id, as_of)
                by = fmt.who(given.by) if given else "someone"
                when = fmt.when(given.created_at) if given else ""
                return it.stale(
                    f"{escape(account.name)} was already marked not a risk by {by} {when}."
                )
            it.session.commit()
        it.refresh()
        it.record(f"marked {escape(account.name)} not a risk (feedback for the churn model)")
        return None

    @on(app, deps, ActionId.DETAILS)
    def account_details(it: Interaction) -> None:
        account = it.account()
        it.say(account_card(it.session, account, it.deps.library), kind=MessageKind.CARD,
               subject={"account_id": account.account_id})  # fmt: skip
