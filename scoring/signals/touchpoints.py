"""Relationship signals from CRM touchpoints: two-way contact, QBRs, email latency,
conversation breadth and momentum.

A touchpoint counts as two-way when the customer took part: an inbound email, or a call,
meeting or QBR that was held. Outbound emails count toward momentum (our effort) but not
toward a contact's activity.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, and_, case, func, or_, select

from scoring.signals.activity import ContactActivity, contact_activity
from scoring.signals.sql import restrict, table
from scoring.signals.window import Population, Window
from storage.models import Touchpoint

RESPONSE_CAP_HOURS = 14 * 24


def touchpoint_signals(
    conn: Connection, win: Window, population: Population, account_ids: list[str] | None
) -> tuple[dict[str, np.ndarray], ContactActivity]:
    tp = table(Touchpoint)
    at = tp.c.occurred_at
    held = tp.c.status == "held"
    two_way = or_(tp.c.kind == "email_in", and_(held, tp.c.kind.in_(("call", "meeting", "qbr"))))
    is_qbr = tp.c.kind == "qbr"

    def count(condition):  # type: ignore[no-untyped-def]
        return func.sum(case((condition, 1), else_=0))

    rows = conn.execute(
        restrict(
            select(
                tp.c.account_id,
                func.max(case((two_way, at))).label("last_two_way"),
                count(and_(is_qbr, held, at >= win.back(365))).label("qbr_held"),
                count(
                    and_(is_qbr, tp.c.status.in_(("missed", "cancelled")), at >= win.back(365))
                ).label("qbr_missed"),
                count(and_(held, at >= win.back(21))).label("recent"),
                count(and_(held, at >= win.back(42), at < win.back(21))).label("before"),
                func.count(
                    func.distinct(case((and_(two_way, at >= win.back(90)), tp.c.contact_id)))
                ).label("contacts"),
            )
            .where(at < win.end)
            .group_by(tp.c.account_id),
            tp.c.account_id,
            account_ids,
        )
    ).all()
    ids = [r.account_id for r in rows]
    out = {
        "days_since_two_way_touchpoint": population.scatter(
            ids, win.days_before_end([r.last_two_way for r in rows])
        ),
        "qbrs_held_365d": population.scatter(ids, [r.qbr_held for r in rows], fill=0.0),
        "qbrs_missed_365d": population.scatter(ids, [r.qbr_missed for r in rows], fill=0.0),
        "touchpoints_21d": population.scatter(ids, [r.recent for r in rows], fill=0.0),
        "touchpoints_prev_21d": population.scatter(ids, [r.before for r in rows], fill=0.0),
        "active_contacts_90d": population.scatter(ids, [r.contacts for r in rows], fill=0.0),
    }
    out["days_since_two_way_touchpoint"] = np.floor(out["days_since_two_way_touchpoint"])
    scheduled = out["qbrs_held_365d"] + out["qbrs_missed_365d"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["qbr_attendance"] = np.where(scheduled > 0, out["qbrs_held_365d"] / scheduled, np.nan)
    out["touchpoint_momentum"] = (
        out["touchpoints_21d"] - out["touchpoints_prev_21d"]
    ) / np.maximum(out["touchpoints_prev_21d"], 1.0)
    out["email_response_hours"] = _response_hours(conn, win, population, account_ids)

    contact_rows = conn.execute(
        restrict(
            select(
                tp.c.account_id,
                tp.c.contact_id,
                func.max(at).label("last"),
                func.max(case((at >= win.back(30), 1), else_=0)).label("recent"),
                func.max(case((and_(at >= win.back(90), at < win.back(30)), 1), else_=0)).label(
                    "earlier"
                ),
            )
            .where(two_way, at < win.end, tp.c.contact_id.is_not(None))
            .group_by(tp.c.account_id, tp.c.contact_id),
            tp.c.account_id,
            account_ids,
        )
    ).all()
    activity = contact_activity(contact_rows, win)
    return out, activity


def _response_hours(
    conn: Connection, win: Window, population: Population, account_ids: list[str] | None
) -> np.ndarray:
    """Mean hours from each email_out in 90 days to the next email_in by the end of D,
    each capped at 14 days; an unanswered email counts the hours elapsed so far."""
    out_tp = table(Touchpoint)
    in_tp = out_tp.alias("reply_tp")
    reply = (
        select(func.min(in_tp.c.occurred_at))
        .where(
            in_tp.c.account_id == out_tp.c.account_id,
            in_tp.c.kind == "email_in",
            in_tp.c.occurred_at > out_tp.c.occurred_at,
            in_tp.c.occurred_at < win.end,
        )
        .scalar_subquery()
    )
    rows = conn.execute(
        restrict(
            select(out_tp.c.account_id, out_tp.c.occurred_at, reply.label("reply")).where(
                out_tp.c.kind == "email_out",
                out_tp.c.occurred_at >= win.back(90),
                out_tp.c.occurred_at < win.end,
            ),
            out_tp.c.account_id,
            account_ids,
        )
    ).all()
    if not rows:
        return np.full(population.n, np.nan)
    sent = win.days_before_end([r.occurred_at for r in rows])
    replied = win.days_before_end([r.reply for r in rows])
    hours = np.where(np.isnan(replied), sent, sent - replied) * 24.0
    hours = np.minimum(hours, RESPONSE_CAP_HOURS)
    pos = population.positions([r.account_id for r in rows])
    counts = population.bincount(pos)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts > 0, population.bincount(pos, hours) / counts, np.nan)
