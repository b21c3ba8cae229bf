"""Preparation in Slack, between the handlers and `playbooks.prep`: build a brief and share
it, queue a QBR draft with its Markdown file, list drafts held for review, post the week's
voice-of-the-customer themes, and re-render each of those messages after a click.

Every message goes through the outbox (`bot.slack.send`); scheduled ones to a person pass
the noise budget (`queue_budgeted`, kinds `qbr` and `drafts`). The QBR message and its file
are two outbox rows: the file row names the message's key (`thread_key`) and the sender
uploads it into that message's thread once the message is posted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.delivery.errors import SlackDeliveryError
from bot.delivery.recipients import mapping_file_of, recipient
from bot.delivery.sender import deliver_now
from bot.prep.messages import (
    DraftView,
    QbrView,
    brief_message,
    drafts_message,
    qbr_filename,
    qbr_message,
    voc_message,
)
from bot.settings import Settings
from bot.slack.deps import RenderContext
from bot.slack.errors import UnknownAccount
from bot.slack.ids import ButtonValue
from bot.slack.send import Where, new_key, queue, queue_budgeted, send
from playbooks.prep.brief import Brief, build_brief
from playbooks.prep.facts import AccountNotFound
from storage.clock import Clock
from storage.enums import MessageKind, OutboxStatus
from storage.models import (
    Account,
    MessageDraft,
    OutboxMessage,
    PlaybookRun,
    QbrDraft,
    QbrLog,
    VocThemeOwner,
)

logger = logging.getLogger(__name__)


# -- the brief ------------------------------------------------------------------------------


def _dm_channel(
    session: Session, owner: str, purpose: str, client: Any, clock: Clock, settings: Settings
) -> str | None:
    """The owner's DM channel, or None when Slack can't reach them (logged by id, once)."""
    try:
        channel, _ = recipient(session, owner, channel=None, client=client, clock=clock,
                               mapping_file=mapping_file_of(settings))  # fmt: skip
    except SlackDeliveryError as error:
        logger.warning("%s: %s unreachable (%s)", purpose, owner, error.code)
        return None
    return channel


def load_brief(
    engine: Engine, account_id: str, as_of: dt.date, library: Mapping[str, Any] | None = None
) -> Brief:
    try:
        return build_brief(engine, account_id, as_of, library)
    except AccountNotFound as error:
        raise UnknownAccount(f"No account `{account_id}`: {error}") from None


def brief_answer(
    engine: Engine,
    account: Account,
    as_of: dt.date,
    library: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ephemeral answer to `/cs brief`: the brief with "Share in channel"."""
    brief = load_brief(engine, account.account_id, as_of, library)
    share = ButtonValue(account_id=account.account_id, as_of=as_of.isoformat())
    return brief_message(brief, share=share)


def share_brief(
    session: Session,
    client: WebClient,
    clock: Clock,
    *,
    account_id: str,
    as_of: dt.date,
    channel: str,
    user: str,
) -> OutboxMessage:
    """Post the brief in `channel` for everyone there, saying who shared it."""
    engine = session.get_bind()
    brief = load_brief(engine, account_id, as_of)  # type: ignore[arg-type]
    message = brief_message(brief, shared_by=user)
    subject = {"account_id": account_id, "as_of": as_of.isoformat(), "shared_by": user}
    return send(session, client, clock, kind=MessageKind.BRIEF, where=Where(channel=channel),
                message=message, subject=subject, account_id=account_id)  # fmt: skip


# -- QBR drafts -----------------------------------------------------------------------------
def qbr_view(session: Session, draft: QbrDraft) -> QbrView:
    account = session.get(Account, draft.account_id)
    log = session.exec(
        select(QbrLog)
        .where(QbrLog.account_id == draft.account_id, col(QbrLog.logged_at) >= draft.created_at)
        .order_by(col(QbrLog.logged_at).desc())
    ).first()
    return QbrView(
        draft_id=draft.id or 0,
        account_id=draft.account_id,
        account_name=account.name if account else draft.account_id,
        meeting=draft.qbr_date,
        figures=len(draft.figures or []),
        markdown=draft.markdown,
        logged_by=log.logged_by if log else None,
        logged_at=log.logged_at if log else None,
        actions=len(log.actions or []) if log else 0,
    )


