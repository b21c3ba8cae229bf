"""Buttons, selects and modal submissions: ack at once, act in a lazy listener, then
update the message in place from database state and note it in the account's thread.

Every change goes through `playbooks.engine` (or the feedback/snooze writers) with the
clicking user as actor and source "slack". A stale or double click meets the engine's
conditional update (`InvalidTransition`) or an "already so" check, and is answered with the
current state instead of acting twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.accounts import cards
from bot.accounts import service as book
from bot.app.refresh import refresh_origin
from bot.home.interactive import publish_home
from bot.plays import service as plays
from bot.plays import views
from bot.slack import blocks as render
from bot.slack.deps import SlackDeps
from bot.slack.errors import BadInput, UnknownAccount
from bot.slack.identity import email_for_user
from bot.slack.ids import ActionId, ButtonValue, CallbackId
from bot.slack.middleware import ModalMetadata, Origin, parse_button
from bot.slack.replies import guarded, publish, record_in_thread, tell
from storage.models import Account, AuditLog, Feedback, PlaybookRun, PlaybookStep, Snooze

SOURCE = "slack"
Handler = Callable[["Interaction"], None]


def ident(value: int | None) -> int:
    """A stored row's id (never None once loaded from the database)."""
    if value is None:
        raise ValueError("row has no id")
    return value


def ack_now(ack: Ack) -> None:
    ack()


def button_of(context: BoltContext, body: dict[str, Any]) -> tuple[ButtonValue, Origin]:
    if isinstance(context.get("button"), ButtonValue) and isinstance(context.get("origin"), Origin):
        return context["button"], context["origin"]
    return parse_button(body)


def actor_of(body: dict[str, Any]) -> str:
    return (body.get("user") or {}).get("id") or body.get("user_id") or "unknown"


def meta_for(value: ButtonValue, origin: Origin, **update: Any) -> ModalMetadata:
    """What a modal must remember: the button's record and the message to update after."""
    return ModalMetadata(
        **value.model_dump(exclude_none=True),
        channel=origin.channel if origin.updatable else None,
        ts=origin.ts if origin.updatable else None,
        thread_ts=origin.thread_ts if origin.updatable else None,
        response_url=origin.response_url if origin.ephemeral else None,
        home=origin.home or None,
        screen=origin.screen,
    ).model_copy(update=update)


