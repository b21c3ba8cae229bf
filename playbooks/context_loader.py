"""Build every account's `AccountContext` for one date in a handful of bulk queries.

One query per table (grouped by account in SQL), never one per account, so evaluating all
triggers for 10,000 accounts stays in seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TypeVarTuple

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

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
_Ts = TypeVarTuple("_Ts")


def load_contexts(
    session: Session,
    as_of: dt.date,
    *,
    health_windows: Iterable[int] = (),
    account_ids: list[str] | None = None,
) -> list[AccountContext]:
    """Contexts for every account scored on `as_of` (or only `account_ids`)."""
    query = select(AccountScore).where(col(AccountScore.as_of) == as_of)
    if account_ids is not None:
        query = query.where(col(AccountScore.account_id).in_(account_ids))
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


def _restrict(query: Select[*_Ts], column: Mapped[str], ids: list[str] | None) -> Select[*_Ts]:
    return query if ids is None else query.where(column.in_(ids))


def _previous_bands(session: Session, as_of: dt.date, ids: list[str] | None) -> dict[str, str]:
    earliest = as_of - dt.timedelta(days=PREVIOUS_SCORE_LOOKBACK_DAYS)
    latest = _restrict(
        select(col(AccountScore.account_id), func.max(col(AccountScore.as_of)).label("prev"))
        .where(col(AccountScore.as_of) < as_of, col(AccountScore.as_of) >= earliest)
        .group_by(col(AccountScore.account_id)),
        col(AccountScore.account_id),
        ids,
    ).subquery()
    rows = session.execute(
        select(col(AccountScore.account_id), col(AccountScore.band)).join(
            latest,
            and_(
                col(AccountScore.account_id) == latest.c.account_id,
                col(AccountScore.as_of) == latest.c.prev,
            ),
        )
    )
    return {account_id: band for account_id, band in rows}


def _peak_health(
    session: Session, as_of: dt.date, days: int, ids: list[str] | None
) -> dict[str, float]:
    query = (
        select(col(AccountScore.account_id), func.max(col(AccountScore.health)))
        .where(
            col(AccountScore.as_of) < as_of,
            col(AccountScore.as_of) >= as_of - dt.timedelta(days=days),
        )
        .group_by(col(AccountScore.account_id))
    )
    return dict(session.execute(_restrict(query, col(AccountScore.account_id), ids)).all())


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
            select(col(Account.account_id), col(Account.segment), col(Account.created_at)),
            col(Account.account_id),
            ids,
        )
    )
    for account_id, segment, created_at in rows:
        segments[account_id] = segment
        if created_at is not None:
            created[account_id] = created_at.date()

    first_contract = dict(
        session.execute(
            _restrict(
                select(col(Contract.account_id), func.min(col(Contract.start_date))).group_by(
                    col(Contract.account_id)
                ),
                col(Contract.account_id),
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
                col(LifecycleEvent.account_id),
                col(LifecycleEvent.detail),
                func.min(col(LifecycleEvent.occurred_at)),
            )
            .where(
                col(LifecycleEvent.kind) == "milestone", col(LifecycleEvent.occurred_at) < cutoff
            )
            .group_by(col(LifecycleEvent.account_id), col(LifecycleEvent.detail)),
            col(LifecycleEvent.account_id),
            ids,
        )
    )
    for account_id, detail, first in rows:
        fact(account_id).milestones[detail or "milestone"] = first.date()

    is_open = or_(col(Ticket.closed_at).is_(None), col(Ticket.closed_at) >= cutoff)
    rows = session.execute(
        _restrict(
            select(
                col(Ticket.account_id),
                func.max(col(Ticket.opened_at)),
                func.count().filter(is_open),
            )
            .where(col(Ticket.priority) == "urgent", col(Ticket.opened_at) < cutoff)
            .group_by(col(Ticket.account_id)),
            col(Ticket.account_id),
            ids,
        )
    )
    for account_id, last_opened, still_open in rows:
        fact(account_id).last_urgent_ticket_at = last_opened
        fact(account_id).urgent_open = int(still_open or 0)

    rows = session.execute(
        _restrict(
            select(col(Contact.account_id), col(Contact.role), func.max(col(Contact.left_at)))
            .where(
                col(Contact.left_at).is_not(None),
                col(Contact.left_at) < cutoff,
                col(Contact.role).in_(("champion", "executive_sponsor")),
            )
            .group_by(col(Contact.account_id), col(Contact.role)),
            col(Contact.account_id),
            ids,
        )
    )
    for account_id, role, left_at in rows:
        if role == "champion":
            fact(account_id).champion_left_at = left_at
        else:
            fact(account_id).sponsor_left_at = left_at

    latest_detractor = _restrict(
        select(
            col(SurveyResponse.account_id), func.max(col(SurveyResponse.submitted_at)).label("at")
        )
        .where(
            col(SurveyResponse.kind) == "nps",
            col(SurveyResponse.score) <= DETRACTOR_MAX,
            col(SurveyResponse.submitted_at) < cutoff,
        )
        .group_by(col(SurveyResponse.account_id)),
        col(SurveyResponse.account_id),
        ids,
    ).subquery()
    rows = session.execute(
        select(
            col(SurveyResponse.account_id),
            col(SurveyResponse.submitted_at),
            func.min(col(SurveyResponse.score)),
        )
        .join(
            latest_detractor,
            and_(
                col(SurveyResponse.account_id) == latest_detractor.c.account_id,
                col(SurveyResponse.submitted_at) == latest_detractor.c.at,
            ),
        )
        .where(col(SurveyResponse.kind) == "nps")
        .group_by(col(SurveyResponse.account_id), col(SurveyResponse.submitted_at))
    )
    for account_id, at, score in rows:
        fact(account_id).last_detractor_at = at
        fact(account_id).last_detractor_score = score

    unpaid = or_(col(Invoice.paid_at).is_(None), col(Invoice.paid_at) >= cutoff)
    rows = session.execute(
        _restrict(
            select(col(Invoice.account_id), func.min(col(Invoice.due_at)), func.count())
            .where(unpaid, col(Invoice.due_at) < dt.datetime.combine(as_of, dt.time()))
            .group_by(col(Invoice.account_id)),
            col(Invoice.account_id),
            ids,
        )
    )
    for account_id, oldest_due, count in rows:
        fact(account_id).oldest_overdue_due_at = oldest_due
        fact(account_id).overdue_invoices = int(count)
    return segments, facts
