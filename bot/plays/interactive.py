"""Playbook buttons and modals: a step's Done / Skip / Assign, a run's Log outcome / Snooze /
Close, and Start playbook and Assign on an account's row.

Every change goes through `playbooks.engine` with the clicking user as actor and source
"slack"; a stale or double click meets the engine's conditional update (`InvalidTransition`)
or an "already so" check and is answered with the current state instead of acting twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt import Ack, App

from bot.accounts import service as accounts
from bot.plays import views
from bot.plays.service import start_playbook, suggested_names, title_of
from bot.slack import format as fmt
from bot.slack.deps import SlackDeps
from bot.slack.errors import BadInput
from bot.slack.format import escape
from bot.slack.identity import email_for_user
from bot.slack.ids import ActionId, ButtonValue, CallbackId
from bot.slack.interaction import SOURCE, Interaction, meta_for, on, on_submit
from bot.slack.middleware import parse_button
from playbooks import engine
from storage.enums import RunStatus, StepStatus
from storage.models import Account, PlaybookStep


def ident(value: int | None) -> int:
    """A stored row's id (never None once loaded from the database)."""
    if value is None:
        raise ValueError("row has no id")
    return value


def step_state(step: PlaybookStep) -> str:
    return (
        f"“{escape(step.title)}” is already {step.status} "
        f"(by {fmt.who(step.done_by)} {fmt.when(step.done_at)})."
    )


def open_step_modal(it: Interaction, status: StepStatus) -> None:
    step, run = it.step(), it.run()
    if step.status != StepStatus.OPEN:
        return it.stale(step_state(step))
    if run.status != RunStatus.ACTIVE:
        return it.stale(
            f"This {escape(title_of(it.deps.library, run.playbook))} run is {run.status}."
        )
    it.check_run(run, step)
    meta = meta_for(it.value, it.origin, option=status)
    it.open_modal(views.step_note_modal(step.title, status, meta))
    return None


def start_from(it: Interaction, account: Account, name: str) -> None:
    """Start `name` on `account` from a click or the start modal, then redraw the message."""
    run, started = start_playbook(it.deps, it.session, it.client, account=account,
                                  playbook_name=name, user_id=it.user, email=it.email,
                                  origin=it.origin)  # fmt: skip
    if not started:
        return it.stale(
            f"{escape(title_of(it.deps.library, run.playbook))} is already running on "
            f"{escape(account.name)} (run {run.id})."
        )
    it.refresh(ButtonValue(account_id=account.account_id, message=it.value.message))
    return None


def assign_account(it: Interaction, account: Account, chosen: str) -> None:
    """Give the account's open plays to `chosen` (a Slack user); a no-op when they have them."""
    runs = accounts.active_runs(it.session, [account.account_id]).get(account.account_id, [])
    if not runs:
        raise BadInput(f"{escape(account.name)} has no open playbook to assign; start one first.")
    owner = email_for_user(it.session, it.client, chosen, it.deps.clock) or chosen
    with it.deps.one_at_a_time(account.account_id):
        for run in runs:
            it.session.refresh(run)
        moving = [run for run in runs if (run.owner or "").lower() != owner.lower()]
        if not moving:
            return it.stale(
                f"{escape(account.name)}'s open plays are already assigned to {fmt.who(chosen)}."
            )
        for run in moving:
            engine.assign(it.session, owner=owner, actor=it.user, source=SOURCE,
                          clock=it.deps.clock, run_id=ident(run.id))  # fmt: skip
        it.session.commit()
    it.refresh()
    it.record(f"assigned {escape(account.name)}'s open plays to {fmt.who(chosen)}")
    return None


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
    if meta.option == StepStatus.SKIPPED and not (views.submitted(body, views.NOTE) or "").strip():
        ack(response_action="errors", errors={views.NOTE[0]: "Say why the step is skipped"})
        return
    ack()