class Interaction:
    """One click or submission being handled: who, what, where, with a session open."""

    def __init__(self, deps: SlackDeps, session: Session, body: dict[str, Any], client: WebClient,
                 respond: Respond | None, context: BoltContext) -> None:  # fmt: skip
        self.deps, self.session, self.body, self.client, self.respond = (
            deps,
            session,
            body,
            client,
            respond,
        )
        self.value, self.origin = button_of(context, body)
        self.user = actor_of(body)
        self._email: str | None | bool = False

    @property
    def email(self) -> str | None:
        if self._email is False:
            self._email = email_for_user(self.session, self.client, self.user, self.deps.clock)
        return self._email  # type: ignore[return-value]

    @property
    def now(self) -> dt.datetime:
        return self.deps.clock.now()

    def account(self) -> Account:
        account = self.session.get(Account, self.value.account_id or "")
        if account is None:
            raise UnknownAccount(f"Account `{self.value.account_id}` no longer exists.")
        return account

    def run(self) -> PlaybookRun:
        from playbooks.errors import NotFound

        run = self.session.get(PlaybookRun, self.value.run_id or 0)
        if run is None:
            raise NotFound(f"playbook run {self.value.run_id} no longer exists")
        return run

    def step(self) -> PlaybookStep:
        from playbooks.errors import NotFound

        step = self.session.get(PlaybookStep, self.value.step_id or 0)
        if step is None:
            raise NotFound(f"step {self.value.step_id} no longer exists")
        return step

    def check_account(self, account: Account) -> None:
        self.deps.policy.check(
            user_id=self.user, email=self.email, owners=[account.owner], what=account.name
        )

    def check_run(self, run: PlaybookRun, step: PlaybookStep | None = None) -> None:
        account = self.session.get(Account, run.account_id)
        owners = [account.owner if account else None, run.owner, step.owner if step else None]
        what = f"{run.playbook} on {account.name if account else run.account_id}"
        self.deps.policy.check(user_id=self.user, email=self.email, owners=owners, what=what)

    def refresh(self) -> None:
        if self.origin.home:
            publish_home(self.deps, self.client, self.user)
            return
        if self.origin.screen == "my-steps":
            if self.email:
                mine = plays.my_steps_message(
                    self.session, self.email, self.user, self.deps.library, self.now
                )
                publish(self.client, self.origin, mine, self.respond)
            return
        refresh_origin(self.session, self.client, self.origin, self.value,
                       library=self.deps.library, now=self.now, respond=self.respond)  # fmt: skip

    def refresh_account(self, account: Account) -> None:
        """Show a newly started run on the message the start came from (not the Home's)."""
        refresh_origin(self.session, self.client, self.origin, ButtonValue(account_id=account.account_id),
                       library=self.deps.library, now=self.now, respond=self.respond)  # fmt: skip

    def record(self, text: str) -> None:
        record_in_thread(
            self.session, self.client, self.origin, self.value.account_id, self.user, text
        )

    def tell(self, text: str) -> None:
        tell(self.body, self.client, self.respond, text)

    def stale(self, text: str) -> None:
        """A click on something that already changed: show the current state, do nothing."""
        self.refresh()
        self.tell(text)

    def audit(self, action: str, entity: str, entity_id: str, **detail: Any) -> None:
        self.session.add(AuditLog(at=self.now, actor=self.user, source=SOURCE, action=action,
                                  entity=entity, entity_id=entity_id, detail=detail))  # fmt: skip


def step_state(step: PlaybookStep) -> str:
    return f"“{step.title}” is already {step.status} (by {render.who(step.done_by)} {render.when(step.done_at)})."


