"""Clicks on a digest entry or alert: the overflow menu, snooze with a reason, 👍 / 👎.

- The overflow (`ActionId.ACCOUNT_MENU`) opens the start or assign modal (submitted to the
  handlers in `bot.plays.interactive`), the snooze-with-reason modal, records "not a risk"
  (then re-renders the clicked message from the database), or shows the account card —
  only to the person who clicked.
- The snooze modal (`CallbackId.SNOOZE_REASON`) records the snooze through
  `bot.accounts.snooze`, re-renders the clicked message and says so in the account's thread.
- 👍 / 👎 store a usefulness vote with the rule the entry carries (`bot.alerts.votes`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.accounts import cards, service
from bot.accounts.snooze import PERIOD_DAYS, REASONS, SnoozeError, snooze_account
from bot.accounts.votes import VoteError, parse_vote_option, record_vote
from bot.plays import service as plays
from bot.plays import views
from bot.slack import blocks as render
from bot.slack.deps import SlackDeps
from bot.slack.errors import BadInput
from bot.slack.format import truncate, when
from bot.slack.ids import ActionId, CallbackId
from bot.slack.interaction import SOURCE, Interaction, meta_for, on, on_submit
from bot.slack.middleware import ModalMetadata
from storage.enums import MessageKind, SnoozeReason
from storage.models import Account

REASON = ("snooze-reason", "snooze-reason-input")
PERIOD = ("snooze-period", "snooze-period-input")
NOTE = ("snooze-note", "snooze-note-input")


def snooze_modal(account_name: str, meta: ModalMetadata) -> dict[str, Any]:
    """Why and for how long; "other" needs a note (checked on submit)."""
    blocks = [
        SectionBlock(
            text=render.mrkdwn(
                f"Snooze *{truncate(account_name, 200)}*: no alerts, not in your digest"
            )
        ),
        InputBlock(
            block_id=REASON[0],
            label="Why",
            element=StaticSelectElement(
                action_id=REASON[1],
                options=[Option(text=label, value=code) for code, label in REASONS.items()],
            ),
        ),
        InputBlock(
            block_id=PERIOD[0],
            label="For",
            element=StaticSelectElement(
                action_id=PERIOD[1],
                initial_option=Option(text="7 days", value="7"),
                options=[
                    Option(text=f"{d} day" if d == 1 else f"{d} days", value=str(d))
                    for d in PERIOD_DAYS
                ],
            ),
        ),
        InputBlock(
            block_id=NOTE[0],
            label="Note",
            optional=True,
            element=PlainTextInputElement(action_id=NOTE[1], max_length=500),
        ),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.SNOOZE_REASON,
        title="Snooze",
        submit="Snooze",
        close="Cancel",
        blocks=blocks,
        private_metadata=meta.encode(),
    ).to_dict()


def register(app: App, deps: SlackDeps) -> None:
    @on(app, deps, ActionId.ACCOUNT_MENU)
    def menu(it: Interaction) -> None:
        account = it.account()
        choice = it.value.option
        if choice == "details":
            it.say(cards.account_card(it.session, account, it.deps.library, it.now),
                   kind=MessageKind.CARD, subject={"account_id": account.account_id})  # fmt: skip
            return
        it.check_account(account)
        meta = meta_for(it.value, it.origin)
        if choice == "start":
            names = plays.suggested_names(it.deps, it.session, account.account_id)
            it.open_modal(views.start_modal(account.name, names, meta))
        elif choice == "assign":
            it.open_modal(views.assign_modal(account.name, meta))
        elif choice == "snooze":
            it.open_modal(snooze_modal(account.name, meta))
        elif choice == "not_a_risk":
            not_a_risk(it, account)
        else:
            raise BadInput(f"Unknown choice {choice!r}.")

    def vote(useful: bool) -> Any:
        def handle(it: Interaction) -> None:
            try:
                kind, rule = parse_vote_option(it.value.option)
            except VoteError as error:
                raise BadInput(str(error)) from None
            as_of = dt.date.fromisoformat(it.value.as_of) if it.value.as_of else it.now.date()
            account = it.account()
            _row, changed = record_vote(it.session, kind=kind, rule=rule, account_id=account.account_id,
                                        as_of=as_of, by=it.user, useful=useful, clock=it.deps.clock)  # fmt: skip
            it.session.commit()
            word = "useful" if useful else "not useful"
            text = f"Thanks — noted as {word}." if changed else f"Already noted as {word}."
            it.tell(text + " It tunes which alerts csbot sends.")

        handle.__name__ = "vote_useful" if useful else "vote_not_useful"
        return handle

    on(app, deps, ActionId.VOTE_USEFUL)(vote(True))
    on(app, deps, ActionId.VOTE_NOT_USEFUL)(vote(False))

    def validate_snooze(ack: Ack, body: dict[str, Any]) -> None:
        reason = views.submitted(body, REASON)
        if reason == SnoozeReason.OTHER and not (views.submitted(body, NOTE) or "").strip():
            ack(response_action="errors", errors={NOTE[0]: "Say why when the reason is “other”"})
            return
        ack()

    @on_submit(app, deps, CallbackId.SNOOZE_REASON, validate_snooze)
    def submit_snooze(it: Interaction) -> None:
        reason = views.submitted(it.body, REASON) or SnoozeReason.OTHER
        days = int(views.submitted(it.body, PERIOD) or 7)
        note = views.submitted(it.body, NOTE)
        account = it.account()
        it.check_account(account)
        try:
            row = snooze_account(it.session, account_id=account.account_id, reason=reason,
                                 days=days, by=it.user, clock=it.deps.clock, note=note)  # fmt: skip
        except SnoozeError as error:
            raise BadInput(str(error)) from None
        it.session.commit()
        it.refresh()
        label = REASONS[reason] + (f": {note}" if note else "")
        it.record(f"snoozed {account.name} until {when(row.until)} — {label}")


def not_a_risk(it: Interaction, account: Account) -> None:
    """Record "not a risk" for the model (audited) unless already given for that score; the
    clicked message is re-rendered from the database either way."""
    as_of = dt.date.fromisoformat(it.value.as_of) if it.value.as_of else it.now.date()
    with it.deps.one_at_a_time(account.account_id):
        marked = service.mark_not_a_risk(it.session, account, as_of=as_of, by=it.user,
                                         source=SOURCE, clock=it.deps.clock)  # fmt: skip
        if marked is None:
            return it.stale(f"{account.name} was already marked not a risk.")
        it.session.commit()
    it.refresh()
    it.record(f"marked {account.name} not a risk (feedback for the churn model)")
    it.tell(f"Marked {account.name} not a risk: it leaves your digest for 30 days and the model learns from it.")  # fmt: skip
    return None
