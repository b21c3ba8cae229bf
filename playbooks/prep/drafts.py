"""Emails proposed by playbook steps, held as drafts for a person to review and send.

csbot never sends them. `propose_drafts` turns every open `message` step of an active run
into a draft (once per step; the writer may rewrite the template); a person edits it
(`edit_draft`), reviews it (`review_draft`) and, having sent it from their own mail,
marks it sent (`mark_sent`), which logs an `email_out` touchpoint. Every change is in the
audit log and the draft keeps who edited, reviewed and sent it.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from playbooks.audit import check_source
from playbooks.errors import InvalidTransition, NotFound, PlaybookError
from playbooks.prep.writer import Writer, WriteRequest
from storage.audit import audit
from storage.clock import Clock
from storage.enums import RunStatus, StepStatus
from storage.models import (
    Account,
    Contact,
    MessageDraft,
    PlaybookRun,
    PlaybookStep,
    Touchpoint,
)


def purpose_of(step_title: str) -> str:
    title = step_title.lower()
    if "follow-up" in title or "follow up" in title:
        return "follow_up"
    if "check" in title:
        return "check_in"
    return "message"


def propose_drafts(
    session: Session, *, clock: Clock, writer: Writer | None = None, account_id: str | None = None
) -> list[MessageDraft]:
    """A draft for every open message step (of active runs) that has none yet."""
    query = (
        select(PlaybookStep, PlaybookRun)
        .join(PlaybookRun, col(PlaybookRun.id) == col(PlaybookStep.run_id))
        .where(
            col(PlaybookRun.status) == RunStatus.ACTIVE,
            col(PlaybookStep.status) == StepStatus.OPEN,
            col(PlaybookStep.kind) == "message",
            col(PlaybookStep.message).is_not(None),
            ~col(PlaybookStep.id).in_(
                select(col(MessageDraft.step_id)).where(col(MessageDraft.step_id).is_not(None))
            ),
        )
        .order_by(col(PlaybookStep.due_at))
    )
    if account_id is not None:
        query = query.where(col(PlaybookRun.account_id) == account_id)
    created = []
    now = clock.now()
    for step, run in session.exec(query).all():
        template = step.message or ""
        text, written_by = template, "template"
        if writer is not None:
            written = writer.write(_request(session, run, step, template))
            text, written_by = written.text, written.written_by
        draft = MessageDraft(
            account_id=run.account_id,
            run_id=run.id,
            step_id=step.id,
            purpose=purpose_of(step.title),
            subject=step.title[:256],
            body=text,
            template_body=template,
            written_by=written_by,
            created_at=now,
            updated_at=now,
        )
        session.add(draft)
        created.append(draft)
    session.flush()
    return created


def _request(session: Session, run: PlaybookRun, step: PlaybookStep, text: str) -> WriteRequest:
    account = session.get(Account, run.account_id)
    people = session.exec(select(Contact).where(col(Contact.account_id) == run.account_id)).all()
    facts = {"account": account.name if account else run.account_id, "step": step.title}
    if step.instructions:
        facts["intent"] = step.instructions
    return WriteRequest(
        account_id=run.account_id,
        purpose=purpose_of(step.title),
        template_text=text,
        facts=facts,
        names=tuple(p.name for p in people if p.name)
        + ((account.owner,) if account and account.owner else ()),
        emails=tuple(p.email for p in people if p.email),
    )


def get_draft(session: Session, draft_id: int) -> MessageDraft:
    draft = session.get(MessageDraft, draft_id)
    if draft is None:
        raise NotFound(f"draft {draft_id} does not exist")
    return draft


def _open(session: Session, draft_id: int, doing: str) -> MessageDraft:
    draft = get_draft(session, draft_id)
    if draft.status != "draft":
        raise InvalidTransition(f"cannot {doing} draft {draft_id}: it is {draft.status}")
    return draft


def drafts_for(session: Session, account_id: str, status: str = "draft") -> list[MessageDraft]:
    return list(
        session.exec(
            select(MessageDraft)
            .where(col(MessageDraft.account_id) == account_id, col(MessageDraft.status) == status)
            .order_by(col(MessageDraft.created_at))
        ).all()
    )


def edit_draft(
    session: Session,
    draft_id: int,
    *,
    body: str,
    subject: str | None = None,
    actor: str,
    source: str,
    clock: Clock,
) -> MessageDraft:
    """Replace a draft's text (the template's text is kept beside it)."""
    check_source(source)
    if not body.strip():
        raise PlaybookError("a draft cannot be empty")
    draft = _open(session, draft_id, "edit")
    draft.body = body
    if subject is not None and subject.strip():
        draft.subject = subject.strip()[:256]
    draft.edited_by, draft.updated_at = actor, clock.now()
    session.add(draft)
    _audit(session, draft, "draft.edited", actor, source, clock)
    return draft


def review_draft(
    session: Session, draft_id: int, *, actor: str, source: str, clock: Clock
) -> MessageDraft:
    """Record that `actor` read and approved the draft."""
    check_source(source)
    draft = _open(session, draft_id, "review")
    draft.reviewed_by, draft.reviewed_at = actor, clock.now()
    draft.updated_at = draft.reviewed_at
    session.add(draft)
    _audit(session, draft, "draft.reviewed", actor, source, clock)
    return draft


def mark_sent(
    session: Session,
    draft_id: int,
    *,
    actor: str,
    source: str,
    clock: Clock,
    contact_id: str | None = None,
    sent_at: dt.datetime | None = None,
) -> MessageDraft:
    """The person sent it themselves: mark it sent (reviewed by them unless already
    reviewed) and log an `email_out` touchpoint."""
    check_source(source)
    draft = _open(session, draft_id, "mark sent")
    now = clock.now()
    when = sent_at or now
    touchpoint_id = f"csbot-draft-{draft.id}"
    session.add(
        Touchpoint(
            touchpoint_id=touchpoint_id,
            account_id=draft.account_id,
            contact_id=contact_id or draft.recipient_contact_id,
            occurred_at=when,
            kind="email_out",
            status="held",
        )
    )
    if draft.reviewed_by is None:
        draft.reviewed_by, draft.reviewed_at = actor, now
    draft.status, draft.sent_by, draft.sent_at = "sent", actor, when
    draft.touchpoint_id, draft.updated_at = touchpoint_id, now
    session.add(draft)
    _audit(session, draft, "draft.sent", actor, source, clock)
    return draft


def discard_draft(
    session: Session, draft_id: int, *, actor: str, source: str, clock: Clock
) -> MessageDraft:
    check_source(source)
    draft = _open(session, draft_id, "discard")
    draft.status, draft.updated_at, draft.reviewed_by = "discarded", clock.now(), actor
    draft.reviewed_at = draft.updated_at
    session.add(draft)
    _audit(session, draft, "draft.discarded", actor, source, clock)
    return draft


def _audit(
    session: Session, draft: MessageDraft, action: str, actor: str, source: str, clock: Clock
) -> None:
    session.flush()
    audit(
        session,
        clock=clock,
        actor=actor,
        source=source,
        action=action,
        entity="draft",
        entity_id=draft.id,
        detail={"account_id": draft.account_id, "step_id": draft.step_id},
    )