def register(app: App, deps: SlackDeps) -> None:
    def on(action_id: ActionId) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            def work(
                body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
            ) -> None:
                with deps.session() as session:
                    handler(Interaction(deps, session, body, client, respond, context))

            work.__name__ = f"act_{handler.__name__}"
            app.action(action_id)(ack=ack_now, lazy=[guarded(work)])
            return handler

        return decorate

    # -- steps and runs ----------------------------------------------------------------------

    def open_step_modal(it: Interaction, status: str) -> None:
        step, run = it.step(), it.run()
        if step.status != "open":
            return it.stale(step_state(step))
        if run.status != "active":
            return it.stale(f"This {run.playbook} run is {run.status}.")
        it.check_run(run, step)
        meta = meta_for(it.value, it.origin, option=status)
        it.client.views_open(
            trigger_id=it.body["trigger_id"], view=views.step_note_modal(step.title, status, meta)
        )

    @on(ActionId.STEP_DONE)
    def step_done(it: Interaction) -> None:
        open_step_modal(it, "done")

    @on(ActionId.STEP_SKIP)
    def step_skip(it: Interaction) -> None:
        open_step_modal(it, "skipped")

    @on(ActionId.STEP_ASSIGN)
    def step_assign(it: Interaction) -> None:
        from playbooks import engine

        step, run = it.step(), it.run()
        if step.status != "open":
            return it.stale(step_state(step))
        it.check_run(run, step)
        chosen = (it.body.get("actions") or [{}])[0].get("selected_user")
        if not chosen:
            raise BadInput("Choose a person to assign the step to.")
        owner = email_for_user(it.session, it.client, chosen, it.deps.clock) or chosen
        if (step.owner or "").lower() == owner.lower():
            return it.stale(f"“{step.title}” is already assigned to {render.who(chosen)}.")
        engine.assign(
            it.session,
            owner=owner,
            actor=it.user,
            source=SOURCE,
            clock=it.deps.clock,
            step_id=ident(step.id),
        )
        it.session.commit()
        it.refresh()
        it.record(f"assigned “{step.title}” to {render.who(chosen)}")

    @on(ActionId.RUN_LOG_OUTCOME)
    def run_log_outcome(it: Interaction) -> None:
        run = it.run()
        if run.status != "active":
            return it.stale(f"This {run.playbook} run is already {run.status}.")
        it.check_run(run)
        account = it.session.get(Account, run.account_id)
        modal = views.outcome_modal(
            account.name if account else run.account_id, run.playbook, meta_for(it.value, it.origin)
        )
        it.client.views_open(trigger_id=it.body["trigger_id"], view=modal)

    @on(ActionId.RUN_SNOOZE)
    def run_snooze(it: Interaction) -> None:
        from playbooks import engine

        run = it.run()
        days = int(it.value.option or 7)
        until = it.now + dt.timedelta(days=days)
        if run.status != "active":
            return it.stale(f"This {run.playbook} run is {run.status}.")
        it.check_run(run)
        with it.deps.one_at_a_time(run.account_id):
            it.session.refresh(run)
            if run.snoozed_until and run.snoozed_until.date() >= until.date():
                return it.stale(
                    f"{run.playbook} is already snoozed until {render.when(run.snoozed_until)}."
                )
            engine.snooze_run(
                it.session,
                run_id=ident(run.id),
                until=until,
                actor=it.user,
                source=SOURCE,
                clock=it.deps.clock,
            )
            it.session.commit()
        it.refresh()
        it.record(f"snoozed {run.playbook} for {days} days")

    @on(ActionId.RUN_CLOSE)
    def run_close(it: Interaction) -> None:
        from playbooks import engine
        from playbooks.errors import InvalidTransition

        run = it.run()
        it.check_run(run)
        try:
            engine.close_run(
                it.session, run_id=ident(run.id), actor=it.user, source=SOURCE, clock=it.deps.clock
            )
            it.session.commit()
        except InvalidTransition as error:
            it.session.rollback()
            return it.stale(str(error))
        it.refresh()
        it.record(f"closed {run.playbook}")

    # -- accounts ----------------------------------------------------------------------------

    @on(ActionId.START_PLAYBOOK)
    def account_start(it: Interaction) -> None:
        account = it.account()
        if it.value.option:
            run, started = plays.start_playbook(it.deps, it.session, it.client, account=account,
                                                playbook_name=it.value.option, user_id=it.user,
                                                email=it.email, origin=it.origin)  # fmt: skip
            if started:
                it.refresh_account(account)
            else:
                return it.stale(
                    f"{run.playbook} is already running on {account.name} (run {run.id})."
                )
            return None
        it.check_account(account)
        names = plays.suggested_names(it.deps, it.session, account.account_id)
        modal = views.start_modal(account.name, names, meta_for(it.value, it.origin))
        it.client.views_open(trigger_id=it.body["trigger_id"], view=modal)
        return None

    @on(ActionId.ASSIGN_ACCOUNT)
    def account_assign(it: Interaction) -> None:
        account = it.account()
        it.check_account(account)
        chosen = (it.body.get("actions") or [{}])[0].get("selected_user")
        if chosen:  # the digest's and card's users_select
            return assign_account(it, account, chosen)
        modal = views.assign_modal(account.name, meta_for(it.value, it.origin))
        it.client.views_open(trigger_id=it.body["trigger_id"], view=modal)
        return None

    @on(ActionId.SNOOZE)
    def account_snooze(it: Interaction) -> None:
        account = it.account()
        it.check_account(account)
        days = int(it.value.option or 7)
        until = it.now + dt.timedelta(days=days)
        with it.deps.one_at_a_time(account.account_id):
            current = it.session.exec(
                select(Snooze).where(
                    Snooze.account_id == account.account_id,
                    Snooze.until >= until.replace(hour=0, minute=0, second=0, microsecond=0),
                )
            ).first()
            if current is not None:
                return it.stale(
                    f"{account.name} is already snoozed until {render.when(current.until)} by {render.who(current.by)}."
                )
            it.session.add(
                Snooze(
                    account_id=account.account_id,
                    until=until,
                    by=it.user,
                    created_at=it.now,
                    reason="snoozed from Slack",
                )
            )
            it.audit("snooze", "account", account.account_id, until=until.isoformat(), days=days)
            it.session.commit()
        it.refresh()
        it.record(f"snoozed {account.name} for {days} days")

    @on(ActionId.NOT_A_RISK)
    def account_not_a_risk(it: Interaction) -> None:
        from scoring.churn.feedback import record_feedback

        account = it.account()
        it.check_account(account)
        as_of = dt.date.fromisoformat(it.value.as_of) if it.value.as_of else it.now.date()
        with it.deps.one_at_a_time(account.account_id):
            given = it.session.exec(
                select(Feedback).where(
                    Feedback.account_id == account.account_id,
                    Feedback.as_of == as_of,
                    Feedback.label == "not_a_risk",
                )
            ).first()
            if given is not None:
                return it.stale(
                    f"{account.name} was already marked not a risk by {render.who(given.by)} {render.when(given.created_at)}."
                )
            record_feedback(
                it.session, account.account_id, as_of, "not_a_risk", it.user, SOURCE, it.deps.clock
            )
            it.session.commit()
        it.refresh()
        it.record(f"marked {account.name} not a risk (feedback for the churn model)")

    @on(ActionId.DETAILS)
    def account_details(it: Interaction) -> None:
        _say(it, cards.account_card(it.session, it.account(), it.deps.library))

    @on(ActionId.CHOOSE_ACCOUNT)
    def account_choose(it: Interaction) -> None:
        account = it.account()
        option = it.value.option or "card"
        if option.startswith("start:"):
            run, started = plays.start_playbook(it.deps, it.session, it.client, account=account,
                                          playbook_name=option[6:], user_id=it.user, email=it.email,
                                          origin=Origin(response_url=it.origin.response_url, ephemeral=True))  # fmt: skip
            verb = "Started" if started else "Already running:"
            return _say(
                it,
                render.notice(f"{verb} {run.playbook} on {account.name} (run {run.id})."),
                replace=True,
            )
        if option == "status":
            return _say(
                it,
                plays.status_message(it.session, account, it.deps.library, it.now),
                replace=True,
            )
        return _say(it, cards.account_card(it.session, account, it.deps.library), replace=True)

    # -- modal submissions -------------------------------------------------------------------

    def view_work(handler: Handler) -> Callable[..., None]:
        def work(
            body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
        ) -> None:
            with deps.session() as session:
                it = Interaction(deps, session, body, client, None, context)
                if it.origin.response_url:  # the modal was opened from an ephemeral message
                    it.respond = Respond(response_url=it.origin.response_url)
                handler(it)

        work.__name__ = f"submit_{handler.__name__}"
        return guarded(work)

    def submit_step_note(it: Interaction) -> None:
        from playbooks import engine
        from playbooks.errors import InvalidTransition

        step, run = it.step(), it.run()
        it.check_run(run, step)
        status = it.value.option if it.value.option in ("done", "skipped") else "done"
        note = views.submitted(it.body, views.NOTE)
        try:
            engine.advance_step(it.session, step_id=ident(step.id), status=status, actor=it.user, source=SOURCE,
                                clock=it.deps.clock, note=note)  # fmt: skip
            it.session.commit()
        except InvalidTransition as error:
            it.session.rollback()
            return it.stale(str(error))
        it.refresh()
        it.record(f"marked “{step.title}” {status}" + (f": {note}" if note else ""))

    def submit_outcome(it: Interaction) -> None:
        from playbooks import engine
        from playbooks.errors import InvalidTransition

        run = it.run()
        it.check_run(run)
        kind = views.submitted(it.body, views.OUTCOME)
        arr = views.parse_arr(views.submitted(it.body, views.ARR))
        note = views.submitted(it.body, views.NOTE)
        try:
            engine.log_outcome(it.session, run_id=ident(run.id), kind=kind, actor=it.user, source=SOURCE,
                               clock=it.deps.clock, arr_change=arr, note=note)  # fmt: skip
            it.session.commit()
        except InvalidTransition as error:
            it.session.rollback()
            return it.stale(str(error))
        it.refresh()
        change = f" ({render.money(arr)} ARR)" if arr is not None else ""
        it.record(f"logged outcome *{kind.replace('_', ' ')}*{change} for {run.playbook}")

    def submit_start(it: Interaction) -> None:
        account = it.account()
        name = views.submitted(it.body, views.PLAYBOOK)
        run, started = plays.start_playbook(it.deps, it.session, it.client, account=account, playbook_name=name,
                                            user_id=it.user, email=it.email, origin=it.origin)  # fmt: skip
        if started:
            it.refresh_account(account)
        else:
            it.stale(f"{run.playbook} is already running on {account.name} (run {run.id}).")

    def submit_assign(it: Interaction) -> None:
        account = it.account()
        it.check_account(account)
        assign_account(it, account, views.submitted(it.body, views.ASSIGNEE))

    def validate_outcome(ack: Ack, body: dict[str, Any]) -> None:
        try:
            views.parse_arr(views.submitted(body, views.ARR))
        except ValueError:
            ack(
                response_action="errors",
                errors={views.ARR[0]: "Enter a number of dollars, e.g. 12000, -5000 or 7.5k"},
            )
            return
        ack()

    def validate_note(ack: Ack, body: dict[str, Any]) -> None:
        meta = parse_button(body)[0]
        if meta.option == "skipped" and not (views.submitted(body, views.NOTE) or "").strip():
            ack(response_action="errors", errors={views.NOTE[0]: "Say why the step is skipped"})
            return
        ack()

    app.view(CallbackId.STEP_NOTE)(ack=validate_note, lazy=[view_work(submit_step_note)])
    app.view(CallbackId.LOG_OUTCOME)(ack=validate_outcome, lazy=[view_work(submit_outcome)])
    app.view(CallbackId.START_PLAYBOOK)(ack=ack_now, lazy=[view_work(submit_start)])
    app.view(CallbackId.ASSIGN)(ack=ack_now, lazy=[view_work(submit_assign)])


