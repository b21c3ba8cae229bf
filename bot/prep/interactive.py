"""Preparation buttons and modals: Share a brief in the channel, Log QBR (outcomes and
action items that become owned playbook steps), Edit and Mark sent on drafts held for
review, and Route a voice-of-the-customer theme to an owner.

Handlers stay thin: they read the click, check the person may act, call
`playbooks.prep` with the clicking user as actor and source "slack", then re-render the
clicked message from the database. A double click on Mark sent meets the draft's state
check (`InvalidTransition`) and shows the current state instead of logging twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt import Ack, App

from bot.prep import views
from bot.prep.service import share_brief
from bot.slack import blocks as render
from bot.slack import format as fmt
from bot.slack.deps import SlackDeps
from bot.slack.errors import BadInput
from bot.slack.format import escape
from bot.slack.identity import email_for_user
from bot.slack.ids import ActionId, CallbackId
from bot.slack.interaction import SOURCE, Interaction, meta_for, on, on_submit
from playbooks.errors import NotFound
from playbooks.prep import drafts
from playbooks.prep.qbr import ActionItem, log_qbr
from scoring.voc.service import route_theme
from storage.models import Account, MessageDraft, QbrDraft


def _draft(it: Interaction) -> MessageDraft:
    return drafts.get_draft(it.session, int(it.value.option or 0))


def _qbr(it: Interaction) -> QbrDraft:
    draft = it.session.get(QbrDraft, int(it.value.option or 0))
    if draft is None:
        raise NotFound("that QBR draft no longer exists")
    return draft


def _account(it: Interaction, account_id: str) -> Account:
    account = it.session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} no longer exists")
    it.check_account(account)
    return account


def _draft_state(draft: MessageDraft) -> str:
    if draft.status == "sent":
        return f"“{escape(draft.subject)}” was already marked sent by {fmt.who(draft.sent_by)}."
    return f"“{escape(draft.subject)}” is {escape(draft.status)}."


def validate_qbr(ack: Ack, body: dict[str, Any]) -> None:
    _found, errors = views.parse_qbr(body)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()


def validate_edit(ack: Ack, body: dict[str, Any]) -> None:
    _found, errors = views.parse_edit(body)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()


def register(app: App, deps: SlackDeps) -> None:
    @on(app, deps, ActionId.BRIEF_SHARE)
    def brief_share(it: Interaction) -> None:
        channel = it.origin.channel
        if not channel or not it.value.account_id:
            raise BadInput("csbot cannot tell which channel to share the brief in.")
        as_of = dt.date.fromisoformat(it.value.as_of or it.now.date().isoformat())
        share_brief(it.session, it.client, it.deps.clock, account_id=it.value.account_id,
                    as_of=as_of, channel=channel, user=it.user)  # fmt: skip
        it.say(render.notice(f"Shared the brief in <#{channel}>."), replace=True)

    @on(app, deps, ActionId.QBR_LOG)
    def qbr_log(it: Interaction) -> None:
        draft = _qbr(it)
        account = _account(it, draft.account_id)
        it.open_modal(
            views.log_qbr_modal(account.name, draft.qbr_date, meta_for(it.value, it.origin))
        )

    @on_submit(app, deps, CallbackId.QBR_LOG, validate=validate_qbr)
    def qbr_logged(it: Interaction) -> None:
        found, _errors = views.parse_qbr(it.body)
        draft = _qbr(it)
        account = _account(it, draft.account_id)
        if found is None:
            return
        items = [
            ActionItem(
                title, email_for_user(it.session, it.client, user, it.deps.clock) or user, due
            )  # fmt: skip
            for title, user, due in found.actions
        ]
        log = log_qbr(it.session, account=account.account_id, held_on=found.held_on,
                      outcomes=found.outcomes, actions=items, actor=it.user, source=SOURCE,
                      clock=it.deps.clock)  # fmt: skip
        it.session.commit()
        it.refresh()
        steps = f"{len(items)} action item{'s' if len(items) != 1 else ''}"
        it.tell(f"Logged the QBR with {escape(account.name)} on {found.held_on:%b %d}: {steps} "
                f"now open steps of its qbr_actions run (log {log.id}).")  # fmt: skip

    @on(app, deps, ActionId.DRAFT_EDIT)
    def draft_edit(it: Interaction) -> None:
        draft = _draft(it)
        if draft.status != "draft":
            return it.stale(_draft_state(draft))
        account = _account(it, draft.account_id)
        meta = meta_for(it.value, it.origin)
        it.open_modal(views.edit_draft_modal(account.name, draft.subject, draft.body, meta))
        return None

    @on_submit(app, deps, CallbackId.DRAFT_EDIT, validate=validate_edit)
    def draft_edited(it: Interaction) -> None:
        found, _errors = views.parse_edit(it.body)
        draft = _draft(it)
        _account(it, draft.account_id)
        if found is None:
            return
        subject, body = found
        if it.change(lambda: drafts.edit_draft(it.session, draft.id or 0, body=body,
                                               subject=subject, actor=it.user, source=SOURCE,
                                               clock=it.deps.clock)):  # fmt: skip
            it.refresh()

    @on(app, deps, ActionId.DRAFT_SENT)
    def draft_sent(it: Interaction) -> None:
        draft = _draft(it)
        if draft.status != "draft":
            return it.stale(_draft_state(draft))
        _account(it, draft.account_id)
        if it.change(lambda: drafts.mark_sent(it.session, draft.id or 0, actor=it.user,
                                              source=SOURCE, clock=it.deps.clock)):  # fmt: skip
            it.refresh()
            it.tell(f"Marked “{escape(draft.subject)}” sent; logged as a touchpoint.")
        return None

    @on(app, deps, ActionId.VOC_ROUTE)
    def voc_route(it: Interaction) -> None:
        term, chosen = it.value.option, it.chosen_user
        if not term or not chosen:
            raise BadInput("Choose a person to route the theme to.")
        route_theme(it.session, term, chosen, actor=it.user, clock=it.deps.clock)
        it.session.commit()
        it.refresh()
        it.tell(f"Themes about “{escape(term)}” now go to {fmt.who(chosen)}.")
