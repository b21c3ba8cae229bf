"""One click or modal submission being handled, and how a domain registers its handlers.

A domain's `interactive.py` registers thin handlers with `on` (a button or select) and
`on_submit` (a modal): each acks at once and does its work in a lazy listener, with an
`Interaction` — who clicked, what the button carried, where it came from, a session open.
The handler calls its domain's service, then `refresh()` re-renders the clicked message
from the database and `record()` notes the change in the account's thread. A stale or
double click is answered with the current state (`stale`) instead of acting twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlmodel import Session

from bot.slack import rerender
from bot.slack.deps import SlackDeps
from bot.slack.errors import UnknownAccount
from bot.slack.identity import email_for_user
from bot.slack.ids import ActionId, ButtonValue, CallbackId
from bot.slack.middleware import ModalMetadata, Origin, parse_button
from bot.slack.replies import answer, answer_where, guarded, record_in_thread, tell, user_of
from bot.slack.send import Where
from playbooks.errors import InvalidTransition, NotFound
from storage.enums import MessageKind, Source
from storage.models import Account, PlaybookRun, PlaybookStep

SOURCE = Source.SLACK  # the audit log's source for every change made from Slack


def ack_now(ack: Ack) -> None:
    ack()


def button_of(context: BoltContext, body: dict[str, Any]) -> tuple[ButtonValue, Origin]:
    if isinstance(context.get("button"), ButtonValue) and isinstance(context.get("origin"), Origin):
        return context["button"], context["origin"]
    return parse_button(body)


def meta_for(value: ButtonValue, origin: Origin, **update: Any) -> ModalMetadata:
    """What a modal must remember: the button's record and the message to update after."""
    return ModalMetadata(
        **value.model_dump(exclude_none=True),
        channel=origin.channel if origin.updatable else None,
        ts=origin.ts if origin.updatable else None,
        thread_ts=origin.thread_ts if origin.updatable else None,
        response_url=origin.response_url if origin.ephemeral else None,
        home=origin.home or None,
    ).model_copy(update=update)


class Interaction:
    """One click or submission being handled: who, what, where, with a session open."""

    def __init__(self, deps: SlackDeps, session: Session, body: dict[str, Any],
                 client: WebClient, context: BoltContext) -> None:  # fmt: skip
        self.deps, self.session, self.body, self.client = deps, session, body, client
        self.value, self.origin = button_of(context, body)
        self.user = user_of(body)
        self._email: str | None | bool = False

    @property
    def email(self) -> str | None:
        if self._email is False:
            self._email = email_for_user(self.session, self.client, self.user, self.deps.clock)
        return self._email  # type: ignore[return-value]

    @property
    def now(self) -> dt.datetime:
        return self.deps.clock.now()

    @property
    def trigger_id(self) -> str:
        return str(self.body["trigger_id"])

    @property
    def chosen_user(self) -> str | None:
        """The person picked in a users_select."""
        return (self.body.get("actions") or [{}])[0].get("selected_user")

    # -- what was clicked ----------------------------------------------------------------------
    def account(self) -> Account:
        account = self.session.get(Account, self.value.account_id or "")
        if account is None:
            raise UnknownAccount(f"Account `{self.value.account_id}` no longer exists.")
        return account

    def run(self) -> PlaybookRun:
        run = self.session.get(PlaybookRun, self.value.run_id or 0)
        if run is None:
            raise NotFound(f"playbook run {self.value.run_id} no longer exists")
        return run

    def step(self) -> PlaybookStep:
        step = self.session.get(PlaybookStep, self.value.step_id or 0)
        if step is None:
            raise NotFound(f"step {self.value.step_id} no longer exists")
        return step

    # -- may they -------------------------------------------------------------------------------
    def check_account(self, account: Account) -> None:
        self.deps.policy.check(
            user_id=self.user, email=self.email, owners=[account.owner], what=account.name
        )

    def check_run(self, run: PlaybookRun, step: PlaybookStep | None = None) -> None:
        account = self.session.get(Account, run.account_id)
        owners = [account.owner if account else None, run.owner, step.owner if step else None]
        what = f"{run.playbook} on {account.name if account else run.account_id}"
        self.deps.policy.check(user_id=self.user, email=self.email, owners=owners, what=what)

    # -- changing -----------------------------------------------------------------------------
    def change(self, write: Callable[[], object]) -> bool:
        """Run `write` and commit; False when the change no longer applies
        (`InvalidTransition`: a double click, a stale button): it is rolled back and the
        person is shown the current state."""
        try:
            write()
            self.session.commit()
        except InvalidTransition as error:
            self.session.rollback()
            self.stale(str(error))
            return False
        return True

    # -- answering ----------------------------------------------------------------------------
    def refresh(self, value: ButtonValue | None = None) -> None:
        """Re-render the message the click came from (or the App Home) from the database."""
        rerender.refresh(self.deps, self.session, self.client, self.origin,
                         value or self.value, self.user)  # fmt: skip

    def record(self, text: str) -> None:
        record_in_thread(self.deps, self.session, self.client, self.origin,
                         self.value.account_id, self.user, text)  # fmt: skip

    def tell(self, text: str) -> None:
        tell(self.deps, self.body, self.client, text, response_url=self.origin.response_url)

    def stale(self, text: str) -> None:
        """A click on something that already changed: show the current state, do nothing."""
        self.refresh()
        self.tell(text)

    def say(self, message: dict[str, Any], *, kind: MessageKind = MessageKind.REPLY,
            subject: Mapping[str, Any] | None = None, replace: bool = False) -> None:  # fmt: skip
        """Answer the clicker only: through the response_url when there is one (replacing
        the message clicked when `replace`)."""
        where = answer_where(self.body)
        if replace and where.response_url:
            where = Where(
                channel=where.channel, response_url=where.response_url, replace_original=True
            )
        answer(self.deps, self.session, self.client, where, message, kind=kind, subject=subject)

    def open_modal(self, view: dict[str, Any]) -> None:
        self.client.views_open(trigger_id=self.trigger_id, view=view)


Handler = Callable[[Interaction], None]


def _work(deps: SlackDeps, handler: Handler, prefix: str) -> Callable[..., None]:
    def work(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        with deps.session() as session:
            handler(Interaction(deps, session, body, client, context))

    work.__name__ = f"{prefix}_{handler.__name__}"
    return guarded(deps, work)


def on(app: App, deps: SlackDeps, action_id: ActionId) -> Callable[[Handler], Handler]:
    """Register a handler for a button or select: ack now, act in a lazy listener."""

    def decorate(handler: Handler) -> Handler:
        app.action(action_id)(ack=ack_now, lazy=[_work(deps, handler, "act")])
        return handler

    return decorate


Validator = Callable[..., None]  # bolt passes the arguments it names: ack, body, client, …


def on_submit(
    app: App, deps: SlackDeps, callback_id: CallbackId, validate: Validator | None = None
) -> Callable[[Handler], Handler]:
    """Register a handler for a modal's submission; `validate` acks (with field errors)."""

    def decorate(handler: Handler) -> Handler:
        ack = validate or ack_now
        app.view(callback_id)(ack=ack, lazy=[_work(deps, handler, "submit")])
        return handler

    return decorate