def assign_account(it: Interaction, account: Account, chosen: str) -> None:
    """Give the account's open plays to `chosen` (a Slack user); a no-op when they have them."""
    from playbooks import engine

    runs = book.active_runs(it.session, [account.account_id]).get(account.account_id, [])
    if not runs:
        raise BadInput(f"{account.name} has no open playbook to assign; start one first.")
    owner = email_for_user(it.session, it.client, chosen, it.deps.clock) or chosen
    with it.deps.one_at_a_time(account.account_id):
        for run in runs:
            it.session.refresh(run)
        moving = [run for run in runs if (run.owner or "").lower() != owner.lower()]
        if not moving:
            return it.stale(
                f"{account.name}'s open plays are already assigned to {render.who(chosen)}."
            )
        for run in moving:
            engine.assign(
                it.session,
                owner=owner,
                actor=it.user,
                source=SOURCE,
                clock=it.deps.clock,
                run_id=ident(run.id),
            )
        it.session.commit()
    it.refresh()
    it.record(f"assigned {account.name}'s open plays to {render.who(chosen)}")
    return None


def _say(it: Interaction, message: dict[str, Any], replace: bool = False) -> None:
    """Answer the clicker only: through the response_url when there is one."""
    if it.respond is not None and it.body.get("response_url"):
        it.respond(response_type="ephemeral", replace_original=replace, **message)
        return
    channel = it.origin.channel
    if channel:
        it.client.chat_postEphemeral(channel=channel, user=it.user, **message)
    else:
        it.client.chat_postMessage(channel=it.user, **message)