def register(app: App, deps: SlackDeps) -> None:
    @on(app, deps, ActionId.STEP_DONE)
    def step_done(it: Interaction) -> None:
        open_step_modal(it, StepStatus.DONE)

    @on(app, deps, ActionId.STEP_SKIP)
    def step_skip(it: Interaction) -> None:
        open_step_modal(it, StepStatus.SKIPPED)

    @on(app, deps, ActionId.STEP_ASSIGN)
    def step_assign(it: Interaction) -> None:
        step, run = it.step(), it.run()
        if step.status != StepStatus.OPEN:
            return it.stale(step_state(step))
        it.check_run(run, step)
        chosen = it.chosen_user
        if not chosen:
            raise BadInput("Choose a person to assign the step to.")
        owner = email_for_user(it.session, it.client, chosen, it.deps.clock) or chosen
        if (step.owner or "").lower() == owner.lower():
            return it.stale(f"“{escape(step.title)}” is already assigned to {fmt.who(chosen)}.")
        engine.assign(it.session, owner=owner, actor=it.user, source=SOURCE,
                      clock=it.deps.clock, step_id=ident(step.id))  # fmt: skip
        it.session.commit()
        it.refresh()
        it.record(f"assigned “{escape(step.title)}” to {fmt.who(chosen)}")
        return None

    @on(app, deps, ActionId.RUN_LOG_OUTCOME)
    def run_log_outcome(it: Interaction) -> None:
        run = it.run()
        if run.status != RunStatus.ACTIVE:
            return it.stale(f"This {escape(it.title(run))} run is already {run.status}.")
        it.check_run(run)
        account = it.session.get(Account, run.account_id)
        name = account.name if account else run.account_id
        it.open_modal(views.outcome_modal(name, it.title(run), meta_for(it.value, it.origin)))
        return None

    @on(app, deps, ActionId.RUN_SNOOZE)
    def run_snooze(it: Interaction) -> None:
        run = it.run()
        days = int(it.value.option or 7)
        until = it.now + dt.timedelta(days=days)
        if run.status != RunStatus.ACTIVE:
            return it.stale(f"This {escape(it.title(run))} run is {run.status}.")
        it.check_run(run)
        with it.deps.one_at_a_time(run.account_id):
            it.session.refresh(run)
            if run.snoozed_until and run.snoozed_until.date() >= until.date():
                return it.stale(
                    f"{escape(it.title(run))} is already snoozed until {fmt.when(run.snoozed_until)}."
                )
            engine.snooze_run(it.session, run_id=ident(run.id), until=until, actor=it.user,
                              source=SOURCE, clock=it.deps.clock)  # fmt: skip
            it.session.commit()
        it.refresh()
        it.record(f"snoozed {escape(it.title(run))} for {days} days")
        return None

    @on(app, deps, ActionId.RUN_CLOSE)
    def run_close(it: Interaction) -> None:
        run = it.run()
        it.check_run(run)
        if not it.change(
            lambda: engine.close_run(
                it.session, run_id=ident(run.id), actor=it.user, source=SOURCE, clock=it.deps.clock
            )  # fmt: skip
        ):
            return
        it.refresh()
        it.record(f"closed {escape(it.title(run))}")

    @on(app, deps, ActionId.START_PLAYBOOK)
    def account_start(it: Interaction) -> None:
        account = it.account()
        if it.value.option:
            return start_from(it, account, it.value.option)
        it.check_account(account)
        names = suggested_names(it.deps, it.session, account.account_id)
        titles = {name: title_of(it.deps.library, name) for name in names}
        it.open_modal(views.start_modal(account.name, names, meta_for(it.value, it.origin), titles))
        return None

    @on(app, deps, ActionId.ASSIGN_ACCOUNT)
    def account_assign(it: Interaction) -> None:
        account = it.account()
        it.check_account(account)
        if it.chosen_user:  # the digest's and card's users_select
            return assign_account(it, account, it.chosen_user)
        it.open_modal(views.assign_modal(account.name, meta_for(it.value, it.origin)))
        return None

    @on_submit(app, deps, CallbackId.STEP_NOTE, validate_note)
    def submit_step_note(it: Interaction) -> None:
        step, run = it.step(), it.run()
        it.check_run(run, step)
        status = StepStatus.SKIPPED if it.value.option == StepStatus.SKIPPED else StepStatus.DONE
        note = views.submitted(it.body, views.NOTE)
        if not it.change(
            lambda: engine.advance_step(
                it.session,
                step_id=ident(step.id),
                status=status,
                actor=it.user,
                source=SOURCE,
                clock=it.deps.clock,
                note=note,
            )  # fmt: skip
        ):
            return
        it.refresh()
        it.record(f"marked “{escape(step.title)}” {status}" + (f": {escape(note)}" if note else ""))

    @on_submit(app, deps, CallbackId.LOG_OUTCOME, validate_outcome)
    def submit_outcome(it: Interaction) -> None:
        run = it.run()
        it.check_run(run)
        kind = views.submitted(it.body, views.OUTCOME)
        arr = views.parse_arr(views.submitted(it.body, views.ARR))
        note = views.submitted(it.body, views.NOTE)
        if not it.change(
            lambda: engine.log_outcome(
                it.session,
                run_id=ident(run.id),
                kind=kind,
                actor=it.user,
                source=SOURCE,
                clock=it.deps.clock,
                arr_change=arr,
                note=note,
            )  # fmt: skip
        ):
            return
        it.refresh()
        change = f" ({fmt.money(arr)} ARR)" if arr is not None else ""
        it.record(
            f"logged outcome *{escape(kind.replace('_', ' '))}*{change} for {escape(it.title(run))}"
        )

    @on_submit(app, deps, CallbackId.START_PLAYBOOK)
    def submit_start(it: Interaction) -> None:
        start_from(it, it.account(), views.submitted(it.body, views.PLAYBOOK))

    @on_submit(app, deps, CallbackId.ASSIGN)
    def submit_assign(it: Interaction) -> None:
        account = it.account()
        it.check_account(account)
        assign_account(it, account, views.submitted(it.body, views.ASSIGNEE))
