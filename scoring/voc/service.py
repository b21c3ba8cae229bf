"""`voc_report`: the period's themes with ARR by tier (plan) and segment, and their owners."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from scoring.voc.themes import Doc, Theme, find_themes
from storage.clock import Clock
from storage.models import Account, Contract, SurveyResponse, Ticket, VocThemeOwner

DEFAULT_DAYS = 90


@dataclass
class ThemeView:
    theme: Theme
    arr: float
    arr_by_tier: dict[str, float]
    arr_by_segment: dict[str, float]
    owner: str | None

    def to_json(self) -> dict[str, Any]:
        t = self.theme
        return {
            "label": t.label,
            "terms": t.terms,
            "volume": t.volume,
            "previous_volume": t.previous,
            "trend": None if t.trend is None else round(t.trend, 4),
            "tone": t.tone,
            "accounts": len(t.accounts),
            "arr": self.arr,
            "arr_by_tier": self.arr_by_tier,
            "arr_by_segment": self.arr_by_segment,
            "examples": t.examples,
            "owner": self.owner,
        }


@dataclass
class VocReport:
    start: dt.date
    end: dt.date
    documents: int
    themes: list[ThemeView]

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "documents": self.documents,
            "themes": [t.to_json() for t in self.themes],
        }


def load_docs(session: Session, start: dt.date, end: dt.date) -> list[Doc]:
    """Survey comments and ticket subjects dated in [start, end]."""
    lo = dt.datetime.combine(start, dt.time())
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    docs = [
        Doc(text, aid, at, "survey", rid)
        for rid, aid, at, text in session.execute(
            select(
                col(SurveyResponse.response_id),
                col(SurveyResponse.account_id),
                col(SurveyResponse.submitted_at),
                col(SurveyResponse.comment),
            ).where(
                col(SurveyResponse.submitted_at) >= lo,
                col(SurveyResponse.submitted_at) < hi,
                col(SurveyResponse.comment).is_not(None),
            )
        )
        if text and text.strip()
    ]
    docs += [
        Doc(text, aid, at, "ticket", tid)
        for tid, aid, at, text in session.execute(
            select(
                col(Ticket.ticket_id),
                col(Ticket.account_id),
                col(Ticket.opened_at),
                col(Ticket.subject),
            ).where(
                col(Ticket.opened_at) >= lo,
                col(Ticket.opened_at) < hi,
                col(Ticket.subject).is_not(None),
            )
        )
        if text and text.strip()
    ]
    return docs


def _accounts(session: Session, day: dt.date) -> dict[str, tuple[float, str, str]]:
    """ARR (latest contract started by `day`), tier (plan) and segment of every account."""
    arr: dict[str, tuple[dt.date, float, str | None]] = {}
    for aid, start, value, plan in session.execute(
        select(
            col(Contract.account_id),
            col(Contract.start_date),
            col(Contract.arr),
            col(Contract.plan),
        ).where(col(Contract.start_date) <= day)
    ):
        if aid not in arr or start > arr[aid][0]:
            arr[aid] = (start, float(value), plan)
    out = {}
    for aid, plan, segment in session.execute(
        select(col(Account.account_id), col(Account.plan), col(Account.segment))
    ):
        _, value, contract_plan = arr.get(aid, (day, 0.0, None))
        out[aid] = (value, contract_plan or plan or "unknown", segment or "unknown")
    return out


def theme_owner(terms: list[str], owners: dict[str, str]) -> str | None:
    """The owner routed by the first of the theme's top terms that has one."""
    for term in terms:
        for word in [term, *term.split()]:
            if word in owners:
                return owners[word]
    return None


def voc_report(
    engine: Engine,
    *,
    start: dt.date | None = None,
    end: dt.date,
    n_themes: int | None = None,
) -> VocReport:
    """Themes of [start, end] (default: the 90 days to `end`), against the period before."""
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    length = (end - start).days + 1
    with Session(engine) as session:
        docs = load_docs(session, start, end)
        previous = load_docs(
            session, start - dt.timedelta(days=length), start - dt.timedelta(days=1)
        )
        accounts = _accounts(session, end)
        owners = {row.term: row.owner for row in session.scalars(select(VocThemeOwner)).all()}
    views = []
    for theme in find_themes(docs, previous, n_themes):
        tier: dict[str, float] = defaultdict(float)
        segment: dict[str, float] = defaultdict(float)
        for aid in theme.accounts:
            value, plan, seg = accounts.get(aid, (0.0, "unknown", "unknown"))
            tier[plan] += value
            segment[seg] += value
        views.append(
            ThemeView(
                theme,
                arr=sum(tier.values()),
                arr_by_tier=dict(sorted(tier.items())),
                arr_by_segment=dict(sorted(segment.items())),
                owner=theme_owner(theme.terms, owners),
            )
        )
    return VocReport(start, end, len(docs), views)


def route_theme(session: Session, term: str, owner: str, *, actor: str, clock: Clock) -> None:
    """Send themes whose top terms include `term` to `owner` (replacing an earlier route)."""
    term = term.strip().lower()
    if not term or not owner.strip():
        raise ValueError("a route needs a term and an owner")
    row = session.get(VocThemeOwner, term)
    if row is None:
        row = VocThemeOwner(term=term, owner=owner.strip(), set_by=actor, set_at=clock.now())
    else:
        row.owner, row.set_by, row.set_at = owner.strip(), actor, clock.now()
    session.add(row)


def unroute_theme(session: Session, term: str) -> bool:
    row = session.get(VocThemeOwner, term.strip().lower())
    if row is None:
        return False
    session.delete(row)
    return True
