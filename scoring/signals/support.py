"""Support signals from tickets (and CSAT surveys): volume against baseline, urgent load,
open-ticket age, CSAT and the tone of what customers write (tickets and survey comments).

An account that never opened a ticket by D has no support data: its ticket signals are
NaN (no evidence), not 0 ("no urgent tickets", "no open tickets" would be good news
nobody observed, which gave every account of a book without tickets free health).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, and_, case, func, or_, select

from scoring.config import SignalParams
from scoring.signals.activity import ContactActivity, contact_activity
from scoring.signals.sentiment import compounds
from scoring.signals.sql import restrict, table
from scoring.signals.window import Population, Window
from storage.models import SurveyResponse, Ticket


def support_signals(
    conn: Connection,
    win: Window,
    population: Population,
    params: SignalParams,
    account_ids: list[str] | None,
) -> tuple[dict[str, np.ndarray], ContactActivity]:
    t = table(Ticket)
    opened = t.c.opened_at
    still_open = or_(t.c.closed_at.is_(None), t.c.closed_at >= win.end)
    urgent = t.c.priority.in_(params.urgent_priorities)
    csat_known = and_(t.c.csat.is_not(None), t.c.closed_at >= win.back(90), t.c.closed_at < win.end)

    def count(condition):  # type: ignore[no-untyped-def]
        return func.sum(case((condition, 1), else_=0))

    rows = conn.execute(
        restrict(
            select(
                t.c.account_id,
                count(opened >= win.back(30)).label("recent"),
                count(opened >= win.back(90)).label("quarter"),
                count(and_(urgent, opened >= win.back(30))).label("urgent"),
                count(and_(urgent, still_open)).label("urgent_open"),
                func.min(case((still_open, opened))).label("oldest_open"),
                func.sum(case((csat_known, t.c.csat), else_=0)).label("csat_sum"),
                count(csat_known).label("csat_n"),
            )
            .where(opened < win.end)
            .group_by(t.c.account_id),
            t.c.account_id,
            account_ids,
        )
    ).all()
    ids = [r.account_id for r in rows]
    n = population.n
    out = {
        "tickets_30d": population.scatter(ids, [r.recent for r in rows], fill=np.nan),
        "urgent_tickets_30d": population.scatter(ids, [r.urgent for r in rows], fill=np.nan),
        "urgent_open": population.scatter(ids, [r.urgent_open for r in rows], fill=np.nan),
    }
    has_tickets = ~np.isnan(out["tickets_30d"])
    quarter = population.scatter(ids, [r.quarter for r in rows], fill=np.nan)
    covered = np.clip(np.nan_to_num(population.created_days + 1, nan=90.0), 1, 90)
    out["tickets_baseline_30d"] = quarter * 30.0 / covered
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ticket_volume_change"] = np.where(
            out["tickets_baseline_30d"] > 0,
            out["tickets_30d"] / out["tickets_baseline_30d"] - 1,
            np.where(has_tickets, 0.0, np.nan),
        )
    age = population.scatter(ids, win.days_before_end([r.oldest_open for r in rows]))
    out["open_ticket_age_days"] = np.where(
        np.isnan(age), np.where(has_tickets, 0.0, np.nan), np.floor(age)
    )

    s = table(SurveyResponse)
    survey_rows = conn.execute(
        restrict(
            select(s.c.account_id, func.sum(s.c.score).label("total"), func.count().label("n"))
            .where(s.c.kind == "csat", s.c.submitted_at >= win.back(90), s.c.submitted_at < win.end)
            .group_by(s.c.account_id),
            s.c.account_id,
            account_ids,
        )
    ).all()
    sids = [r.account_id for r in survey_rows]
    total = population.scatter(ids, [r.csat_sum or 0 for r in rows], fill=0.0) + population.scatter(
        sids, [r.total or 0 for r in survey_rows], fill=0.0
    )
    answers = population.scatter(ids, [r.csat_n or 0 for r in rows], fill=0.0) + population.scatter(
        sids, [r.n for r in survey_rows], fill=0.0
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["csat_avg"] = np.where(answers > 0, total / answers, np.nan)

    out["sentiment"] = _sentiment(conn, win, population, account_ids)
    assert all(len(v) == n for v in out.values())

    contact_rows = conn.execute(
        restrict(
            select(
                t.c.account_id,
                t.c.contact_id,
                func.max(opened).label("last"),
                func.max(case((opened >= win.back(30), 1), else_=0)).label("recent"),
                func.max(
                    case((and_(opened >= win.back(90), opened < win.back(30)), 1), else_=0)
                ).label("earlier"),
            )
            .where(opened < win.end, t.c.contact_id.is_not(None))
            .group_by(t.c.account_id, t.c.contact_id),
            t.c.account_id,
            account_ids,
        )
    ).all()
    activity = contact_activity(contact_rows, win)
    return out, activity


def _sentiment(
    conn: Connection, win: Window, population: Population, account_ids: list[str] | None
) -> np.ndarray:
    """Mean VADER compound over ticket subject+body (opened in 90 days) and survey
    comments (submitted in 90 days); NaN when the account wrote nothing."""
    t, s = table(Ticket), table(SurveyResponse)
    tickets = conn.execute(
        restrict(
            select(t.c.account_id, t.c.subject, t.c.body).where(
                t.c.opened_at >= win.back(90), t.c.opened_at < win.end
            ),
            t.c.account_id,
            account_ids,
        )
    ).all()
    comments = conn.execute(
        restrict(
            select(s.c.account_id, s.c.comment).where(
                s.c.comment.is_not(None),
                s.c.submitted_at >= win.back(90),
                s.c.submitted_at < win.end,
            ),
            s.c.account_id,
            account_ids,
        )
    ).all()
    ids: list[str] = []
    texts: list[str] = []
    for account_id, subject, body in tickets:
        text = " ".join(part for part in (subject, body) if part)
        if text.strip():
            ids.append(account_id)
            texts.append(text)
    for account_id, comment in comments:
        if comment and comment.strip():
            ids.append(account_id)
            texts.append(comment)
    if not texts:
        return np.full(population.n, np.nan)
    pos = population.positions(ids)
    counts = population.bincount(pos)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts > 0, population.bincount(pos, compounds(texts)) / counts, np.nan)
