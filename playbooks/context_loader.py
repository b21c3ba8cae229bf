"""Build every account's `AccountContext` for one date in a handful of bulk queries.

One query per table (grouped by account in SQL), never one per account, so evaluating all
triggers for 10,000 accounts stays in seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from playbooks.account_context import AccountContext, EventFacts
from storage.models import (
    Account,
    AccountScore,
    Contact,
    Contract,
    Invoice,
    LifecycleEvent,
    SurveyResponse,
    Ticket,
)

PREVIOUS_SCORE_LOOKBACK_DAYS = 45  # an older score does not count as "the previous band"
DETRACTOR_MAX = 6


def load_contexts(
    session: Session,
    as_of: dt.date,
    *,
    health_windows: Iterable[int] = (),
    account_ids: list[str] | None = None,
) -> list[AccountContext]:
    """Contexts for every account scored on `as_of` (or only `account_ids`)."""
    query = select(AccountScore).where(AccountScore.as_of == as_of)
    if account_ids is not None:
        query = query.where(AccountScore.account_id.in_(account_ids))
    scores = session.scalars(query).all()
    if not scores:
        return []
    ids = None if account_ids is None else list(account_ids)
    previous = _previous_bands(session, as_of, ids)
    peaks = {days: _peak_health(session, as_of, days, ids) for days in set(health_windows)}
    segments, events = _event_facts(session, as_of, ids)
    contexts = []
    for score in scores:
        account_id = score.account_id
        contexts.append(
            AccountContext.from_score(
                score,
                previous_band=previous.get(account_id),
                peak_health={days: peak.get(account_id) for days, peak in peaks.items()},
                events=events.get(account_id) or EventFacts(),
                segment=segments.get(account_id),
            )
        )
    return contexts


def _restrict(query, column, ids: list[str] | None):  # type: ignore[no-untyped-def]
    return query if ids is None else query.where(column.in_(ids))


def _previous_bands(session: Session, as_of: dt.date, ids: list[str] | None) -> dict[str, str]:
    earliest = as_of - dt.timedelta(days=PREVIOUS_SCORE_LOOKBACK_DAYS)
    latest = _restrict(
        select(AccountScore.account_id, func.max(AccountScore.as_of).label("prev"))
        .where(AccountScore.as_of < as_of, AccountScore.as_of >= earliest)
        .group_by(AccountScore.account_id),
        AccountScore.account_id,
        ids,
    ).subquery()
    rows = session.execute(
        select(AccountScore.account_id, AccountScore.band).join(
            latest,
            and_(
                AccountScore.account_id == latest.c.account_id,
                AccountScore.as_of == latest.c.prev,
            ),
        )
    )
    return {account_id: band for account_id, band in rows}


def _peak_health(
    session: Session, as_of: dt.date, days: int, ids: list[str] | None
) -> dict[str, float]:
    query = (
        select(AccountScore.account_id, func.max(AccountScore.health))
        .where(AccountScore.as_of < as_of, AccountScore.as_of >= as_of - dt.timedelta(days=days))
        .group_by(AccountScore.account_id)
    )
    return dict(session.execute(_restrict(query, AccountScore.account_id, ids)).all())


def _event_facts(
    session: Session, as_of: dt.date, ids: list[str] | None
) -> tuple[dict[str, str | None], dict[str, EventFacts]]:
    """Segments and dated facts, each from one grouped query over its table."""
    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    facts: dict[str, EventFacts] = {}

    def fact(account_id: str) -> EventFacts:
        found = facts.get(account_id)
        if found is None:
            found = facts[account_id] = EventFacts()
        return found

    segments: dict[str, str | None] = {}
    created: dict[str, dt.date] = {}
    rows = session.execute(
        _restrict(
            select(Account.account_id, Account.segment, Account.created_at), Account.account_id, ids
        )
    )
    for account_id, segment, created_at in rows:
        segments[account_id] = segment
        if created_at is not None:
            created[account_id] = created_at.date()

    first_contract = dict(
        session.execute(
            _restrict(
                select(Contract.account_id, func.min(Contract.start_date)).group_by(
                    Contract.account_id
                ),
                Contract.account_id,
                ids,
            )
        ).all()
    )
    for account_id in created.keys() | first_contract.keys():
        starts = [d for d in (created.get(account_id), first_contract.get(account_id)) if d]
        fact(account_id).start_date = min(starts)

    rows = session.execute(
        _restrict(
            select(
                LifecycleEvent.account_id,
                LifecycleEvent.detail,
                func.min(LifecycleEvent.occurred_at),
            )
            .where(LifecycleEvent.kind == "milestone", LifecycleEvent.occurred_at < cutoff)
            .group_by(LifecycleEvent.account_id, LifecycleEvent.detail),
            LifecycleEvent.account_id,
            ids,
        )
    )
    for account_id, detail, first in rows:
        fact(account_id).milestones[detail or "milestone"] = first.date()

    is_open = or_(Ticket.closed_at.is_(None), Ticket.closed_at >= cutoff)
    rows = session.execute(
        _restrict(
            select(
                Ticket.account_id,
                func.max(Ticket.opened_at),
                func.count().filter(is_open),
            )
            .where(Ticket.priority == "urgent", Ticket.opened_at < cutoff)
            .group_by(Ticket.account_id),
            Ticket.account_id,
            ids,
        )
    )
    for account_id, last_opened, still_open in rows:
        fact(account_id).last_urgent_ticket_at = last_opened
        fact(account_id).urgent_open = int(still_open or 0)

    rows = session.execute(
        _restrict(
            select(Contact.account_id, Contact.role, func.max(Contact.left_at))
            .where(
                Contact.left_at.is_not(None),
                Contact.left_at < cutoff,
                Contact.role.in_(("champion", "executive_sponsor")),
            )
            .group_by(Contact.account_id, Contact.role),
            Contact.account_id,
            ids,
        )
    )
    for account_id, role, left_at in rows:
        if role == "champion":
            fact(account_id).champion_left_at = left_at
        else:
            fact(account_id).sponsor_left_at = left_at

    latest_detractor = _restrict(
        select(SurveyResponse.account_id, func.max(SurveyResponse.submitted_at).label("at"))
        .where(
            SurveyResponse.kind == "nps",
            SurveyResponse.score <= DETRACTOR_MAX,
            SurveyResponse.submitted_at < cutoff,
        )
        .group_by(SurveyResponse.account_id),
        SurveyResponse.account_id,
        ids,
    ).subquery()
    rows = session.execute(
        select(
            SurveyResponse.account_id, SurveyResponse.submitted_at, func.min(SurveyResponse.score)
        )
        .join(
            latest_detractor,
            and_(
                SurveyResponse.account_id == latest_detractor.c.account_id,
                SurveyResponse.submitted_at == latest_detractor.c.at,
            ),
        )
        .where(SurveyResponse.kind == "nps")
        .group_by(SurveyResponse.account_id, SurveyResponse.submitted_at)
    )
    for account_id, at, score in rows:
        fact(account_id).last_detractor_at = at
        fact(account_id).last_detractor_score = score

    unpaid = or_(Invoice.paid_at.is_(None), Invoice.paid_at >= cutoff)
    rows = session.execute(
        _restrict(
            select(Invoice.account_id, func.min(Invoice.due_at), func.count())
            .where(unpaid, Invoice.due_at < dt.datetime.combine(as_of, dt.time()))
            .group_by(Invoice.account_id),
            Invoice.account_id,
            ids,
        )
    )
    for account_id, oldest_due, count in rows:
        fact(account_id).oldest_overdue_due_at = oldest_due
        fact(account_id).overdue_invoices = int(count)
    return segments, facts
