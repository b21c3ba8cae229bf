"""Clicks on a digest entry or alert: the overflow menu, snooze with a reason, 👍 / 👎.

- The overflow (`ActionId.ACCOUNT_MENU`) opens the start or assign modal (submitted to the
  handlers in `bot.app.actions`), the snooze-with-reason modal, records "not a risk", or
  shows the account card — only to the person who clicked.
- The snooze modal (`CallbackId.SNOOZE_REASON`) records the snooze through
  `bot.alerts.snooze` and says so in the account's thread.
- 👍 / 👎 store a usefulness vote with the rule the entry carries (`bot.alerts.votes`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View
from sqlmodel import Session, select

from bot.accounts import cards
from bot.accounts.snooze import PERIOD_DAYS, REASONS, SnoozeError, snooze_account
from bot.accounts.votes import VoteError, parse_vote_option, record_vote
from bot.plays import service as plays
from bot.plays import views
from bot.slack import blocks as render
from bot.slack.deps import SlackDeps
from bot.slack.errors import BadInput, UnknownAccount
from bot.slack.identity import email_for_user
from bot.slack.ids import ActionId, ButtonValue, CallbackId
from bot.slack.middleware import ModalMetadata, Origin, parse_button
from bot.slack.replies import guarded, record_in_thread, tell
from storage.models import Account, Feedback

REASON = ("snooze-reason", "snooze-reason-input")
PERIOD = ("snooze-period", "snooze-period-input")
NOTE = ("snooze-note", "snooze-note-input")


def snooze_modal(account_name: str, meta: ModalMetadata) -> dict[str, Any]:
    """Why and for how long; "other" needs a note (checked on submit)."""
    blocks = [
        SectionBlock(
            text=render.mrkdwn(
                f"Snooze *{render.clip(account_name, 200)}*: no alerts, not in your digest"
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


def _meta(value: ButtonValue, origin: Origin) -> ModalMetadata:
    return ModalMetadata(
        **value.model_dump(exclude_none=True),
        channel=origin.channel if origin.updatable else None,
        ts=origin.ts if origin.updatable else None,
        thread_ts=origin.thread_ts if origin.updatable else None,
        response_url=origin.response_url if origin.ephemeral else None,
        home=origin.home or None,
    )


def _account(session: Session, value: ButtonValue) -> Account:
    account = session.get(Account, value.account_id or "")
    if account is None:
        raise UnknownAccount(f"Account `{value.account_id}` no longer exists.")
    return account


def _user(body: dict[str, Any]) -> str:
    return (body.get("user") or {}).get("id") or "unknown"


def _check(
    deps: SlackDeps, session: Session, client: WebClient, user: str, account: Account
) -> None:
    email = email_for_user(session, client, user, deps.clock)
    deps.policy.check(user_id=user, email=email, owners=[account.owner], what=account.name)


def _say(
    body: dict[str, Any], client: WebClient, respond: Respond | None, message: dict[str, Any]
) -> None:
    """Answer the clicker only."""
    if respond is not None and body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, **message)
        return
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get(
        "id"
    )
    if channel:
        client.chat_postEphemeral(channel=channel, user=_user(body), **message)
    else:
        client.chat_postMessage(channel=_user(body), **message)


def not_a_risk(
    deps: SlackDeps, session: Session, account: Account, as_of: dt.date, user: str
) -> bool:
    """Record "not a risk" for the model unless already given for that day; True if new."""
    from scoring.churn.feedback import record_feedback

    with deps.one_at_a_time(account.account_id):
        given = session.exec(
            select(Feedback).where(
                Feedback.account_id == account.account_id,
                Feedback.as_of == as_of,
                Feedback.label == "not_a_risk",
            )
        ).first()
        if given is not None:
            return False
        record_feedback(session, account.account_id, as_of, "not_a_risk", user, "slack", deps.clock)
        session.commit()
    return True


def register(app: App, deps: SlackDeps) -> None:
    def ack_now(ack: Ack) -> None:
        ack()

    @guarded
    def menu(
        body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        value, origin = parse_button(body)
        user = _user(body)
        with deps.session() as session:
            account = _account(session, value)
            choice = value.option
            if choice == "details":
                _say(
                    body,
                    client,
                    respond,
                    cards.account_card(session, account, deps.library, deps.clock.now()),
                )
                return
            _check(deps, session, client, user, account)
            meta = _meta(value, origin)
            if choice == "start":
                names = plays.suggested_names(deps, session, account.account_id)
                view = views.start_modal(account.name, names, meta)
            elif choice == "assign":
                view = views.assign_modal(account.name, meta)
            elif choice == "snooze":
                view = snooze_modal(account.name, meta)
            elif choice == "not_a_risk":
                as_of = (
                    dt.date.fromisoformat(value.as_of) if value.as_of else deps.clock.now().date()
                )
                if not_a_risk(deps, session, account, as_of, user):
                    record_in_thread(session, client, origin, account.account_id, user,
                                     f"marked {account.name} not a risk (feedback for the churn model)")  # fmt: skip
                    tell(body, client, respond, f"Marked {account.name} not a risk: it leaves your digest for 30 days and the model learns from it.")  # fmt: skip
                else:
                    tell(body, client, respond, f"{account.name} was already marked not a risk.")
                return
            else:
                raise BadInput(f"Unknown choice {choice!r}.")
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def vote(useful: bool) -> Any:
        @guarded
        def handle(
            body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
        ) -> None:
            value, _origin = parse_button(body)
            try:
                kind, rule = parse_vote_option(value.option)
            except VoteError as error:
                raise BadInput(str(error)) from None
            as_of = dt.date.fromisoformat(value.as_of) if value.as_of else deps.clock.now().date()
            with deps.session() as session:
                account = _account(session, value)
                _row, changed = record_vote(session, kind=kind, rule=rule, account_id=account.account_id,
                                            as_of=as_of, by=_user(body), useful=useful, clock=deps.clock)  # fmt: skip
                session.commit()
            word = "useful" if useful else "not useful"
            text = f"Thanks — noted as {word}." if changed else f"Already noted as {word}."
            tell(body, client, respond, text + " It tunes which alerts csbot sends.")

        return handle

    def validate_snooze(ack: Ack, body: dict[str, Any]) -> None:
        reason = views.submitted(body, REASON)
        if reason == "other" and not (views.submitted(body, NOTE) or "").strip():
            ack(response_action="errors", errors={NOTE[0]: "Say why when the reason is “other”"})
            return
        ack()

    @guarded
    def submit_snooze(
        body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        value, origin = parse_button(body)
        user = _user(body)
        reason = views.submitted(body, REASON) or "other"
        days = int(views.submitted(body, PERIOD) or 7)
        note = views.submitted(body, NOTE)
        with deps.session() as session:
            account = _account(session, value)
            _check(deps, session, client, user, account)
            try:
                row = snooze_account(session, account_id=account.account_id, reason=reason,
                                     days=days, by=user, clock=deps.clock, note=note)  # fmt: skip
            except SnoozeError as error:
                raise BadInput(str(error)) from None
            session.commit()
            label = REASONS[reason] + (f": {note}" if note else "")
            record_in_thread(session, client, origin, account.account_id, user,
                             f"snoozed {account.name} until {render.when(row.until)} — {label}")  # fmt: skip

    app.action(ActionId.ACCOUNT_MENU)(ack=ack_now, lazy=[menu])
    app.action(ActionId.VOTE_USEFUL)(ack=ack_now, lazy=[vote(True)])
    app.action(ActionId.VOTE_NOT_USEFUL)(ack=ack_now, lazy=[vote(False)])
    app.view(CallbackId.SNOOZE_REASON)(ack=validate_snooze, lazy=[submit_snooze])