def render_qbr(
    session: Session, subject: Mapping[str, Any], context: RenderContext
) -> dict[str, Any] | None:
    """The QBR message stored with `{"qbr_draft_id", "mention"}`, from current state."""
    draft = session.get(QbrDraft, int(subject.get("qbr_draft_id") or 0))
    if draft is None:
        return None
    return qbr_message(qbr_view(session, draft), mention=subject.get("mention"))


def qbr_key(draft: QbrDraft) -> str:
    return f"qbr:{draft.account_id}:{draft.qbr_date.isoformat()}"


def file_part(view: QbrView, key: str) -> dict[str, Any]:
    """The outbox payload of the draft's Markdown file, uploaded in message `key`'s thread."""
    return {
        "text": f"QBR draft for {view.account_name} (Markdown)",
        "file": {
            "filename": qbr_filename(view),
            "title": f"QBR draft: {view.account_name} {view.meeting.isoformat()}",
            "content": view.markdown,
        },
        "thread_key": key,
    }


def queue_qbr_file(
    session: Session,
    view: QbrView,
    key: str,
    channel: str,
    clock: Clock,
    not_before: dt.datetime | None,
) -> OutboxMessage:
    part = file_part(view, key)
    return queue(session, kind=MessageKind.QBR_FILE, key=f"{key}:file", channel=channel,
                 message=part, clock=clock, account_id=view.account_id, not_before=not_before,
                 thread_key=key, file=part["file"])  # fmt: skip


def send_qbr(
    session: Session, client: WebClient, clock: Clock, draft: QbrDraft, user: str
) -> OutboxMessage:
    """`/cs qbr`: the draft and its file in the person's DM now (through the outbox)."""
    view = qbr_view(session, draft)
    key = new_key(MessageKind.QBR)
    row = queue(session, kind=MessageKind.QBR, key=key, channel=user, message=qbr_message(view),
                clock=clock, subject={"qbr_draft_id": view.draft_id},
                account_id=view.account_id)  # fmt: skip
    file_row = queue_qbr_file(session, view, key, user, clock, None)
    session.commit()
    engine = session.get_bind()
    for outbox_id in (row.id, file_row.id):
        assert outbox_id is not None
        deliver_now(engine, client, clock, outbox_id)  # type: ignore[arg-type]
    session.refresh(row)
    if row.status == OutboxStatus.FAILED:
        raise SlackDeliveryError(row.last_error or "failed")
    return row


def queue_upcoming_qbrs(
    session: Session, drafts: list[QbrDraft], *, clock: Clock, settings: Settings, client: Any
) -> dict[str, int]:
    """Each new draft of a QBR a week out to its account's owner (DM), through the noise
    budget (kind `qbr`); the file follows in the message's thread. The caller commits."""
    counts: dict[str, int] = defaultdict(int)
    for draft in drafts:
        account = session.get(Account, draft.account_id)
        owner = account.owner if account else None
        if not owner:
            counts["no_owner"] += 1
            continue
        channel = _dm_channel(session, owner, "QBR draft", client, clock, settings)
        if channel is None:
            counts["unreachable"] += 1
            continue
        view = qbr_view(session, draft)
        key = qbr_key(draft)
        rows = queue_budgeted(
            session, kind=MessageKind.QBR, recipient=owner, key=key, channel=channel,
            message=qbr_message(view), clock=clock, settings=settings,
            subject={"qbr_draft_id": view.draft_id}, account_id=draft.account_id,
            items=[{"account_id": draft.account_id, "rule": "qbr_draft"}],
        )  # fmt: skip
        if rows:
            queue_qbr_file(session, view, key, channel, clock, rows[0].next_attempt_at)
        counts["queued" if rows else "held"] += 1
    return dict(counts)


