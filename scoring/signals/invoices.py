"""Billing signals: invoices overdue and unpaid at D, how late, and late payments in a year.

An account with no invoice known by D has no billing data: its signals are NaN (no
evidence), not 0 ("nothing overdue" would be good news nobody observed). Health drops
them and spreads their weight over the signals it has (`scoring.health`).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, and_, case, func, or_, select

from scoring.signals.sql import restrict, table
from scoring.signals.window import Population, Window
from storage.models import Invoice


def invoice_signals(
    conn: Connection, win: Window, population: Population, account_ids: list[str] | None
) -> dict[str, np.ndarray]:
    inv = table(Invoice)
    known = or_(inv.c.issued_at.is_(None), inv.c.issued_at < win.end)
    unpaid = or_(inv.c.paid_at.is_(None), inv.c.paid_at >= win.end)
    overdue = and_(unpaid, inv.c.due_at < win.start)
    late = and_(
        inv.c.due_at >= win.back(365),
        inv.c.paid_at.is_not(None),
        inv.c.paid_at < win.end,
        inv.c.paid_at > inv.c.due_at,
    )
    # Invoices that fell due in the 90 days before D: paid late, or still unpaid past due.
    due_90 = and_(inv.c.due_at >= win.back(90), inv.c.due_at < win.start)
    late_90 = and_(
        due_90,
        or_(
            inv.c.paid_at.is_(None),
            inv.c.paid_at >= win.end,
            inv.c.paid_at > inv.c.due_at,
        ),
    )
    rows = conn.execute(
        restrict(
            select(
                inv.c.account_id,
                func.sum(case((due_90, 1), else_=0)).label("due_90"),
                func.sum(case((late_90, 1), else_=0)).label("late_90"),
                func.sum(case((overdue, 1), else_=0)).label("overdue"),
                func.min(case((overdue, inv.c.due_at))).label("oldest_due"),
                func.sum(case((late, 1), else_=0)).label("late"),
            )
            .where(known)
            .group_by(inv.c.account_id),
            inv.c.account_id,
            account_ids,
        )
    ).all()
    ids = [r.account_id for r in rows]
    oldest = population.scatter(ids, win.days_before_end([r.oldest_due for r in rows]))
    overdue_count = population.scatter(ids, [r.overdue for r in rows], fill=np.nan)
    billed = ~np.isnan(overdue_count)
    return {
        "overdue_invoices": overdue_count,
        # Days past due counted to D itself (an invoice due yesterday is 1 day overdue).
        "days_overdue": np.where(
            np.isnan(oldest), np.where(billed, 0.0, np.nan), np.ceil(oldest - 1)
        ),
        "late_invoices_365d": population.scatter(ids, [r.late for r in rows], fill=np.nan),
        # The payment trajectory: the share of the last 90 days' invoices paid late or not
        # at all (NaN when none fell due).
        "late_invoice_share_90d": population.scatter(
            ids,
            [r.late_90 / r.due_90 if r.due_90 else None for r in rows],
            fill=np.nan,
        ),
    }