# -- drafts held for review -------------------------------------------------------------------
def draft_views(session: Session, ids: list[int]) -> list[DraftView]:
    rows = session.exec(select(MessageDraft).where(col(MessageDraft.id).in_(ids))).all()
    by_id = {row.id: row for row in rows}
    names = {
        a.account_id: a.name
        for a in session.exec(
            select(Account).where(col(Account.account_id).in_({r.account_id for r in rows}))
        )
    }
    return [
        DraftView(
            draft_id=d.id or 0,
            account_id=d.account_id,
            account_name=names.get(d.account_id, d.account_id),
            subject=d.subject,
            body=d.body,
            status=d.status,
            written_by=d.written_by,
            edited_by=d.edited_by,
            reviewed_by=d.reviewed_by,
            sent_by=d.sent_by,
            sent_at=d.sent_at,
        )  # fmt: skip
        for i in ids
        if (d := by_id.get(i)) is not None
    ]


def render_drafts(
    session: Session, subject: Mapping[str, Any], context: RenderContext
) -> dict[str, Any] | None:
    """The drafts message stored with `{"draft_ids", "mention"}`, from current state."""
    views = draft_views(session, [int(i) for i in subject.get("draft_ids") or []])
    if not views:
        return None
    return drafts_message(views, mention=subject.get("mention"))


def announced_draft_ids(session: Session) -> set[int]:
    """Drafts already shown in a drafts message (queued or sent)."""
    shown: set[int] = set()
    for payload in session.exec(
        select(OutboxMessage.payload).where(OutboxMessage.kind == MessageKind.DRAFTS)
    ):
        shown.update(int(i) for i in (payload.get("subject") or {}).get("draft_ids") or [])
    return shown


def draft_owner(session: Session, draft: MessageDraft) -> str | None:
    run = session.get(PlaybookRun, draft.run_id) if draft.run_id else None
    if run is not None and run.owner:
        return run.owner
    account = session.get(Account, draft.account_id)
    return account.owner if account else None


def queue_review_drafts(
    session: Session, *, clock: Clock, settings: Settings, client: Any, day: dt.date
) -> dict[str, int]:
    """Each person's open drafts not shown to them yet, in one message a day (noise budget
    kind `drafts`); a held message's drafts come again the next day. The caller commits."""
    shown = announced_draft_ids(session)
    waiting = session.exec(
        select(MessageDraft)
        .where(MessageDraft.status == "draft")
        .order_by(col(MessageDraft.created_at), col(MessageDraft.id))
    ).all()
    by_owner: dict[str, list[MessageDraft]] = defaultdict(list)
    for draft in waiting:
        owner = draft_owner(session, draft)
        if draft.id not in shown and owner:
            by_owner[owner.lower()].append(draft)
    counts: dict[str, int] = defaultdict(int)
    for owner, drafts in sorted(by_owner.items()):
        channel = _dm_channel(session, owner, "drafts", client, clock, settings)
        if channel is None:
            counts["unreachable"] += 1
            continue
        ids = [d.id or 0 for d in drafts][:10]
        rows = queue_budgeted(
            session, kind=MessageKind.DRAFTS, recipient=owner,
            key=f"drafts:{owner}:{day.isoformat()}", channel=channel,
            message=drafts_message(draft_views(session, ids)), clock=clock, settings=settings,
            subject={"draft_ids": ids},
            items=[{"account_id": d.account_id, "rule": "draft"} for d in drafts[:10]],
        )  # fmt: skip
        counts["queued" if rows else "held"] += 1
    return dict(counts)


# -- voice of the customer ----------------------------------------------------------------------
def theme_owners(session: Session) -> dict[str, str]:
    return {row.term: row.owner for row in session.exec(select(VocThemeOwner))}


def render_voc(
    session: Session, subject: Mapping[str, Any], context: RenderContext
) -> dict[str, Any] | None:
    """The VoC post stored with `{"report"}` (the week's themes), with today's owners."""
    report = subject.get("report")
    if not isinstance(report, Mapping):
        return None
    return voc_message(report, theme_owners(session))


def queue_voc(
    session: Session, report: Mapping[str, Any], *, channel: str, key: str, clock: Clock,
    settings: Settings,
) -> list[OutboxMessage]:  # fmt: skip
    """The week's themes in the product channel (budget kind `voc`: a channel post)."""
    subject = {"report": dict(report)}
    return queue_budgeted(session, kind=MessageKind.VOC, recipient=channel, key=key,
                          channel=channel, message=voc_message(report, theme_owners(session)),
                          clock=clock, settings=settings, subject=subject)  # fmt: skip
